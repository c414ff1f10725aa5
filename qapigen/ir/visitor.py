"""The schema visitor: how back ends walk the IR.

:meth:`qapigen.ir.schema.Schema.visit` calls :meth:`SchemaVisitor.visit_begin`,
then, module by module, :meth:`~SchemaVisitor.visit_module` and one
``visit_*`` per entity (skipping entities :meth:`~SchemaVisitor.visit_needed`
declines), then :meth:`~SchemaVisitor.visit_end`.  The order is QEMU's, so a
back end that mirrors one of QEMU's generators produces its output in the
same order.

Each method receives the entity itself; everything QEMU passes as separate
arguments is an attribute of it.  Every method does nothing by default, so
a back end overrides only what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qapigen.ir.commands import Command, Event
    from qapigen.ir.entities import Entity, Include, Module
    from qapigen.ir.schema import Schema
    from qapigen.ir.types import AlternateType, ArrayType, BuiltinType, EnumType, ObjectType


class SchemaVisitor:
    """Base class for schema walkers."""

    def visit_begin(self, schema: Schema) -> None:
        """Called once, before anything else."""

    def visit_end(self) -> None:
        """Called once, after everything else."""

    def visit_module(self, module: Module) -> None:
        """The entities that follow are defined in *module*."""

    def visit_needed(self, entity: Entity) -> bool:
        """Whether to visit *entity* at all (default: yes)."""
        return True

    def visit_include(self, include: Include) -> None:
        pass

    def visit_builtin_type(self, typ: BuiltinType) -> None:
        pass

    def visit_enum_type(self, typ: EnumType) -> None:
        pass

    def visit_array_type(self, typ: ArrayType) -> None:
        pass

    def visit_object_type(self, typ: ObjectType) -> None:
        """A struct, union or implicit object type.  ``typ.local_members``
        and ``typ.base`` give the structure as written, ``typ.members``
        the flattened member list; ``typ.branches`` is None for structs."""

    def visit_alternate_type(self, typ: AlternateType) -> None:
        pass

    def visit_command(self, command: Command) -> None:
        pass

    def visit_event(self, event: Event) -> None:
        pass
