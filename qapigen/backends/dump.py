"""The IR and doc dump of QEMU's front-end test suite.

:func:`dump_schema` prints a schema exactly as QEMU's
``tests/qapi-schema/test-qapi.py`` does, so its output can be compared
byte for byte with the suite's ``.out`` files: one line per entity in
visit order (builtin types and their arrays omitted), indented lines for
members, branches, conditions and features, then every doc comment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qapigen.ir.visitor import SchemaVisitor

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.ir.commands import Command, Event
    from qapigen.ir.entities import Definition, Include, Module
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature
    from qapigen.ir.schema import Schema
    from qapigen.ir.types import (
        AlternateType,
        ArrayType,
        EnumType,
        ObjectType,
        Variants,
    )


def dump_schema(schema: Schema) -> str:
    """The test dump of *schema*: what QEMU's test harness prints."""
    printer = _DumpVisitor()
    schema.visit(printer)
    for doc in schema.docs:
        printer.doc(doc)
    return "".join(line + "\n" for line in printer.lines)


def _name(defn: Definition | None) -> str:
    """A definition's name, or ``None`` as QEMU prints a missing one."""
    return defn.name if defn else "None"


class _DumpVisitor(SchemaVisitor):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def _out(self, text: str) -> None:
        self.lines.append(text)

    def _if(self, ifcond: IfCond | None, indent: int = 4) -> None:
        if ifcond is not None:
            self._out(f"{' ' * indent}if {ifcond}")

    def _features(self, features: list[Feature], indent: int = 4) -> None:
        for feature in features:
            self._out(f"{' ' * indent}feature {feature.name}")
            self._if(feature.ifcond, indent + 4)

    def _variants(self, variants: Variants | None) -> None:
        if variants is None:
            return
        self._out(f"    tag {variants.tag_member.name}")
        for variant in variants.variants:
            self._out(f"    case {variant.name}: {variant.type.name}")
            self._if(variant.ifcond, 8)

    def visit_module(self, module: Module) -> None:
        self._out(f"module {module.name}")

    def visit_include(self, include: Include) -> None:
        self._out(f"include {include.sub_module.name}")

    def visit_enum_type(self, typ: EnumType) -> None:
        self._out(f"enum {typ.name}")
        if typ.prefix:
            self._out(f"    prefix {typ.prefix}")
        for member in typ.members:
            self._out(f"    member {member.name}")
            self._if(member.ifcond, 8)
            self._features(member.features, 8)
        self._if(typ.ifcond)
        self._features(typ.features)

    def visit_array_type(self, typ: ArrayType) -> None:
        if typ.info is None:
            return  # the builtin types' arrays
        self._out(f"array {typ.name} {typ.element_type.name}")
        self._if(typ.ifcond)

    def visit_object_type(self, typ: ObjectType) -> None:
        self._out(f"object {typ.name}")
        if typ.base:
            self._out(f"    base {typ.base.name}")
        for member in typ.local_members:
            self._out(f"    member {member.name}: {member.type.name} optional={member.optional}")
            self._if(member.ifcond, 8)
            self._features(member.features, 8)
        self._variants(typ.branches)
        self._if(typ.ifcond)
        self._features(typ.features)

    def visit_alternate_type(self, typ: AlternateType) -> None:
        self._out(f"alternate {typ.name}")
        self._variants(typ.alternatives)
        self._if(typ.ifcond)
        self._features(typ.features)

    def visit_command(self, command: Command) -> None:
        self._out(f"command {command.name} {_name(command.arg_type)} -> {_name(command.ret_type)}")
        coroutine = " coroutine=True" if command.coroutine else ""
        self._out(
            f"    gen={command.gen} success_response={command.success_response}"
            f" boxed={command.boxed} oob={command.allow_oob}"
            f" preconfig={command.allow_preconfig}{coroutine}"
        )
        self._if(command.ifcond)
        self._features(command.features)

    def visit_event(self, event: Event) -> None:
        self._out(f"event {event.name} {_name(event.arg_type)}")
        self._out(f"    boxed={event.boxed}")
        self._if(event.ifcond)
        self._features(event.features)

    def doc(self, doc: QAPIDoc) -> None:
        if doc.symbol:
            self._out(f"doc symbol={doc.symbol}")
        else:
            self._out("doc freeform")
        self._out(f"    body=\n{doc.body.text}")
        for name, arg in doc.args.items():
            self._out(f"    arg={name}\n{arg.text}")
        for name, feature in doc.features.items():
            self._out(f"    feature={name}\n{feature.text}")
        for section in doc.sections:
            self._out(f"    section={section.kind}\n{section.text}")
