"""The base of every schema entity, plus modules and includes.

An *entity* is whatever the schema visitor walks: a definition (type,
command, event) or an include directive.  Every entity belongs to a
:class:`Module`, the file it was defined in; builtins belong to the
pseudo-module ``./builtin``.

Entities are built unchecked; :meth:`Entity.check` resolves type names to
entities and raises QEMU's errors.  Attributes that only exist after the
check (resolved types, flattened members) are read through properties that
fail loudly when read too early, rather than being ``None``-typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qapigen.errors import QAPISourceError

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature, Member
    from qapigen.ir.schema import Schema
    from qapigen.ir.visitor import SchemaVisitor

BUILTIN_MODULE_NAME = "./builtin"


class Module:
    """A schema file (or the ``./builtin`` pseudo-file) and the entities
    defined in it, in definition order.

    ``name`` is the file's path relative to the main schema file's
    directory, as QEMU names modules (``block-core.json``,
    ``include/sub-module.json``).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.entities: list[Entity] = []

    @property
    def is_builtin(self) -> bool:
        return self.name == BUILTIN_MODULE_NAME

    @property
    def is_system(self) -> bool:
        """System modules are made up by the compiler (``./`` names)."""
        return self.name.startswith("./")

    def __repr__(self) -> str:
        return f"<Module {self.name}>"


class Entity:
    """Anything the schema visitor visits."""

    def __init__(self, info: SourceInfo | None) -> None:
        # Explicit definitions: where they are defined.  Builtins: None.
        # Implicit types: the definition that made them (the first one, if
        # several share the type).
        self.info = info
        self._module: Module | None = None
        self._checked = False

    @property
    def module(self) -> Module:
        assert self._module is not None, f"{self!r} has no module yet"
        return self._module

    @property
    def checked(self) -> bool:
        return self._checked

    def check(self, schema: Schema) -> None:
        """Resolve references and raise every error QEMU raises for this
        entity.  Types may be checked early, on behalf of a type that
        embeds them; a second call is then a no-op."""
        self._checked = True

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        """Tie this entity's members and features to *doc* (default: its
        own doc comment).  QEMU 10.2 does this right after checking."""

    def module_source(self) -> SourceInfo | None:
        """The place whose file decides this entity's module."""
        return self.info

    def set_module(self, module: Module) -> None:
        assert self._module is None
        self._module = module
        module.entities.append(self)

    def visit(self, visitor: SchemaVisitor) -> None:
        raise NotImplementedError


class Include(Entity):
    """An ``{ 'include': ... }`` directive, kept so generators can mirror
    the include structure."""

    def __init__(self, sub_module: Module, info: SourceInfo) -> None:
        super().__init__(info)
        self.sub_module = sub_module

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_include(self)

    def __repr__(self) -> str:
        return f"<Include {self.sub_module.name}>"


class Definition(Entity):
    """A named entity: a type, a command or an event."""

    #: The word QEMU uses for this kind of definition in messages
    #: (``struct``, ``union``, ``enum``, ``alternate``, ``command`` ...).
    meta: str = ""

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        doc: QAPIDoc | None,
        ifcond: IfCond | None = None,
        features: list[Feature] | None = None,
    ) -> None:
        super().__init__(info)
        self.name = name
        self.doc = doc
        self._ifcond = ifcond
        self.features: list[Feature] = features or []
        for feature in self.features:
            feature.set_defined_in(name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    @property
    def ifcond(self) -> IfCond | None:
        """The condition under which the definition exists (None: always)."""
        return self._ifcond

    def is_implicit(self) -> bool:
        """Made up by the compiler rather than written in the schema."""
        return self.info is None

    def describe(self) -> str:
        """How QEMU names this definition in messages: ``command 'foo'``."""
        return f"{self.meta} '{self.name}'"

    def check(self, schema: Schema) -> None:
        super().check(schema)
        seen: dict[str, Member] = {}
        for feature in self.features:
            feature.check_clash(self.info, seen)

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        doc = doc or self.doc
        if doc:
            for feature in self.features:
                doc.connect_feature(feature)

    def error(self, msg: str) -> QAPISourceError:
        """An error about this definition, at its definition."""
        return QAPISourceError(self.info, msg)
