"""The schema: every entity, checked, and the order to visit them in.

:func:`build_schema` is the IR's entry point.  It defines the predefined
entities (builtin types and their arrays, ``q_empty``, ``QType``), turns
each checked expression into entities (see :mod:`qapigen.ir.builder`),
checks them all, ties doc comments to what they document, and assigns
every entity to its module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from qapigen.dialect import Dialect
from qapigen.errors import QAPISourceError
from qapigen.ir.commands import Command, Event
from qapigen.ir.entities import BUILTIN_MODULE_NAME, Definition, Entity, Module
from qapigen.ir.members import SPECIAL_FEATURES, Feature
from qapigen.ir.types import ObjectType, Type

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.expression import Expression
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.visitor import SchemaVisitor

_D = TypeVar("_D", bound=Definition)

#: QEMU 10.2 encodes a schema's features as bits of a 64-bit mask.
MAX_FEATURES = 64


class Schema:
    """A checked schema.

    Look definitions up by name with :meth:`lookup_entity` /
    :meth:`lookup_type`, iterate them with :meth:`definitions` (or
    :meth:`types`, :meth:`commands`, :meth:`events`), walk them in QEMU's
    order with :meth:`visit`.  ``docs`` holds every doc comment in source
    order, connected to the members and features they describe.
    """

    def __init__(self, fname: str, dialect: Dialect, docs: list[QAPIDoc]) -> None:
        self.fname = fname
        self.dialect = dialect
        self.docs = docs
        self._entities: list[Entity] = []
        self._definitions: dict[str, Definition] = {}
        self._modules: dict[str, Module] = {}
        # First use of each feature name; the special ones always come first.
        self._features: dict[str, Feature] = {}
        if not self.legacy:
            for name in SPECIAL_FEATURES:
                self._features[name] = Feature(name, None)
        self._schema_dir = os.path.dirname(fname)
        # _module_by_fname()'s answers: every entity asks, for one of a few
        # dozen files, and os.path.relpath() is slow.
        self._module_of_file: dict[str | None, Module] = {}
        self.make_module(BUILTIN_MODULE_NAME)
        self.main_module = self.make_module(fname)
        self._empty_type: ObjectType | None = None

    @property
    def legacy(self) -> bool:
        """Whether the schema is in the legacy (QEMU 2.9-5.2) language."""
        return self.dialect is Dialect.LEGACY

    # -- looking things up -----------------------------------------------

    @property
    def empty_type(self) -> ObjectType:
        """``q_empty``, the object type with no members (what commands
        without arguments or return value take and return)."""
        assert self._empty_type is not None
        return self._empty_type

    def lookup_entity(self, name: str) -> Definition | None:
        return self._definitions.get(name)

    def lookup_type(self, name: str) -> Type | None:
        defn = self._definitions.get(name)
        return defn if isinstance(defn, Type) else None

    def resolve_type(
        self,
        name: str,
        info: SourceInfo | None,
        what: str | Callable[[SourceInfo], str] | None,
    ) -> Type:
        """The type called *name*; if there is none, QEMU's error
        "<what> uses unknown type '<name>'" at *info*."""
        typ = self.lookup_type(name)
        if typ is None:
            assert info is not None and what, f"unknown builtin type {name!r}"
            if callable(what):
                what = what(info)
            raise QAPISourceError(info, f"{what} uses unknown type '{name}'")
        return typ

    @property
    def entities(self) -> list[Entity]:
        """Every entity, includes too, in definition order."""
        return list(self._entities)

    @property
    def modules(self) -> list[Module]:
        """The modules, ``./builtin`` first, then the main file, then the
        included files in order of first inclusion."""
        return list(self._modules.values())

    def _of_kind(self, kind: type[_D]) -> Iterator[_D]:
        for entity in self._entities:
            if isinstance(entity, kind):
                yield entity

    def definitions(self) -> Iterator[Definition]:
        """Every definition (implicit ones too), in definition order."""
        return self._of_kind(Definition)

    def types(self) -> Iterator[Type]:
        return (d for d in self._entities if isinstance(d, Type))

    def commands(self) -> Iterator[Command]:
        return self._of_kind(Command)

    def events(self) -> Iterator[Event]:
        return self._of_kind(Event)

    def features(self) -> list[Feature]:
        """Every feature name the schema uses, once, in order of first
        use (QEMU 10.2 starts with ``deprecated`` and ``unstable``)."""
        return list(self._features.values())

    # -- building (used by qapigen.ir.builder) -----------------------------

    def _module_name(self, fname: str) -> str:
        if fname.startswith("./"):
            return fname
        return os.path.relpath(fname, self._schema_dir or os.curdir)

    def make_module(self, fname: str) -> Module:
        name = self._module_name(fname)
        if name not in self._modules:
            self._modules[name] = Module(name)
        return self._modules[name]

    def add_entity(self, entity: Entity) -> None:
        self._entities.append(entity)

    def add_definition(self, defn: Definition) -> None:
        """Register *defn*; a name may be defined only once."""
        self._entities.append(defn)
        other = self._definitions.get(defn.name)
        if other is not None:
            if other.info is not None:
                where = QAPISourceError(other.info, "previous definition")
                raise QAPISourceError(defn.info, f"'{defn.name}' is already defined\n{where}")
            raise QAPISourceError(defn.info, f"{other.describe()} is already defined")
        self._definitions[defn.name] = defn
        if isinstance(defn, ObjectType) and defn.name == "q_empty":
            self._empty_type = defn

    def note_feature(self, name: str, info: SourceInfo | None) -> None:
        if name not in self._features:
            self._features[name] = Feature(name, info)

    # -- checking --------------------------------------------------------

    def check(self) -> None:
        """Check every entity and connect and check the docs, in the order
        (and so with the error precedence) of the schema's dialect."""
        if self.legacy:
            self._check_legacy()
        else:
            self._check_modern()
        for entity in self._entities:
            source = entity.module_source()
            entity.set_module(self._module_by_fname(source.fname if source else None))

    def _check_modern(self) -> None:
        for entity in self._entities:
            entity.check(self)
            entity.connect_doc()
        for doc in self.docs:
            doc.check()
        features = self.features()
        if len(features) > MAX_FEATURES:
            raise QAPISourceError(
                features[MAX_FEATURES].info,
                f"Maximum of {MAX_FEATURES} schema features is permitted",
            )

    def _check_legacy(self) -> None:
        """QEMU 3.1 tied members to docs while checking each type and
        checked a doc when its type's check finished (see the type
        classes), so it never checked the docs of enums, of commands and
        events without implicit arguments, or of boxed commands.  It knew
        no features; their docs follow 5.x: a definition's are tied up
        front (a member's with the member), so that no doc is checked
        before its features are in, and once every entity is checked, as
        5.x checked every doc then, each described feature must exist."""
        for defn in self.definitions():
            if defn.doc:
                for feature in defn.features:
                    defn.doc.connect_feature(feature)
        for entity in self._entities:
            entity.check(self)
        for doc in self.docs:
            doc.check_features()

    def _module_by_fname(self, fname: str | None) -> Module:
        module = self._module_of_file.get(fname)
        if module is None:
            module = self._modules[self._module_name(fname or BUILTIN_MODULE_NAME)]
            self._module_of_file[fname] = module
        return module

    # -- walking ---------------------------------------------------------

    def visit(self, visitor: SchemaVisitor) -> None:
        """Walk the schema in QEMU's order.

        QEMU 10.2 goes module by module.  QEMU 3.1 (the legacy dialect)
        went through the entities in definition order, announcing the
        module whenever it changed.
        """
        visitor.visit_begin(self)
        if self.legacy:
            current: Module | None = None
            for entity in self._entities:
                if visitor.visit_needed(entity):
                    if entity.module is not current:
                        current = entity.module
                        visitor.visit_module(current)
                    entity.visit(visitor)
        else:
            for module in self._modules.values():
                visitor.visit_module(module)
                for entity in module.entities:
                    if visitor.visit_needed(entity):
                        entity.visit(visitor)
        visitor.visit_end()


def build_schema(
    exprs: list[Expression],
    docs: list[QAPIDoc],
    dialect: Dialect,
    fname: str | None = None,
) -> Schema:
    """Build and check the IR of a schema from its checked expressions.

    *fname* is the main schema file: module names are relative to its
    directory, and its module exists even when it defines nothing.  When
    omitted, it is taken from the expressions or docs.
    """
    from qapigen.ir.builder import SchemaBuilder

    if fname is None:
        fname = _main_fname(exprs, docs)
    schema = Schema(fname, dialect, docs)
    builder = SchemaBuilder(schema)
    builder.define_predefined()
    builder.define(exprs)
    schema.check()
    return schema


def _main_fname(exprs: list[Expression], docs: list[QAPIDoc]) -> str:
    infos = [e.info for e in exprs] + [d.info for d in docs]
    if not infos:
        raise ValueError("build_schema() needs fname for an empty schema")
    info = infos[0]
    while info.parent is not None:
        info = info.parent
    return info.fname
