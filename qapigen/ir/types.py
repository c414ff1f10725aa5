"""Type entities: builtins, enums, arrays, objects (structs and unions)
and alternates, with the variant machinery unions and alternates share.

Checks follow QEMU 10.2's ``schema.py`` for ``Dialect.QEMU`` and QEMU
3.1's for ``Dialect.LEGACY`` (whose expression checks had already caught
most problems, so its schema checks are fewer, and it ties doc comments to
members while checking, not afterwards).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING

from qapigen.errors import QAPISourceError
from qapigen.ir.entities import Definition
from qapigen.ir.members import EnumMember, Member, ObjectMember, Variant
from qapigen.ir.naming import c_name

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature
    from qapigen.ir.schema import Schema
    from qapigen.ir.visitor import SchemaVisitor

# How an alternate tells its branches apart on the wire.
_JSON_TO_QTYPE = {
    "null": "QTYPE_QNULL",
    "string": "QTYPE_QSTRING",
    "number": "QTYPE_QNUM",
    "int": "QTYPE_QNUM",
    "boolean": "QTYPE_QBOOL",
    "array": "QTYPE_QLIST",
    "object": "QTYPE_QDICT",
}


class Type(Definition, ABC):
    """Anything a member, argument or return value can have as its type."""

    @abstractmethod
    def json_type(self) -> str:
        """The JSON type of its values: ``string``, ``number``, ``int``,
        ``boolean``, ``null``, ``object``, ``array`` or ``value`` (any)."""

    def alternate_qtype(self) -> str | None:
        """The QType an alternate branch of this type is recognised by
        (None: cannot be an alternate branch)."""
        return _JSON_TO_QTYPE.get(self.json_type())

    def doc_type(self) -> str | None:
        """The type name documentation shows (None for implicit types)."""
        return None if self.is_implicit() else self.name

    def describe(self) -> str:
        return f"{self.meta} type '{self.name}'"

    def check(self, schema: Schema) -> None:
        super().check(schema)
        if schema.legacy:
            return
        for feature in self.features:
            if feature.is_special():
                raise self.error(f"feature '{feature.name}' is not supported for types")


class BuiltinType(Type):
    """``str``, ``int``, ``bool``, ``any``, ``null`` and friends."""

    meta = "built-in"

    def __init__(self, name: str, json_type: str) -> None:
        super().__init__(name, None, None)
        self._json_type = json_type

    def json_type(self) -> str:
        return self._json_type

    def doc_type(self) -> str:
        return self._json_type

    def check(self, schema: Schema) -> None:
        if not self.checked:
            super().check(schema)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_builtin_type(self)


class EnumType(Type):
    """An enumeration; ``members`` are its values in order."""

    meta = "enum"

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        doc: QAPIDoc | None,
        ifcond: IfCond | None,
        features: list[Feature] | None,
        members: list[EnumMember],
        prefix: str | None,
        *,
        implicit: bool = False,
    ) -> None:
        super().__init__(name, info, doc, ifcond, features)
        self.members = members
        self.prefix = prefix
        self._implicit = implicit
        for member in members:
            member.set_defined_in(name)

    def is_implicit(self) -> bool:
        # QType, and the legacy dialect's simple-union tag enums.
        return self._implicit

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]

    def json_type(self) -> str:
        return "string"

    def check(self, schema: Schema) -> None:
        if self.checked:
            return
        super().check(schema)
        seen: dict[str, Member] = {}
        for member in self.members:
            member.check_clash(self.info, seen)
            if schema.legacy and self.doc:
                self.doc.connect_member(member)

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        super().connect_doc(doc)
        doc = doc or self.doc
        for member in self.members:
            member.connect_doc(doc)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_enum_type(self)


class ArrayType(Type):
    """``[T]``, named ``TList``.  Made implicitly for every builtin and
    for every element type the schema uses in an array."""

    meta = "array"

    def __init__(self, name: str, info: SourceInfo | None, element_type_name: str) -> None:
        super().__init__(name, info, None)
        self.element_type_name = element_type_name
        self._element_type: Type | None = None

    @property
    def element_type(self) -> Type:
        assert self._element_type is not None, f"{self!r} is not checked yet"
        return self._element_type

    @property
    def ifcond(self) -> IfCond | None:
        # An array exists exactly when its element type does.
        return self.element_type.ifcond

    def is_implicit(self) -> bool:
        return True

    def json_type(self) -> str:
        return "array"

    def doc_type(self) -> str | None:
        element = self.element_type.doc_type()
        return None if element is None else "array of " + element

    def describe(self) -> str:
        return f"{self.meta} type ['{self.element_type_name}']"

    def module_source(self) -> SourceInfo | None:
        # Arrays live with their element type (builtin arrays in ./builtin).
        return self.element_type.info

    def check(self, schema: Schema) -> None:
        if self.checked:
            return
        super().check(schema)
        what = self.info.defn_meta if self.info else None
        self._element_type = schema.resolve_type(self.element_type_name, self.info, what)
        assert not isinstance(self._element_type, ArrayType)
        if schema.legacy:
            # QEMU 3.1 checked the element type right away.
            self._element_type.check(schema)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_array_type(self)


class ObjectType(Type):
    """A struct, a union, or an implicit object type.

    A struct has ``local_members`` and maybe a ``base``; a union has a
    ``base`` and ``branches`` (the legacy dialect's simple unions have the
    tag as their one local member instead of a base).  ``members`` is the
    flat list, base members first, known after :meth:`check`.

    Implicit object types are named ``q_obj_<definition>-<role>``:
    ``-arg`` for a command's or event's inline arguments, ``-base`` for a
    union's inline base, and (legacy) ``-wrapper`` for the one-member
    ``{'data': T}`` objects simple-union branches are wrapped in.
    ``q_empty`` is the object type with no members.
    """

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        doc: QAPIDoc | None,
        ifcond: IfCond | None,
        features: list[Feature] | None,
        base_name: str | None,
        local_members: list[ObjectMember],
        branches: Branches | None,
        *,
        ifcond_from: Type | None = None,
        legacy_doc: QAPIDoc | None = None,
    ) -> None:
        super().__init__(name, info, doc, ifcond, features)
        self.meta = "union" if branches else "struct"
        self.base_name = base_name
        self.local_members = local_members
        self.branches = branches
        for member in local_members:
            member.set_defined_in(name)
        if branches is not None:
            branches.set_defined_in(name)
        self._base: ObjectType | None = None
        self._members: list[ObjectMember] | None = None
        # Legacy simple-union wrappers exist when the wrapped type does.
        self._ifcond_from = ifcond_from
        # Legacy: the doc QEMU 3.1 checked this type's members against
        # (an implicit type's is its definition's).
        self._legacy_doc = legacy_doc if legacy_doc is not None else doc

    @property
    def base(self) -> ObjectType | None:
        assert self.checked, f"{self!r} is not checked yet"
        return self._base

    @property
    def members(self) -> list[ObjectMember]:
        assert self._members is not None, f"{self!r} is not checked yet"
        return self._members

    @property
    def ifcond(self) -> IfCond | None:
        if self._ifcond_from is not None:
            return self._ifcond_from.ifcond
        return self._ifcond

    def is_implicit(self) -> bool:
        return self.name.startswith("q_")

    def is_empty(self) -> bool:
        return not self.members and not self.branches

    def has_conditional_members(self) -> bool:
        return any(m.ifcond is not None for m in self.members)

    def json_type(self) -> str:
        return "object"

    def check(self, schema: Schema) -> None:
        if self._members is not None:
            return  # done already, on behalf of a type embedding this one
        legacy = schema.legacy
        if self.checked:
            # We are being checked, and our check got back here: this
            # object would have to contain itself.
            word = "Object" if legacy else "object"
            raise self.error(f"{word} {self.name} contains itself")
        if legacy and self._ifcond_from is not None:
            self._ifcond_from.check(schema)
        super().check(schema)

        seen: dict[str, Member] = {}
        members: list[ObjectMember] = []
        if self.base_name:
            base = schema.resolve_type(self.base_name, self.info, "'base'")
            if not isinstance(base, ObjectType) or base.branches:
                raise self.error(f"'base' requires a struct type, {base.describe()} isn't")
            base.check(schema)
            base.check_clash(self.info, seen)
            self._base = base
            members.extend(base.members)
        doc = self._legacy_doc if legacy else None
        for member in self.local_members:
            member.check(schema)
            member.check_clash(self.info, seen)
            if doc:
                # With its features, which (as from QEMU 5.0) the
                # definition's "Features:" section describes.
                member.connect_doc(doc)
            members.append(member)

        if self.branches:
            self.branches.check(schema, seen)
            self.branches.check_clash(self.info, seen)
        if doc:
            doc.check()
        self._members = members

    def check_clash(self, info: SourceInfo | None, seen: dict[str, Member]) -> None:
        """Add this type's JSON members (all branches' included) to *seen*,
        reporting clashes on behalf of the definition at *info*."""
        for member in self.members:
            member.check_clash(info, seen)
        if self.branches:
            self.branches.check_clash(info, seen)

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        super().connect_doc(doc)
        doc = doc or self.doc
        if self.base and self.base.is_implicit():
            self.base.connect_doc(doc)
        for member in self.local_members:
            member.connect_doc(doc)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_object_type(self)


class AlternateType(Type):
    """A value of one of several types, told apart by its JSON type."""

    meta = "alternate"

    def __init__(
        self,
        name: str,
        info: SourceInfo,
        doc: QAPIDoc | None,
        ifcond: IfCond | None,
        features: list[Feature] | None,
        alternatives: Alternatives,
    ) -> None:
        super().__init__(name, info, doc, ifcond, features)
        self.alternatives = alternatives
        alternatives.set_defined_in(name)
        alternatives.tag_member.set_defined_in(name)

    def json_type(self) -> str:
        return "value"

    def is_empty(self) -> bool:
        return False

    def check(self, schema: Schema) -> None:
        if self.checked:
            return
        super().check(schema)
        self.alternatives.tag_member.check(schema)
        self.alternatives.check(schema)
        # Branch names are not tag values, so nothing else checks them.
        seen: dict[str, Member] = {}
        types_seen: dict[str, str] = {}
        for variant in self.alternatives.variants:
            variant.check_clash(self.info, seen)
            if schema.legacy:
                # QEMU 3.1 checked branch types with the expressions.
                if self.doc:
                    self.doc.connect_member(variant)
                continue
            self._check_distinguishable(variant, types_seen)
        if schema.legacy and self.doc:
            self.doc.check()

    def _check_distinguishable(self, variant: Variant, types_seen: dict[str, str]) -> None:
        """Each branch must be recognisable by the JSON type of a value;
        strings that look like numbers or booleans count as those too."""
        qtype = variant.type.alternate_qtype()
        if not qtype:
            raise self.error(f"{variant.describe(self.info)} cannot use {variant.type.describe()}")
        conflicting = [qtype]
        if qtype == "QTYPE_QSTRING":
            if isinstance(variant.type, EnumType):
                for member in variant.type.members:
                    if member.name in ("on", "off"):
                        conflicting.append("QTYPE_QBOOL")
                    if re.match(r"[-+0-9.]", member.name):
                        conflicting.append("QTYPE_QNUM")
            else:
                conflicting += ["QTYPE_QNUM", "QTYPE_QBOOL"]
        for qt in dict.fromkeys(conflicting):
            if qt in types_seen:
                raise self.error(
                    f"{variant.describe(self.info)} can't be distinguished"
                    f" from '{types_seen[qt]}'"
                )
            types_seen[qt] = variant.name

    def connect_doc(self, doc: QAPIDoc | None = None) -> None:
        super().connect_doc(doc)
        doc = doc or self.doc
        for variant in self.alternatives.variants:
            variant.connect_doc(doc)

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_alternate_type(self)


class Variants:
    """The branches of a union or alternate, and the member that tells
    which branch a value takes (``tag_member``)."""

    def __init__(self, info: SourceInfo, variants: list[Variant]) -> None:
        self.info = info
        self.variants = variants
        self._tag_member: ObjectMember | None = None

    @property
    def tag_member(self) -> ObjectMember:
        assert self._tag_member is not None, "variants are not checked yet"
        return self._tag_member

    def set_defined_in(self, name: str) -> None:
        for variant in self.variants:
            variant.set_defined_in(name)

    def __iter__(self) -> Iterator[Variant]:
        return iter(self.variants)


class Alternatives(Variants):
    """An alternate's branches; the tag is the implicit member ``type``
    of enum type ``QType``."""

    def __init__(self, info: SourceInfo, variants: list[Variant], tag_member: ObjectMember) -> None:
        super().__init__(info, variants)
        self._tag_member = tag_member

    def check(self, schema: Schema) -> None:
        for variant in self.variants:
            variant.check(schema)


class Branches(Variants):
    """A union's branches, selected by the base member named ``tag_name``.

    Checking adds an empty branch (type ``q_empty``) for every tag value
    the union does not list, so ``variants`` always covers the tag enum.
    """

    def __init__(self, info: SourceInfo, variants: list[Variant], tag_name: str) -> None:
        super().__init__(info, variants)
        self.tag_name = tag_name

    def _error(self, msg: str) -> QAPISourceError:
        return QAPISourceError(self.info, msg)

    def check(self, schema: Schema, seen: dict[str, Member]) -> None:
        tag_member = seen.get(c_name(self.tag_name, legacy=schema.legacy))
        if not isinstance(tag_member, ObjectMember) or tag_member.name != self.tag_name:
            raise self._error(f"discriminator '{self.tag_name}' is not a member of 'base'")
        self._tag_member = tag_member
        assert tag_member.defined_in is not None
        owner = schema.lookup_type(tag_member.defined_in)
        assert owner is not None
        where = "'base'" if owner.is_implicit() else f"base type '{tag_member.defined_in}'"
        tag_type = tag_member.type
        if not isinstance(tag_type, EnumType):
            raise self._error(
                f"discriminator member '{self.tag_name}' of {where} must be of enum type"
            )
        if tag_member.optional:
            raise self._error(
                f"discriminator member '{self.tag_name}' of {where} must not be optional"
            )
        if tag_member.ifcond is not None:
            raise self._error(
                f"discriminator member '{self.tag_name}' of {where} must not be conditional"
            )
        covered = {v.name for v in self.variants}
        for value in tag_type.members:
            if value.name not in covered:
                empty = Variant(
                    value.name, self.info, "q_empty", value.ifcond, legacy=schema.legacy
                )
                empty.set_defined_in(tag_member.defined_in)
                self.variants.append(empty)
        if not self.variants:
            raise self._error("union has no branches")
        values = tag_type.member_names()
        for variant in self.variants:
            variant.check(schema)
            if variant.name not in values:
                raise self._error(
                    f"branch '{variant.name}' is not a value of {tag_type.describe()}"
                )
            if not isinstance(variant.type, ObjectType):
                raise self._error(
                    f"{variant.describe(self.info)} cannot use {variant.type.describe()}"
                )
            variant.type.check(schema)

    def check_clash(self, info: SourceInfo | None, seen: dict[str, Member]) -> None:
        # Each branch adds its members to the common ones separately.
        for variant in self.variants:
            branch_type = variant.type
            assert isinstance(branch_type, ObjectType)
            branch_type.check_clash(info, dict(seen))
