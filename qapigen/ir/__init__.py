"""The intermediate representation: a checked schema as typed entities.

Every back end (test dump, introspection, Python bindings, docs) reads the
schema through these classes only.  Start at :class:`Schema` (built by
:func:`build_schema`, usually via :func:`qapigen.load_schema`) and either
iterate its definitions or walk it with a :class:`SchemaVisitor`.
"""

from qapigen.ir.commands import Command, Event
from qapigen.ir.entities import Definition, Entity, Include, Module
from qapigen.ir.ifcond import IfAll, IfAny, IfCExpr, IfCond, IfNot, IfOption
from qapigen.ir.members import EnumMember, Feature, Member, ObjectMember, Variant
from qapigen.ir.schema import Schema, build_schema
from qapigen.ir.types import (
    AlternateType,
    Alternatives,
    ArrayType,
    Branches,
    BuiltinType,
    EnumType,
    ObjectType,
    Type,
    Variants,
)
from qapigen.ir.visitor import SchemaVisitor

__all__ = [
    "AlternateType",
    "Alternatives",
    "ArrayType",
    "Branches",
    "BuiltinType",
    "Command",
    "Definition",
    "Entity",
    "EnumMember",
    "EnumType",
    "Event",
    "Feature",
    "IfAll",
    "IfAny",
    "IfCExpr",
    "IfCond",
    "IfNot",
    "IfOption",
    "Include",
    "Member",
    "Module",
    "ObjectMember",
    "ObjectType",
    "Schema",
    "SchemaVisitor",
    "Type",
    "Variant",
    "Variants",
    "build_schema",
]
