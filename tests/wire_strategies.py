"""Wire values of QAPI types, and what QEMU says about broken ones.

Everything here is derived from the IR (:mod:`qapigen.ir`) alone, never
from generated code, so it can serve as an independent oracle for the
generated ``from_wire``/``to_wire``:

* :func:`wire_values` is a hypothesis strategy of valid JSON values of a
  type: builtins within their ranges, enums by value, structs with every
  required member and some optional ones, unions with a tag and that
  branch's members, alternates with one branch's value, short arrays.
  Recursive types terminate because past :data:`MAX_DEPTH` optional
  members are left out, arrays are empty and alternates prefer scalars.
* :func:`canonical` is the JSON a valid value re-encodes to (the same
  value, with ``number`` members as floats).
* :func:`mutations` lists every single-place change of a valid value that
  QEMU's QObject input visitor rejects, each with QEMU's exact message
  (qapi/qobject-input-visitor.c, qapi/qapi-visit-core.c; see section A.7
  of the behaviour spec).  Only one place changes, so the first failure in
  schema order is the only one and the expected text is unambiguous.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from hypothesis import strategies as st

from qapigen.ir import (
    AlternateType,
    ArrayType,
    BuiltinType,
    EnumType,
    ObjectMember,
    ObjectType,
    Type,
)

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[T]], T]
JSON = Any  # a value as json.loads returns it
Step = str | int  # a member name or a list index

#: Containers deeper than this get no optional members and no array elements.
MAX_DEPTH: Final = 3
#: Deeper than this a type can only be recursive through required members.
HARD_DEPTH: Final = 40

INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "size": (0, 2**64 - 1),
}
#: Visited as int64 and range-checked afterwards (visit_type_intN/uintN):
#: out of range gives "Parameter '<bare name>' expects <C type>".
NARROW_INTS: Final = {
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "uint8": "uint8_t",
    "uint16": "uint16_t",
    "uint32": "uint32_t",
}
UNSIGNED: Final = frozenset({"uint8", "uint16", "uint32", "uint64", "size"})

# JSON kinds as QEMU's QObject types see them; "float" is a non-integral
# QNum (or any number written with a fraction or exponent).
KINDS: Final = ("object", "array", "string", "integer", "float", "boolean", "null")

_SCALAR_KINDS: Final[dict[str, frozenset[str]]] = {
    "str": frozenset({"string"}),
    "bool": frozenset({"boolean"}),
    "null": frozenset({"null"}),
    "number": frozenset({"integer", "float"}),
    "any": frozenset(KINDS),
}


def json_kind(value: JSON) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    assert value is None, value
    return "null"


def accepted_kinds(typ: Type) -> frozenset[str]:
    """The JSON kinds a value of *typ* may have without a type error."""
    if isinstance(typ, BuiltinType):
        return _SCALAR_KINDS.get(typ.name, frozenset({"integer"}))
    if isinstance(typ, EnumType):
        return frozenset({"string"})
    if isinstance(typ, ArrayType):
        return frozenset({"array"})
    if isinstance(typ, ObjectType):
        return frozenset({"object"})
    assert isinstance(typ, AlternateType)
    return frozenset().union(*(_branch_kinds(v.type) for v in typ.alternatives.variants))


def _branch_kinds(typ: Type) -> frozenset[str]:
    """The kinds that select an alternate branch: QEMU switches on the
    QType, so any QNum picks an integer branch too."""
    kinds = accepted_kinds(typ)
    return kinds | {"float"} if "integer" in kinds else kinds


def alternate_branch(typ: AlternateType, value: JSON) -> Type | None:
    """The branch type QEMU picks for *value*, or None (no branch fits)."""
    kind = json_kind(value)
    for variant in typ.alternatives.variants:
        if kind in _branch_kinds(variant.type):
            return variant.type
    return None


def object_members(typ: ObjectType, value: dict[str, JSON]) -> list[ObjectMember]:
    """The members of *value* in QEMU's visiting order: common members,
    then those of the branch its tag selects (recursively, for a union
    branch that is a union itself)."""
    members = list(typ.members)
    if typ.branches is not None:
        tag = value.get(typ.branches.tag_member.name)
        for variant in typ.branches.variants:
            if variant.name == tag:
                assert isinstance(variant.type, ObjectType)
                members += object_members(variant.type, value)
                break
    return members


def declared_names(typ: ObjectType) -> set[str]:
    """Every member name the object may have, whatever its tag."""
    names = {m.name for m in typ.members}
    if typ.branches is not None:
        for variant in typ.branches.variants:
            assert isinstance(variant.type, ObjectType)
            names |= declared_names(variant.type)
    return names


# -- valid values --------------------------------------------------------------

_JSON_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
ANY_VALUES: Final = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)


def _builtin_strategy(name: str) -> st.SearchStrategy[JSON]:
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        # Edges get drawn on purpose: they are where range checks go wrong.
        return st.one_of(st.sampled_from([lo, hi, 0]), st.integers(lo, hi))
    if name == "str":
        return st.text(max_size=8)
    if name == "bool":
        return st.booleans()
    if name == "null":
        return st.none()
    if name == "number":
        return st.one_of(
            st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)
        )
    assert name == "any", name
    return ANY_VALUES


class _Generator:
    def __init__(self, draw: Draw[Any], max_depth: int) -> None:
        self.draw = draw
        self.max_depth = max_depth

    def value(self, typ: Type, depth: int) -> JSON:
        if depth > HARD_DEPTH:
            raise AssertionError(f"{typ.name} recurses through required members only")
        if isinstance(typ, BuiltinType):
            return self.draw(_builtin_strategy(typ.name))
        if isinstance(typ, EnumType):
            return self.draw(st.sampled_from(typ.member_names()))
        if isinstance(typ, ArrayType):
            size = 0 if depth >= self.max_depth else self.draw(st.integers(0, 2))
            return [self.value(typ.element_type, depth + 1) for _ in range(size)]
        if isinstance(typ, ObjectType):
            out: dict[str, JSON] = {}
            self.fill(typ, out, depth)
            return out
        assert isinstance(typ, AlternateType)
        variants = typ.alternatives.variants
        if depth >= self.max_depth:
            scalars = [v for v in variants if not isinstance(v.type, (ObjectType, ArrayType))]
            variants = scalars or variants
        variant = self.draw(st.sampled_from(variants))
        return self.value(variant.type, depth)

    def fill(self, typ: ObjectType, out: dict[str, JSON], depth: int) -> None:
        """Add the members of *typ* (and of one of its branches) to *out*."""
        tag_name = typ.branches.tag_member.name if typ.branches is not None else None
        variant = None
        if typ.branches is not None:
            variant = self.draw(st.sampled_from(typ.branches.variants))
        for member in typ.members:
            if member.name == tag_name:
                assert variant is not None
                out[member.name] = variant.name
            elif not member.optional or (depth < self.max_depth and self.draw(st.booleans())):
                out[member.name] = self.value(member.type, depth + 1)
        if variant is not None:
            assert isinstance(variant.type, ObjectType)
            self.fill(variant.type, out, depth)


@st.composite
def wire_values(
    draw: Draw[Any],
    typ: Type,
    max_depth: int = MAX_DEPTH,
) -> JSON:
    """A valid wire value of *typ*."""
    return _Generator(draw, max_depth).value(typ, 0)


def canonical(typ: Type, value: JSON) -> JSON:
    """What the valid *value* of *typ* re-encodes to: itself, except that
    ``number`` values come back as floats."""
    if isinstance(typ, BuiltinType):
        if typ.name == "number":
            return float(value)
        return value
    if isinstance(typ, ArrayType):
        return [canonical(typ.element_type, v) for v in value]
    if isinstance(typ, ObjectType):
        types = {m.name: m.type for m in object_members(typ, value)}
        return {k: canonical(types[k], v) for k, v in value.items()}
    if isinstance(typ, AlternateType):
        branch = alternate_branch(typ, value)
        assert branch is not None
        return canonical(branch, value)
    return value


# -- positions and mutations -----------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """A value inside a wire value: where it is and what type it has."""

    steps: tuple[Step, ...]
    type: Type
    value: JSON
    # The position is an alternate's branch: its JSON type is not for the
    # branch type to judge (the alternate position already covers that).
    in_alternate: bool = False


def positions(typ: Type, value: JSON, steps: tuple[Step, ...] = ()) -> Iterator[Position]:
    """Every value position of the valid *value*, outermost first."""
    yield Position(steps, typ, value)
    yield from _inner(typ, value, steps)


def _inner(typ: Type, value: JSON, steps: tuple[Step, ...]) -> Iterator[Position]:
    if isinstance(typ, ArrayType):
        for i, element in enumerate(value):
            yield from positions(typ.element_type, element, (*steps, i))
    elif isinstance(typ, ObjectType):
        for member in object_members(typ, value):
            if member.name in value:
                yield from positions(member.type, value[member.name], (*steps, member.name))
    elif isinstance(typ, AlternateType):
        branch = alternate_branch(typ, value)
        assert branch is not None
        yield Position(steps, branch, value, in_alternate=True)
        yield from _inner(branch, value, steps)


@dataclass(frozen=True)
class Context:
    """Where the value under test sits: QEMU's full path and bare name of
    the root.  ("", "null") is a command's arguments object."""

    path: str
    name: str

    def full(self, steps: tuple[Step, ...]) -> str:
        path = self.path
        for step in steps:
            if isinstance(step, int):
                path = f"{path}[{step}]"
            else:
                path = f"{path}.{step}" if path else step
        return path

    def bare(self, steps: tuple[Step, ...]) -> str:
        if not steps:
            return self.name
        last = steps[-1]
        return last if isinstance(last, str) else "null"


CONTEXTS: Final = (
    Context("", "null"),
    Context("arg", "arg"),
    Context("opts.list[1]", "null"),
    Context("a.b-c", "b-c"),
)


@dataclass(frozen=True)
class Mutation:
    """One change of a valid value and QEMU's message for the result.

    ``kind`` is one of missing, extra, wrong-type, bad-enum, out-of-range,
    alternate.  ``make`` draws what to put there (the new value or the new
    key) and returns the mutant with its expected message.  ``target`` is
    the place that changes (for an extra member, a pseudo step inside the
    object); ``order`` is when QEMU's visit reaches it, comparable between
    mutations of the same value (see :func:`first_error`).
    """

    kind: str
    target: tuple[Step, ...]
    order: tuple[int, ...]
    make: Callable[[Draw[Any], JSON], tuple[JSON, str]]


#: Pseudo step: an extra member of the object the steps lead to.
EXTRA: Final = "\0extra"
#: Order of the unexpected-member check: after every declared member.
AFTER_MEMBERS: Final = 1 << 30


def visit_order(typ: Type, value: JSON, steps: tuple[Step, ...]) -> tuple[int, ...]:
    """When QEMU's depth-first visit of *value* reaches *steps*: members by
    their index in visiting order, list elements by index."""
    key: list[int] = []
    for step in steps:
        while isinstance(typ, AlternateType):
            branch = alternate_branch(typ, value)
            assert branch is not None
            typ = branch
        if step == EXTRA:
            key.append(AFTER_MEMBERS)
            break
        if isinstance(typ, ArrayType):
            assert isinstance(step, int)
            key.append(step)
            typ = typ.element_type
        else:
            assert isinstance(typ, ObjectType)
            members = object_members(typ, value)
            index = [m.name for m in members].index(str(step))
            key.append(index)
            typ = members[index].type
        value = value[step]
    return tuple(key)


def independent(a: Mutation, b: Mutation) -> bool:
    """Whether the two mutations change unrelated places (neither inside
    the other), so both can be applied; two extra members of one object
    are not, as QEMU reports the first in hash order."""
    shorter = min(len(a.target), len(b.target))
    return a.target[:shorter] != b.target[:shorter]


def first_error(a: Mutation, b: Mutation) -> Mutation:
    """Which of two independent mutations QEMU reports: the first place
    its visit reaches (members in schema order, a branch's after the
    common ones, unexpected members after all declared ones)."""
    return a if a.order < b.order else b


def _replace(value: JSON, steps: tuple[Step, ...], new: JSON) -> JSON:
    if not steps:
        return new
    out = copy.deepcopy(value)
    target = out
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = new
    return out


def _at(value: JSON, steps: tuple[Step, ...]) -> JSON:
    for step in steps:
        value = value[step]
    return value


def _values_of_kind(kind: str) -> st.SearchStrategy[JSON]:
    return {
        "object": st.sampled_from([{}, {"x": 1}]),
        "array": st.sampled_from([[], [1], ["s"]]),
        "string": st.sampled_from(["", "1", "true", "null", "x"]),
        "integer": st.sampled_from([0, 1, -1, 2**63, 2**64]),
        "float": st.sampled_from([0.0, 1.5, -2.0, 1e300]),
        "boolean": st.booleans(),
        "null": st.none(),
    }[kind]


def wrong_type_message(typ: Type, path: str) -> str:
    """QEMU's text for a value of the wrong JSON type at *path*."""
    if isinstance(typ, BuiltinType) and typ.name in UNSIGNED:
        # qobject_input_type_uint64; QMP's visitor has no type_size, so
        # visit_type_size falls back to it and says uint64 as well.
        return f"Parameter '{path}' expects uint64"
    if isinstance(typ, BuiltinType) and typ.name in INT_RANGES:
        expected = "integer"
    elif isinstance(typ, BuiltinType):
        expected = {"str": "string", "bool": "boolean", "null": "null", "number": "number"}[
            typ.name
        ]
    elif isinstance(typ, EnumType):
        expected = "string"
    elif isinstance(typ, ArrayType):
        expected = "array"
    else:
        assert isinstance(typ, ObjectType)
        expected = "object"
    return f"Invalid parameter type for '{path}', expected: {expected}"


def mutations(typ: Type, value: JSON, ctx: Context) -> list[Mutation]:
    """Every single-place mutation of the valid *value* of *typ* that QEMU
    rejects, when decoded at *ctx*, with a message we know exactly."""
    out: list[Mutation] = []
    for pos in positions(typ, value):
        out += _mutations_at(pos, ctx, lambda steps: visit_order(typ, value, steps))
    return out


def _mutations_at(
    pos: Position, ctx: Context, order: Callable[[tuple[Step, ...]], tuple[int, ...]]
) -> list[Mutation]:
    typ, steps = pos.type, pos.steps
    path, bare = ctx.full(steps), ctx.bare(steps)
    out: list[Mutation] = []

    def add(
        kind: str,
        make: Callable[[Draw[Any], JSON], tuple[JSON, str]],
        target: tuple[Step, ...] = steps,
    ) -> None:
        out.append(Mutation(kind, target, order(target), make))

    if isinstance(typ, ObjectType):
        here: dict[str, JSON] = pos.value
        for member in object_members(typ, here):
            if not member.optional and member.name in here:
                add("missing", _delete(steps, member.name, ctx), target=(*steps, member.name))
        known = declared_names(typ)
        layout = {m.name for m in object_members(typ, here)}
        # Members of other branches are as unexpected as unknown names.
        strangers = sorted(known - layout) + [k for k in ("no-such-member", "X") if k not in known]
        add("extra", _add_member(steps, strangers, ctx), target=(*steps, EXTRA))

    if isinstance(typ, EnumType):
        values = set(typ.member_names())
        add("bad-enum", _bad_enum(steps, values, bare))

    # int64, uint64 and size name the full path, so not at the root.
    if isinstance(typ, BuiltinType) and (
        typ.name in NARROW_INTS or (typ.name in INT_RANGES and path)
    ):
        add("out-of-range", _out_of_range(steps, typ.name, path, bare))

    if isinstance(typ, AlternateType):
        wrong = [k for k in KINDS if k not in accepted_kinds(typ)]
        message = f"Invalid parameter type for '{bare}', expected: {typ.name}"
        add("alternate", _retype(steps, wrong, message))
    elif not pos.in_alternate and path and not (isinstance(typ, BuiltinType) and typ.name == "any"):
        # A path-based message needs a path: QEMU calls the root of a
        # visit "<anonymous>", which QMP never shows (arguments are always
        # an object), so the root of the command-arguments context is left
        # out.
        wrong = sorted(set(KINDS) - accepted_kinds(typ))
        add("wrong-type", _retype(steps, wrong, wrong_type_message(typ, path)))
    return out


def _delete(
    steps: tuple[Step, ...], key: str, ctx: Context
) -> Callable[[Draw[Any], JSON], tuple[JSON, str]]:
    def make(draw: Draw[Any], value: JSON) -> tuple[JSON, str]:
        out = copy.deepcopy(value)
        del _at(out, steps)[key]
        return out, f"Parameter '{ctx.full((*steps, key))}' is missing"

    return make


def _add_member(
    steps: tuple[Step, ...], keys: list[str], ctx: Context
) -> Callable[[Draw[Any], JSON], tuple[JSON, str]]:
    def make(draw: Draw[Any], value: JSON) -> tuple[JSON, str]:
        key = draw(st.sampled_from(keys))
        extra = draw(_JSON_SCALARS)
        out = copy.deepcopy(value)
        _at(out, steps)[key] = extra
        return out, f"Parameter '{ctx.full((*steps, key))}' is unexpected"

    return make


def _retype(
    steps: tuple[Step, ...], kinds: list[str], message: str
) -> Callable[[Draw[Any], JSON], tuple[JSON, str]]:
    def make(draw: Draw[Any], value: JSON) -> tuple[JSON, str]:
        kind = draw(st.sampled_from(kinds))
        return _replace(value, steps, draw(_values_of_kind(kind))), message

    return make


def _bad_enum(
    steps: tuple[Step, ...], values: set[str], bare: str
) -> Callable[[Draw[Any], JSON], tuple[JSON, str]]:
    def make(draw: Draw[Any], value: JSON) -> tuple[JSON, str]:
        candidates = st.one_of(
            st.sampled_from(["", "no-such-value", "X"]),
            st.sampled_from(sorted(values)).map(str.upper),
            st.text(max_size=6),
        )
        bad = draw(candidates.filter(lambda v: v not in values))
        return (
            _replace(value, steps, bad),
            f"Parameter '{bare}' does not accept value '{bad}'",
        )

    return make


def _out_of_range(
    steps: tuple[Step, ...], name: str, path: str, bare: str
) -> Callable[[Draw[Any], JSON], tuple[JSON, str]]:
    lo, hi = INT_RANGES[name]

    def make(draw: Draw[Any], value: JSON) -> tuple[JSON, str]:
        if name in NARROW_INTS:
            # Still an int64 (or, unsigned, a uint64 or a negative int64,
            # which QEMU takes modulo 2**64), but outside the C type.
            above = st.integers(hi + 1, 2**64 - 1 if name in UNSIGNED else 2**63 - 1)
            below = st.integers(-(2**63), lo - 1)
            bad = draw(st.one_of(st.sampled_from([hi + 1, lo - 1]), above, below))
            return _replace(value, steps, bad), f"Parameter '{bare}' expects {NARROW_INTS[name]}"
        # int64 / uint64 / size: the JSON number does not fit at all.
        bad = draw(
            st.one_of(
                st.sampled_from([hi + 1, -(2**63) - 1]),
                st.integers(hi + 1, 2**70),
                st.integers(-(2**70), -(2**63) - 1),
            )
        )
        if name in UNSIGNED:
            return _replace(value, steps, bad), f"Parameter '{path}' expects uint64"
        return (
            _replace(value, steps, bad),
            f"Invalid parameter type for '{path}', expected: integer",
        )

    return make
