"""The smallest valid request for a command: required arguments only,
each filled with a placeholder of its type.

Hand-written examples in doc comments drift from the schema; this one is
derived from it, and the tests decode every such request with the
generated package's argument decoder, so every command page shows at
least one example that is known to be accepted.
"""

from __future__ import annotations

from qapigen.ir.types import AlternateType, ArrayType, BuiltinType, EnumType, ObjectType, Type

_BUILTIN_VALUES: dict[str, object] = {
    "number": 0.0,
    "bool": False,
    "null": None,
    "any": {},
}

_ALTERNATE_PREFERENCE = {"string": 0, "int": 1, "number": 2, "boolean": 3, "null": 9}

#: Deeper than any real schema nests required objects; stops a cycle.
_MAX_DEPTH = 12


def placeholder(typ: Type, name: str, depth: int = 0) -> object:
    """A value of *typ* the validators accept; strings say what they are."""
    if isinstance(typ, BuiltinType):
        if typ.json_type() == "int":
            return 0
        if typ.json_type() == "string":
            return f"<{name}>"
        return _BUILTIN_VALUES.get(typ.name)
    if isinstance(typ, EnumType):
        values = [m for m in typ.members if m.ifcond is None] or typ.members
        return values[0].name
    if isinstance(typ, ArrayType):
        return []
    if isinstance(typ, AlternateType):
        # A scalar branch is the shortest to write (and never recurses);
        # null shows least, so it comes last.
        variants = sorted(
            typ.alternatives.variants,
            key=lambda v: _ALTERNATE_PREFERENCE.get(v.type.json_type(), 5),
        )
        return placeholder(variants[0].type, name, depth + 1)
    if isinstance(typ, ObjectType):
        return minimal_arguments(typ, depth + 1)
    raise TypeError(f"no placeholder for {typ!r}")


def minimal_arguments(obj: ObjectType, depth: int = 0) -> dict[str, object]:
    """The required members of *obj* (and of the first branch, for a
    union, whose tag selects it)."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"required members of {obj.name} nest without end")
    value: dict[str, object] = {}
    for member in obj.members:
        if not member.optional:
            value[member.name] = placeholder(member.type, member.name, depth)
    if obj.branches is not None:
        tag = obj.branches.tag_member
        variants = [v for v in obj.branches.variants if v.ifcond is None] or obj.branches.variants
        for n, chosen in enumerate(variants):
            try:
                extra = (
                    minimal_arguments(chosen.type, depth + 1)
                    if isinstance(chosen.type, ObjectType) else {}
                )
            except ValueError:
                if n + 1 == len(variants):
                    raise
                continue  # this branch needs itself; another will not
            value[tag.name] = chosen.name
            value.update(extra)
            break
    return value
