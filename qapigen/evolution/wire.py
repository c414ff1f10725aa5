"""How the values of an old type relate to those of the new type that
took its place.

Type names are not part of the wire format, so two types are compared by
what their values look like: a pair of enumerations, of objects or of
alternates is compared member by member (see :mod:`.compare`); anything
else is a change of the value's type, judged here on its own: an integer
range growing or shrinking, a string becoming an enumeration, a type
becoming an alternate of itself and something else, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qapigen.evolution import changes as rules
from qapigen.evolution.changes import Rule
from qapigen.ir.members import Variant
from qapigen.ir.types import AlternateType, ArrayType, BuiltinType, EnumType, ObjectType, Type
from qapigen.support.wire import INT_RANGES

#: Pairs of types compared structurally, as (old, new).
Pair = tuple[Type, Type]


@dataclass
class Link:
    """What connecting an old type to a new one found: pairs to compare
    member by member, and changes of the value's type itself, as
    (detail, rule)."""

    pairs: list[Pair] = field(default_factory=list)
    changes: list[tuple[str, Rule]] = field(default_factory=list)


def type_text(typ: Type) -> str:
    """A type as a change's detail shows it: its name, ``[T]`` for
    arrays, ``object`` for anonymous object types."""
    if isinstance(typ, ArrayType):
        return f"[{type_text(typ.element_type)}]"
    if isinstance(typ, ObjectType) and typ.is_implicit():
        return "object"
    return typ.name


def _same_kind(old: Type, new: Type) -> bool:
    return any(
        isinstance(old, kind) and isinstance(new, kind)
        for kind in (EnumType, ObjectType, AlternateType)
    )


def connect(old: Type, new: Type) -> Link:
    """How values of *old* relate to values of *new*."""
    if isinstance(old, ArrayType) and isinstance(new, ArrayType):
        return connect(old.element_type, new.element_type)
    if _same_kind(old, new):
        return Link(pairs=[(old, new)])
    replaced = f"type changed from {type_text(old)} to {type_text(new)}"
    if _is_builtin(new, "any") and not _is_builtin(old, "any"):
        return Link(changes=[(replaced, rules.TO_ANY)])
    if _is_builtin(old, "any") and not _is_builtin(new, "any"):
        return Link(changes=[(replaced, rules.FROM_ANY)])
    if isinstance(old, BuiltinType) and isinstance(new, BuiltinType):
        rule = _builtin_rule(old, new)
        return Link(changes=[] if rule is None else [(replaced, rule)])
    if _is_builtin(old, "str") and isinstance(new, EnumType):
        return Link(changes=[(replaced, rules.STR_TO_ENUM)])
    if isinstance(old, EnumType) and _is_builtin(new, "str"):
        return Link(changes=[(replaced, rules.ENUM_TO_STR)])
    if isinstance(new, AlternateType) and (branch := alternative_for(new, old)):
        inner = connect(old, branch.type)
        inner.changes.insert(0, (f"now alternate {type_text(new)}", rules.TO_ALTERNATE))
        return inner
    if isinstance(old, AlternateType) and (branch := alternative_for(old, new)):
        inner = connect(branch.type, new)
        detail = f"no longer alternate {type_text(old)}, only {type_text(new)}"
        inner.changes.insert(0, (detail, rules.FROM_ALTERNATE))
        return inner
    return Link(changes=[(replaced, rules.TYPE_REPLACED)])


def alternative_for(alternate: AlternateType, typ: Type) -> Variant | None:
    """The branch of *alternate* that values of *typ* would take."""
    qtype = typ.alternate_qtype()
    if qtype is None:
        return None
    for variant in alternate.alternatives.variants:
        if variant.type.alternate_qtype() == qtype:
            return variant
    return None


def _is_builtin(typ: Type, name: str) -> bool:
    return isinstance(typ, BuiltinType) and typ.name == name


def _builtin_rule(old: BuiltinType, new: BuiltinType) -> Rule | None:
    if old.name == new.name:
        return None
    old_range, new_range = INT_RANGES.get(old.name), INT_RANGES.get(new.name)
    if old_range and new_range:
        if old_range == new_range:
            return None  # int and int64
        if new_range[0] <= old_range[0] and old_range[1] <= new_range[1]:
            return rules.INT_WIDENED
        if old_range[0] <= new_range[0] and new_range[1] <= old_range[1]:
            return rules.INT_NARROWED
        return rules.INT_RANGE_MOVED
    if old_range and new.name == "number":
        return rules.INT_TO_NUMBER
    if old.name == "number" and new_range:
        return rules.NUMBER_TO_INT
    return rules.TYPE_REPLACED
