"""Members: object members, enum values, union/alternate branches, features.

They share a name, a source location, a condition and the name of the
definition they belong to (``defined_in``), which is what QEMU's messages
need to say *whose* member clashed ("member 'x' of type 'Base'").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from qapigen.errors import QAPISourceError
from qapigen.frontend.legacy_exceptions import case_exempt
from qapigen.ir.naming import c_name

if TYPE_CHECKING:
    from qapigen.frontend.docs import QAPIDoc
    from qapigen.frontend.source import SourceInfo
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.schema import Schema
    from qapigen.ir.types import Type

#: Features with a meaning QEMU itself knows; every schema has them.
SPECIAL_FEATURES = ("deprecated", "unstable")


class Member:
    """The common part of all members."""

    #: What QEMU calls this kind of member in messages.
    role: ClassVar[str] = "member"
    #: Whether the legacy dialect treats it as QEMU 3.1 did: 3.1's wording
    #: in messages, and upper case refused here (see :meth:`check_clash`).
    follows_3_1: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        ifcond: IfCond | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        self.name = name
        self.info = info
        self.ifcond = ifcond
        self.defined_in: str | None = None
        # Legacy members describe themselves the QEMU 3.1 way.
        self._legacy = legacy

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def set_defined_in(self, name: str) -> None:
        assert self.defined_in is None, f"{self!r} already belongs to {self.defined_in}"
        self.defined_in = name

    def c_name(self) -> str:
        return c_name(self.name, legacy=self._legacy)

    def check_clash(self, info: SourceInfo | None, seen: dict[str, Member]) -> None:
        """Record this member in *seen* (keyed by C name), raising QEMU's
        error on behalf of *info* if another member already took the name.

        The legacy dialect also rejects upper case here, as QEMU 3.1 did,
        unless the owner is listed in the name-case pragma.
        """
        cname = self.c_name()
        if self._legacy and self.follows_3_1 and cname.lower() != cname:
            exceptions = info.pragma.member_name_exceptions if info else []
            if not case_exempt(self.defined_in, exceptions):
                raise QAPISourceError(info, f"{self.describe(info)} should not use uppercase")
        other = seen.get(cname)
        if other is not None:
            raise QAPISourceError(
                info, f"{self.describe(info)} collides with {other.describe(info)}"
            )
        seen[cname] = self

    def connect_doc(self, doc: QAPIDoc | None) -> None:
        if doc:
            doc.connect_member(self)

    def describe(self, info: SourceInfo | None) -> str:
        """How QEMU refers to this member in a message about the definition
        at *info*: ``member 'x'``, or ``member 'x' of type 'Base'`` when it
        comes from elsewhere; implicit owners are named after the
        definition that made them (``parameter 'x'``, ``base member 'x'``).
        """
        assert self.defined_in is not None
        if self._legacy and self.follows_3_1:
            return self._describe_legacy()
        role, meta, owner = self.role, "type", self.defined_in
        if owner.startswith("q_obj_"):
            owner = owner[len("q_obj_") :]
            if owner.endswith("-arg"):
                role, meta, owner = "parameter", "command", owner[: -len("-arg")]
            elif owner.endswith("-base"):
                role, owner = "base " + role, owner[: -len("-base")]
        if info is None or owner != info.defn_name:
            return f"{role} '{self.name}' of {meta} '{owner}'"
        return f"{role} '{self.name}'"

    def _describe_legacy(self) -> str:
        """QEMU 3.1's wording: ``'x' (member of Foo)``."""
        assert self.defined_in is not None
        owner = self.defined_in
        if owner.startswith("q_obj_"):
            owner = owner[len("q_obj_") :]
            if owner.endswith("-arg"):
                return f"'{self.name}' (parameter of {owner[: -len('-arg')]})"
            if owner.endswith("-base"):
                return f"'{self.name}' (base of {owner[: -len('-base')]})"
        elif owner.endswith("Kind") and self.role == "value":
            return f"'{self.name}' (branch of {owner[: -len('Kind')]})"
        return f"'{self.name}' ({self.role} of {owner})"


class Feature(Member):
    """A feature flag of a definition, member or enum value."""

    role = "feature"
    # QEMU 3.1 had no features.  The legacy dialect follows 5.2 for them:
    # messages say "feature 'f' of type 'member'" as 5.2 (and 10.2) did,
    # and the expression checks have already refused upper case.
    follows_3_1 = False

    def is_special(self) -> bool:
        """``deprecated`` and ``unstable`` mean something to QEMU itself."""
        return self.name in SPECIAL_FEATURES


class _WithFeatures(Member):
    """A member that can carry features of its own."""

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        ifcond: IfCond | None = None,
        features: list[Feature] | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        super().__init__(name, info, ifcond, legacy=legacy)
        self.features: list[Feature] = features or []
        # QEMU records the member's own name as the features' owner.
        for feature in self.features:
            feature.set_defined_in(name)

    def connect_doc(self, doc: QAPIDoc | None) -> None:
        super().connect_doc(doc)
        if doc:
            for feature in self.features:
                doc.connect_feature(feature)


class EnumMember(_WithFeatures):
    """One value of an enumeration."""

    role = "value"


class ObjectMember(_WithFeatures):
    """A member of an object type (struct member, command argument, ...).

    ``type`` is resolved by :meth:`check`.
    """

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        type_name: str,
        optional: bool,
        ifcond: IfCond | None = None,
        features: list[Feature] | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        super().__init__(name, info, ifcond, features, legacy=legacy)
        self.type_name = type_name
        self.optional = optional
        self._type: Type | None = None

    @property
    def type(self) -> Type:
        assert self._type is not None, f"{self!r} is not checked yet"
        return self._type

    def check(self, schema: Schema) -> None:
        assert self.defined_in is not None
        self._type = schema.resolve_type(self.type_name, self.info, self.describe)
        seen: dict[str, Member] = {}
        for feature in self.features:
            feature.check_clash(self.info, seen)


class Variant(ObjectMember):
    """A branch of a union or an alternate: its name (the tag value for
    unions) and its type."""

    role = "branch"

    def __init__(
        self,
        name: str,
        info: SourceInfo | None,
        type_name: str,
        ifcond: IfCond | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        super().__init__(name, info, type_name, False, ifcond, legacy=legacy)
