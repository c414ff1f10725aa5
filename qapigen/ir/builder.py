"""Turning checked expressions into IR entities.

Expressions arrive as written (the checks never normalise them), so this
module reads every shorthand itself: a member is ``'TYPE'``, ``['TYPE']``
or ``{'type': ..., 'if': ..., 'features': ...}``, a name may carry the
``*`` optional prefix, an enum value or a feature is a string or a
``{'name': ...}`` object.

It also makes the entities nobody wrote: arrays (``TList``) on first use,
the implicit object types ``q_obj_<name>-arg`` and ``q_obj_<name>-base``,
and for the legacy dialect's simple unions the tag enum ``<Union>Kind``
and the branch wrappers ``q_obj_<T>-wrapper``.  Entities are defined in
exactly QEMU's order, because that order is the visit order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qapigen.dialect import Dialect
from qapigen.ir.commands import Command, Event
from qapigen.ir.entities import Include
from qapigen.ir.ifcond import IfCond, parse_ifcond
from qapigen.ir.members import EnumMember, Feature, ObjectMember, Variant
from qapigen.ir.types import (
    AlternateType,
    Alternatives,
    ArrayType,
    Branches,
    BuiltinType,
    EnumType,
    ObjectType,
    Type,
)

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.expression import Expression
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.schema import Schema

#: The builtin types, in QEMU's order, with their JSON types.
BUILTIN_TYPES = (
    ("str", "string"),
    ("number", "number"),
    ("int", "int"),
    ("int8", "int"),
    ("int16", "int"),
    ("int32", "int"),
    ("int64", "int"),
    ("uint8", "int"),
    ("uint16", "int"),
    ("uint32", "int"),
    ("uint64", "int"),
    ("size", "int"),
    ("bool", "boolean"),
    ("any", "value"),
    ("null", "null"),
)

#: The values of the predefined enum ``QType``.
QTYPE_VALUES = ("none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool")


def _parts(value: Any) -> tuple[Any, Any, Any]:
    """(type, 'if', 'features') of a member written either way."""
    if isinstance(value, dict):
        return value.get("type"), value.get("if"), value.get("features")
    return value, None, None


def _named(value: Any) -> tuple[str, Any, Any]:
    """(name, 'if', 'features') of an enum value or feature written either way."""
    if isinstance(value, dict):
        return value["name"], value.get("if"), value.get("features")
    return value, None, None


class SchemaBuilder:
    """Defines a schema's entities into a :class:`~qapigen.ir.schema.Schema`."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        self._dialect = schema.dialect
        self._legacy = schema.dialect is Dialect.LEGACY

    # -- predefined entities -----------------------------------------------

    def define_predefined(self) -> None:
        for name, json_type in BUILTIN_TYPES:
            self._schema.add_definition(BuiltinType(name, json_type))
            # Every builtin gets its array, used or not (QEMU shares the
            # builtin types' generated code between schemas).
            self._array_type(name, None)
        self._schema.add_definition(ObjectType("q_empty", None, None, None, None, None, [], None))
        values = [EnumMember(n, None, legacy=self._legacy) for n in QTYPE_VALUES]
        # QEMU 3.1 gave QType the prefix QTYPE; 10.2 leaves it implied.
        prefix = "QTYPE" if self._legacy else None
        self._schema.add_definition(
            EnumType("QType", None, None, None, None, values, prefix, implicit=True)
        )

    # -- pieces ------------------------------------------------------------

    def _ifcond(self, raw: Any) -> IfCond | None:
        return parse_ifcond(raw, self._dialect)

    def _features(self, raw: Any, info: SourceInfo) -> list[Feature]:
        if not raw:
            return []
        named = [_named(f) for f in raw]
        for name, _, _ in named:
            self._schema.note_feature(name, info)
        return [
            Feature(name, info, self._ifcond(ifcond), legacy=self._legacy)
            for name, ifcond, _ in named
        ]

    def _enum_members(self, data: list[Any], info: SourceInfo) -> list[EnumMember]:
        members = []
        for value in data:
            name, ifcond, features = _named(value)
            members.append(
                EnumMember(
                    name,
                    info,
                    self._ifcond(ifcond),
                    self._features(features, info),
                    legacy=self._legacy,
                )
            )
        return members

    def _array_type(self, element_type: str, info: SourceInfo | None) -> str:
        name = element_type + "List"
        if self._schema.lookup_type(name) is None:
            self._schema.add_definition(ArrayType(name, info, element_type))
        return name

    def _type_name(self, typ: Any, info: SourceInfo) -> str:
        """A type reference: a name, or ``[name]`` for an array."""
        if isinstance(typ, list):
            return self._array_type(typ[0], info)
        assert isinstance(typ, str)
        return typ

    def _member(self, key: str, value: Any, info: SourceInfo) -> ObjectMember:
        typ, ifcond, features = _parts(value)
        optional = key.startswith("*")
        name = key[1:] if optional else key
        type_name = self._type_name(typ, info)
        return ObjectMember(
            name,
            info,
            type_name,
            optional,
            self._ifcond(ifcond),
            self._features(features, info),
            legacy=self._legacy,
        )

    def _members(self, data: dict[str, Any], info: SourceInfo) -> list[ObjectMember]:
        return [self._member(key, value, info) for key, value in data.items()]

    def _variant(self, case: str, value: Any, info: SourceInfo) -> Variant:
        typ, ifcond, _ = _parts(value)
        return Variant(
            case, info, self._type_name(typ, info), self._ifcond(ifcond), legacy=self._legacy
        )

    def _implicit_object_type(
        self,
        name: str,
        info: SourceInfo,
        ifcond: IfCond | None,
        role: str,
        members: list[ObjectMember],
        doc: QAPIDoc | None = None,
        ifcond_from: Type | None = None,
    ) -> str | None:
        """``q_obj_<name>-<role>`` holding *members*; None when there are
        none.  If the name is taken, the existing type is reused: for a
        legacy wrapper that is sharing, otherwise a duplicate definition
        the definition that follows will report."""
        if not members:
            return None
        type_name = f"q_obj_{name}-{role}"
        if self._schema.lookup_entity(type_name) is None:
            self._schema.add_definition(
                ObjectType(
                    type_name,
                    info,
                    None,
                    ifcond,
                    None,
                    None,
                    members,
                    None,
                    ifcond_from=ifcond_from,
                    legacy_doc=doc if self._legacy else None,
                )
            )
        return type_name

    # -- definitions -------------------------------------------------------

    def define(self, exprs: list[Expression]) -> None:
        for expr in exprs:
            if "enum" in expr:
                self._enum(expr)
            elif "struct" in expr:
                self._struct(expr)
            elif "union" in expr:
                self._union(expr)
            elif "alternate" in expr:
                self._alternate(expr)
            elif "command" in expr:
                self._command(expr)
            elif "event" in expr:
                self._event(expr)
            elif "include" in expr:
                self._include(expr)
            else:
                raise AssertionError(f"unexpected expression {dict(expr)!r}")

    def _include(self, expr: Expression) -> None:
        module = self._schema.make_module(expr["include"])
        self._schema.add_entity(Include(module, expr.info))

    def _enum(self, expr: Expression) -> None:
        info = expr.info
        features = self._features(expr.get("features"), info)
        self._schema.add_definition(
            EnumType(
                expr["enum"],
                info,
                expr.doc,
                self._ifcond(expr.get("if")),
                features,
                self._enum_members(expr["data"], info),
                expr.get("prefix"),
            )
        )

    def _struct(self, expr: Expression) -> None:
        info = expr.info
        features = self._features(expr.get("features"), info)
        self._schema.add_definition(
            ObjectType(
                expr["struct"],
                info,
                expr.doc,
                self._ifcond(expr.get("if")),
                features,
                expr.get("base"),
                self._members(expr["data"], info),
                None,
            )
        )

    def _union(self, expr: Expression) -> None:
        name: str = expr["union"]
        info = expr.info
        ifcond = self._ifcond(expr.get("if"))
        features = self._features(expr.get("features"), info)
        base = expr.get("base")
        if isinstance(base, dict):
            base = self._implicit_object_type(
                name, info, ifcond, "base", self._members(base, info), expr.doc
            )
        data: dict[str, Any] = expr["data"]
        tag_name = expr.get("discriminator")
        members: list[ObjectMember] = []
        if tag_name is None and self._legacy:
            variants = [self._simple_variant(key, value, info) for key, value in data.items()]
            kind = self._implicit_enum_type(name, info, ifcond, variants)
            members = [ObjectMember("type", info, kind, False, legacy=True)]
            tag_name = "type"
        else:
            variants = [self._variant(key, value, info) for key, value in data.items()]
        assert isinstance(tag_name, str)
        self._schema.add_definition(
            ObjectType(
                name,
                info,
                expr.doc,
                ifcond,
                features,
                base,
                members,
                Branches(info, variants, tag_name),
            )
        )

    def _simple_variant(self, case: str, value: Any, info: SourceInfo) -> Variant:
        """A legacy simple-union branch: its type wrapped in
        ``q_obj_<T>-wrapper``, an object with the single member ``data``.
        The wrapper is shared by every branch of type T, and exists when T
        does (as far as T was already defined, which is what 3.1 saw)."""
        typ, ifcond, _ = _parts(value)
        type_name = self._type_name(typ, info)
        wrapper = self._implicit_object_type(
            type_name,
            info,
            None,
            "wrapper",
            [ObjectMember("data", info, type_name, False, legacy=True)],
            ifcond_from=self._schema.lookup_type(type_name),
        )
        assert wrapper is not None
        return Variant(case, info, wrapper, self._ifcond(ifcond), legacy=True)

    def _implicit_enum_type(
        self, name: str, info: SourceInfo, ifcond: IfCond | None, variants: list[Variant]
    ) -> str:
        """The legacy simple union's tag enum ``<name>Kind``: one value per
        branch, under the branch's condition."""
        kind = name + "Kind"
        values = [EnumMember(v.name, info, v.ifcond, legacy=True) for v in variants]
        self._schema.add_definition(
            EnumType(kind, info, None, ifcond, None, values, None, implicit=True)
        )
        return kind

    def _alternate(self, expr: Expression) -> None:
        info = expr.info
        features = self._features(expr.get("features"), info)
        data: dict[str, Any] = expr["data"]
        variants = [self._variant(key, value, info) for key, value in data.items()]
        tag_member = ObjectMember("type", info, "QType", False, legacy=self._legacy)
        self._schema.add_definition(
            AlternateType(
                expr["alternate"],
                info,
                expr.doc,
                self._ifcond(expr.get("if")),
                features,
                Alternatives(info, variants, tag_member),
            )
        )

    def _arguments(self, name: str, expr: Expression, ifcond: IfCond | None) -> str | None:
        data = expr.get("data")
        if isinstance(data, dict):
            return self._implicit_object_type(
                name, expr.info, ifcond, "arg", self._members(data, expr.info), expr.doc
            )
        assert data is None or isinstance(data, str)
        return data

    def _command(self, expr: Expression) -> None:
        name: str = expr["command"]
        info = expr.info
        ifcond = self._ifcond(expr.get("if"))
        features = self._features(expr.get("features"), info)
        arg_type = self._arguments(name, expr, ifcond)
        rets = expr.get("returns")
        ret_type = None if rets is None else self._type_name(rets, info)
        self._schema.add_definition(
            Command(
                name,
                info,
                expr.doc,
                ifcond,
                features,
                arg_type,
                ret_type,
                gen=expr.get("gen", True),
                success_response=expr.get("success-response", True),
                boxed=expr.get("boxed", False),
                allow_oob=expr.get("allow-oob", False),
                allow_preconfig=expr.get("allow-preconfig", False),
                coroutine=expr.get("coroutine", False),
            )
        )

    def _event(self, expr: Expression) -> None:
        name: str = expr["event"]
        info = expr.info
        ifcond = self._ifcond(expr.get("if"))
        features = self._features(expr.get("features"), info)
        arg_type = self._arguments(name, expr, ifcond)
        self._schema.add_definition(
            Event(name, info, expr.doc, ifcond, features, arg_type, expr.get("boxed", False))
        )
