"""An object's members as a client sees them, whatever its structure.

On the wire a union is a flat object: its base members, the tag among
them, plus the members of the branch the tag selects.  Two unions are
compared base with base and branch with branch.  A struct that became a
union (or the reverse) is compared with the union's flat view: a member
every branch has counts as always there, one only some branches have is
there with those tag values only.
"""

from __future__ import annotations

from dataclasses import dataclass

from qapigen.ir.members import ObjectMember
from qapigen.ir.types import ObjectType


@dataclass(frozen=True)
class MemberView:
    """A member, and the tag values it comes with (None: all of them)."""

    member: ObjectMember
    tags: tuple[str, ...] | None = None


def object_view(obj: ObjectType, other: ObjectType) -> dict[str, MemberView]:
    """*obj*'s members by name, as compared with *other*: flattened over
    the branches when *obj* is a union and *other* is not."""
    view = {m.name: MemberView(m) for m in obj.members}
    if obj.branches is None or other.branches is not None:
        return view
    variants = obj.branches.variants
    found: dict[str, list[tuple[str, ObjectMember]]] = {}
    for variant in variants:
        assert isinstance(variant.type, ObjectType)
        for member in variant.type.members:
            found.setdefault(member.name, []).append((variant.name, member))
    for name, places in found.items():
        if name in view:
            continue  # cannot happen in a checked schema; the base wins
        # Optional if any branch has it optional: a client can't rely on it.
        member = next((m for _, m in places if m.optional), places[0][1])
        tags = None if len(places) == len(variants) else tuple(tag for tag, _ in places)
        view[name] = MemberView(member, tags)
    return view


def tags_text(tag: str, values: tuple[str, ...]) -> str:
    """``'type' is 'a' or 'b'`` (long lists cut short)."""
    shown = " or ".join(f"'{v}'" for v in values[:3])
    if len(values) > 3:
        shown += f" (or {len(values) - 3} more)"
    return f"'{tag}' is {shown}"
