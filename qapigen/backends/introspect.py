"""The ``query-qmp-schema`` answer: the schema as QMP clients see it.

:func:`introspect` builds the list of SchemaInfo objects QEMU's
``scripts/qapi/introspect.py`` compiles into QEMU, as plain JSON values.
Names are not masked (QEMU hides type names behind numbers unless
``--unmask-non-abi-names`` is given; we always show them).

What QEMU lists, in its order: every command and event in visit order,
then every type they use, transitively, in order of first use.  Integer
types all appear as ``int`` (and their arrays as ``[int]``), arrays are
named ``[element]``, and a command without arguments or return value
takes and returns ``q_empty``.

Conditions: QEMU leaves out what is configured away.  Without a set of
defined symbols every condition counts as true; with one, anything whose
condition does not hold is left out.

The legacy dialect gets what QEMU 3.1 to 5.2 answered: enumerations list
only their ``values`` (no ``members``, so enum values have no features).
Object members list their features, as from QEMU 5.0, the first release
that had them (earlier schemas have none, so nothing changes for them).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, TypeAlias

from qapigen.ir.types import ArrayType, BuiltinType, Type
from qapigen.ir.visitor import SchemaVisitor

if TYPE_CHECKING:
    from qapigen.ir.commands import Command, Event
    from qapigen.ir.entities import Entity
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature
    from qapigen.ir.schema import Schema
    from qapigen.ir.types import AlternateType, EnumType, ObjectType

JSONValue: TypeAlias = "str | bool | list[JSONValue] | dict[str, JSONValue] | None"
SchemaInfo: TypeAlias = dict[str, JSONValue]


def introspect(schema: Schema, defined: Collection[str] | None = None) -> list[SchemaInfo]:
    """The SchemaInfo list of *schema*.

    *defined*: the configuration symbols to evaluate conditions against;
    None (the default) takes every condition as true.
    """
    visitor = _IntrospectVisitor(schema, defined)
    schema.visit(visitor)
    return visitor.infos


class _IntrospectVisitor(SchemaVisitor):
    def __init__(self, schema: Schema, defined: Collection[str] | None) -> None:
        self._schema = schema
        self._defined = defined
        self._legacy = schema.legacy
        self.infos: list[SchemaInfo] = []
        # The work list of types to describe, in order of first use.
        self._used: list[Type] = []
        self._used_ids: set[int] = set()

    def _holds(self, ifcond: IfCond | None) -> bool:
        return ifcond is None or self._defined is None or ifcond.evaluate(self._defined)

    # -- walking -----------------------------------------------------------

    def visit_needed(self, entity: Entity) -> bool:
        # First pass: commands and events only; visit_end() does the
        # types they use.
        return not isinstance(entity, Type)

    def visit_end(self) -> None:
        index = 0
        while index < len(self._used):  # grows as types use more types
            self._used[index].visit(self)
            index += 1

    def _use_type(self, typ: Type) -> str:
        """Queue *typ* for description and return the name to refer to it by."""
        if typ.json_type() == "int":
            typ = self._lookup("int")
        elif isinstance(typ, ArrayType) and typ.element_type.json_type() == "int":
            typ = self._lookup("intList")
        if id(typ) not in self._used_ids:
            self._used_ids.add(id(typ))
            self._used.append(typ)
        if isinstance(typ, ArrayType):
            return f"[{self._use_type(typ.element_type)}]"
        return typ.name

    def _lookup(self, name: str) -> Type:
        typ = self._schema.lookup_type(name)
        assert typ is not None
        return typ

    # -- SchemaInfo pieces ---------------------------------------------------

    def _emit(
        self,
        name: str,
        meta_type: str,
        info: SchemaInfo,
        ifcond: IfCond | None = None,
        features: list[Feature] | None = None,
    ) -> None:
        if not self._holds(ifcond):
            return
        info["name"] = name
        info["meta-type"] = meta_type
        names = self._features(features or [])
        if names:
            info["features"] = names
        self.infos.append(info)

    def _features(self, features: list[Feature]) -> list[JSONValue]:
        return [f.name for f in features if self._holds(f.ifcond)]

    # -- entities ------------------------------------------------------------

    def visit_builtin_type(self, typ: BuiltinType) -> None:
        self._emit(typ.name, "builtin", {"json-type": typ.json_type()})

    def visit_enum_type(self, typ: EnumType) -> None:
        values = [m for m in typ.members if self._holds(m.ifcond)]
        info: SchemaInfo = {"values": [m.name for m in values]}
        if not self._legacy:
            members: list[JSONValue] = []
            for member in values:
                entry: SchemaInfo = {"name": member.name}
                features = self._features(member.features)
                if features:
                    entry["features"] = features
                members.append(entry)
            info = {"members": members, **info}
        self._emit(typ.name, "enum", info, typ.ifcond, typ.features)

    def visit_array_type(self, typ: ArrayType) -> None:
        element = self._use_type(typ.element_type)
        self._emit(f"[{element}]", "array", {"element-type": element}, typ.ifcond)

    def visit_object_type(self, typ: ObjectType) -> None:
        members: list[JSONValue] = []
        for member in typ.members:
            # QEMU lists a member's type even when the member is
            # configured away; so call _use_type() first.
            entry: SchemaInfo = {"name": member.name, "type": self._use_type(member.type)}
            if not self._holds(member.ifcond):
                continue
            if member.optional:
                entry["default"] = None
            features = self._features(member.features)
            if features:
                entry["features"] = features
            members.append(entry)
        info: SchemaInfo = {"members": members}
        if typ.branches:
            info["tag"] = typ.branches.tag_member.name
            variants = [(v, self._use_type(v.type)) for v in typ.branches.variants]
            info["variants"] = [
                {"case": v.name, "type": name} for v, name in variants if self._holds(v.ifcond)
            ]
        self._emit(typ.name, "object", info, typ.ifcond, typ.features)

    def visit_alternate_type(self, typ: AlternateType) -> None:
        variants = [(v, self._use_type(v.type)) for v in typ.alternatives.variants]
        members: list[JSONValue] = [{"type": name} for v, name in variants if self._holds(v.ifcond)]
        self._emit(typ.name, "alternate", {"members": members}, typ.ifcond, typ.features)

    def visit_command(self, command: Command) -> None:
        empty = self._schema.empty_type
        info: SchemaInfo = {
            "arg-type": self._use_type(command.arg_type or empty),
            "ret-type": self._use_type(command.ret_type or empty),
        }
        if command.allow_oob:
            info["allow-oob"] = True
        self._emit(command.name, "command", info, command.ifcond, command.features)

    def visit_event(self, event: Event) -> None:
        info: SchemaInfo = {"arg-type": self._use_type(event.arg_type or self._schema.empty_type)}
        self._emit(event.name, "event", info, event.ifcond, event.features)
