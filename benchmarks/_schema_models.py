"""pydantic v2 and msgspec models of QAPI types, written from the IR.

``benchmarks/decode.py`` compares qapigen's generated decoders with these
on QEMU 10.2's ``transaction`` and ``query-named-block-nodes``.  Their
type closures are dozens of types (every action kind, every
``ImageInfoSpecific`` branch), too many to keep by hand, so this module
writes the models as Python source, the way a careful user of each library
would write them, to accept exactly what QEMU accepts:

- the same members under their wire names, unknown members forbidden;
- strict scalars: no "1" for an int, no 1 for a bool;
- QEMU's integer ranges: ``int`` is int64, ``uint32`` is 0 to 2**32-1,
  ``uint64`` and ``size`` also take -2**63 to -1 (QEMU reads them modulo
  2**64);
- optional members may be absent but not ``null`` (pydantic: a default of
  None that is not validated; msgspec: ``UNSET``);
- unions are discriminated by their tag, each branch a class holding the
  common members, the tag as a literal, and the branch's members;
  alternates are plain unions of their branch types.

Python attribute names are ``f_<name>`` (aliases carry the wire name), so
that no member can collide with a library's own attributes.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from pathlib import Path
from types import ModuleType

from qapigen.ir import Schema
from qapigen.ir.types import AlternateType, ArrayType, BuiltinType, EnumType, ObjectType, Type

INT_RANGES = {
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (-(2**63), 2**64 - 1),
    "size": (-(2**63), 2**64 - 1),
}


def _ident(name: str) -> str:
    text = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return text if text.isidentifier() and not keyword.iskeyword(text) else f"x{text}"


def _field(name: str) -> str:
    return "f_" + re.sub(r"[^0-9A-Za-z_]", "_", name)


class _Writer:
    """Collects the closure of some root types and writes both models."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.order: list[Type] = []
        self.seen: set[str] = set()

    def visit(self, typ: Type) -> None:
        if typ.name in self.seen:
            return
        self.seen.add(typ.name)
        if isinstance(typ, ArrayType):
            self.visit(typ.element_type)
            return
        if isinstance(typ, ObjectType):
            for member in typ.members:
                self.visit(member.type)
            if typ.branches is not None:
                for variant in typ.branches:
                    self.visit(variant.type)
        elif isinstance(typ, AlternateType):
            for variant in typ.alternatives:
                self.visit(variant.type)
        self.order.append(typ)

    # -- shared -------------------------------------------------------------

    def enums(self) -> list[str]:
        lines = []
        for typ in self.order:
            if isinstance(typ, EnumType):
                lines.append(f"class E_{_ident(typ.name)}(enum.Enum):")
                for i, member in enumerate(typ.members):
                    lines.append(f"    v{i} = {member.name!r}")
                lines.append("")
        return lines

    # -- pydantic -----------------------------------------------------------------

    def p_type(self, typ: Type) -> str:
        if isinstance(typ, BuiltinType):
            name = typ.name
            if name in INT_RANGES:
                lo, hi = INT_RANGES[name]
                return f"Annotated[StrictInt, Field(ge={lo}, le={hi})]"
            return {
                "str": "StrictStr",
                "bool": "StrictBool",
                "number": "float",
                "null": "None",
                "any": "Any",
            }[name]
        if isinstance(typ, ArrayType):
            return f"list[{self.p_type(typ.element_type)}]"
        if isinstance(typ, EnumType):
            return f"E_{_ident(typ.name)}"
        if isinstance(typ, AlternateType):
            return " | ".join(self.p_type(v.type) for v in typ.alternatives)
        assert isinstance(typ, ObjectType)
        if typ.branches is not None:
            return f"P_{_ident(typ.name)}"
        return f"P_{_ident(typ.name)}"

    def p_members(self, members: list[object]) -> list[str]:
        lines = []
        for m in members:
            annotation = self.p_type(m.type)  # type: ignore[attr-defined]
            default = ", default=None" if m.optional else ""  # type: ignore[attr-defined]
            lines.append(
                f"    {_field(m.name)}: {annotation} = Field(alias={m.name!r}{default})"  # type: ignore[attr-defined]
            )
        return lines

    def pydantic(self) -> list[str]:
        out: list[str] = []
        for typ in self.order:
            if not isinstance(typ, ObjectType):
                continue
            name = _ident(typ.name)
            if typ.branches is None:
                out.append(f"class P_{name}(PModel):")
                out += self.p_members(typ.members) or ["    pass"]
                out.append("")
                continue
            tag = typ.branches.tag_member
            branch_names = []
            by_value = {v.name: v for v in typ.branches}
            for value in tag.type.members:  # type: ignore[attr-defined]
                cls = f"P_{name}__{_ident(value.name)}"
                branch_names.append(cls)
                out.append(f"class {cls}(PModel):")
                for m in typ.members:
                    if m is tag:
                        out.append(
                            f"    {_field(m.name)}: Literal[{value.name!r}] = Field(alias={m.name!r})"
                        )
                    else:
                        out += self.p_members([m])
                variant = by_value.get(value.name)
                if variant is not None:
                    out += self.p_members(variant.type.members)  # type: ignore[attr-defined]
                out.append("")
            out.append(
                f"P_{name} = Annotated[{' | '.join(branch_names)}, "
                f"Field(discriminator={_field(tag.name)!r})]"
            )
            out.append("")
        return out

    # -- msgspec ---------------------------------------------------------------------

    def m_type(self, typ: Type) -> str:
        if isinstance(typ, BuiltinType):
            name = typ.name
            if name in INT_RANGES:
                lo, hi = INT_RANGES[name]
                if hi >= 2**63:  # msgspec bounds must fit in int64; int stops at 2**64-1
                    return f"Annotated[int, Meta(ge={lo})]"
                return f"Annotated[int, Meta(ge={lo}, le={hi})]"
            return {"str": "str", "bool": "bool", "number": "float", "null": "None", "any": "Any"}[
                name
            ]
        if isinstance(typ, ArrayType):
            return f"list[{self.m_type(typ.element_type)}]"
        if isinstance(typ, EnumType):
            return f"E_{_ident(typ.name)}"
        if isinstance(typ, AlternateType):
            return " | ".join(self.m_type(v.type) for v in typ.alternatives)
        assert isinstance(typ, ObjectType)
        if typ.branches is not None:
            return " | ".join(
                f"M_{_ident(typ.name)}__{_ident(v.name)}"
                for v in typ.branches.tag_member.type.members  # type: ignore[attr-defined]
            )
        return f"M_{_ident(typ.name)}"

    def m_members(self, members: list[object]) -> list[str]:
        lines = []
        for m in members:
            annotation = self.m_type(m.type)  # type: ignore[attr-defined]
            if m.optional:  # type: ignore[attr-defined]
                lines.append(f"    {_field(m.name)}: {annotation} | UnsetType = UNSET")  # type: ignore[attr-defined]
            else:
                lines.append(f"    {_field(m.name)}: {annotation}")  # type: ignore[attr-defined]
        return lines

    def msgspec(self) -> list[str]:
        out: list[str] = []
        for typ in self.order:
            if not isinstance(typ, ObjectType):
                continue
            name = _ident(typ.name)
            if typ.branches is None:
                rename = {_field(m.name): m.name for m in typ.members}
                out.append(f"class M_{name}(MStruct, kw_only=True, forbid_unknown_fields=True, rename={rename!r}):")
                out += self.m_members(typ.members) or ["    pass"]
                out.append("")
                continue
            tag = typ.branches.tag_member
            by_value = {v.name: v for v in typ.branches}
            for value in tag.type.members:  # type: ignore[attr-defined]
                variant = by_value.get(value.name)
                members = [m for m in typ.members if m is not tag]
                if variant is not None:
                    members += variant.type.members  # type: ignore[attr-defined]
                rename = {_field(m.name): m.name for m in members}
                out.append(
                    f"class M_{name}__{_ident(value.name)}(MStruct, kw_only=True, forbid_unknown_fields=True, rename={rename!r}, "
                    f"tag_field={tag.name!r}, tag={value.name!r}):"
                )
                out += self.m_members(members) or ["    pass"]
                out.append("")
        return out


HEADER = '''"""Written by benchmarks/_schema_models.py; do not edit."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr


class PModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MStruct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass

'''


def write_models(schema: Schema, roots: list[str], folder: Path, module: str) -> ModuleType:
    """Write and import module *module* (in *folder*) with ``P_<Name>``
    (pydantic) and ``M_<Name>`` (msgspec) models of *roots* and every type
    they use; calls ``model_rebuild`` on the pydantic models."""
    writer = _Writer(schema)
    for root in roots:
        typ = schema.lookup_type(root)
        assert typ is not None, root
        writer.visit(typ)
    text = "\n".join([HEADER, *writer.enums(), "", *writer.pydantic(), "", *writer.msgspec(), ""])
    path = folder / f"{module}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module] = mod
    spec.loader.exec_module(mod)
    for value in list(vars(mod).values()):
        rebuild = getattr(value, "model_rebuild", None)
        if rebuild is not None and isinstance(value, type) and value.__module__ == module:
            rebuild(_types_namespace=vars(mod))
    return mod
