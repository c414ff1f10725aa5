"""Commands and events: the definitions a QMP client actually sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qapigen.ir.entities import Definition
from qapigen.ir.types import AlternateType, ArrayType, ObjectType, Type

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature
    from qapigen.ir.schema import Schema
    from qapigen.ir.visitor import SchemaVisitor


class _WithArguments(Definition):
    """What commands and events share: an optional argument object type,
    inline (implicit ``q_obj_<name>-arg``) or named, maybe ``boxed``."""

    def __init__(
        self,
        name: str,
        info: SourceInfo,
        doc: QAPIDoc | None,
        ifcond: IfCond | None,
        features: list[Feature] | None,
        arg_type_name: str | None,
        boxed: bool,
    ) -> None:
        super().__init__(name, info, doc, ifcond, features)
        self.arg_type_name = arg_type_name
        self.boxed = boxed
        self._arg_type: ObjectType | AlternateType | None = None

    @property
    def arg_type(self) -> ObjectType | AlternateType | None:
        """The arguments' type; None when there are no arguments.

        An object type, except in the legacy dialect, where a boxed command
        or event may also take an alternate (QEMU 2.7 to 3.1 allowed that;
        4.0 dropped it).
        """
        assert self.checked, f"{self!r} is not checked yet"
        return self._arg_type

    def _check_arguments(self, schema: Schema) -> None:
        if not self.arg_type_name:
            if schema.legacy and self.boxed:
                raise self.error("Use of 'boxed' requires 'data'")
            return
        what = f"{self.meta}'s 'data'"
        arg_type = schema.resolve_type(self.arg_type_name, self.info, what)
        if isinstance(arg_type, AlternateType) and schema.legacy and self.boxed:
            # The expression checks allowed it; nothing else to check here.
            arg_type.check(schema)
            self._arg_type = arg_type
            return
        if not isinstance(arg_type, ObjectType):
            raise self.error(f"{what} cannot take {arg_type.describe()}")
        self._arg_type = arg_type
        if arg_type.branches and not self.boxed:
            raise self.error(f"{what} can take {arg_type.describe()} only with 'boxed': true")
        arg_type.check(schema)
        if schema.legacy:
            if self.boxed and arg_type.is_empty():
                raise self.error("Cannot use 'boxed' with empty type")
        elif arg_type.has_conditional_members() and not self.boxed:
            raise self.error(f"conditional {self.meta} arguments require 'boxed': true")

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        super().connect_doc(doc)
        doc = doc or self.doc
        if doc and isinstance(self._arg_type, ObjectType) and self._arg_type.is_implicit():
            self._arg_type.connect_doc(doc)


class Command(_WithArguments):
    """A QMP command."""

    meta = "command"

    def __init__(
        self,
        name: str,
        info: SourceInfo,
        doc: QAPIDoc | None,
        ifcond: IfCond | None,
        features: list[Feature] | None,
        arg_type_name: str | None,
        ret_type_name: str | None,
        *,
        gen: bool = True,
        success_response: bool = True,
        boxed: bool = False,
        allow_oob: bool = False,
        allow_preconfig: bool = False,
        coroutine: bool = False,
    ) -> None:
        super().__init__(name, info, doc, ifcond, features, arg_type_name, boxed)
        self.ret_type_name = ret_type_name
        self.gen = gen
        self.success_response = success_response
        self.allow_oob = allow_oob
        self.allow_preconfig = allow_preconfig
        self.coroutine = coroutine
        self._ret_type: Type | None = None

    @property
    def ret_type(self) -> Type | None:
        """The return type; None when the command returns ``{}``."""
        assert self.checked, f"{self!r} is not checked yet"
        return self._ret_type

    def check(self, schema: Schema) -> None:
        super().check(schema)
        self._check_arguments(schema)
        if not self.ret_type_name:
            return
        ret_type = schema.resolve_type(self.ret_type_name, self.info, "command's 'returns'")
        self._ret_type = ret_type
        if schema.legacy:
            return  # QEMU 3.1 checked this with the expressions
        assert self.info is not None
        if self.name in self.info.pragma.command_returns_exceptions:
            return
        element = ret_type.element_type if isinstance(ret_type, ArrayType) else ret_type
        if not isinstance(element, ObjectType):
            raise self.error(f"command's 'returns' cannot take {ret_type.describe()}")

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        super().connect_doc(doc)
        doc = doc or self.doc
        if doc and self._ret_type and self.info:
            doc.ensure_returns(self.info)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_command(self)


class Event(_WithArguments):
    """A QMP event."""

    meta = "event"

    def check(self, schema: Schema) -> None:
        super().check(schema)
        self._check_arguments(schema)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_event(self)
