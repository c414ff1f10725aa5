"""The base class of every generated enumeration."""

from __future__ import annotations

import enum
from typing import ClassVar, Self

from qapigen.support import drift, policy
from qapigen.support.wire import Path, enum_value
from qapigen.support.wirejson import parse


class WireEnum(enum.Enum):
    """An enumeration whose values are its wire strings.

    ``__special__`` maps the wire values that carry the ``deprecated`` or
    ``unstable`` feature to those two flags; the compat policy looks there.
    (A dunder name, because Enum turns any other class attribute into a
    member.)
    """

    _value_: str
    __special__: ClassVar[dict[str, tuple[bool, bool]]] = {}

    @classmethod
    def from_wire(
        cls, value: object, path: Path = "", name: str = "null", *, tolerant: bool = False
    ) -> Self:
        if tolerant:
            # An unknown value: an UnknownValue (a str), not a member.
            return drift.decode_class(cls, value, path, name)
        member = enum_value(cls, value, path, name)
        special = cls.__special__.get(member._value_)
        if special is not None:
            policy.check_value(member._value_, *special)
        return member

    @classmethod
    def from_json(cls, data: bytes | str, *, tolerant: bool = False) -> Self:
        """Decode JSON text, like ``from_wire`` after QEMU's parser."""
        return cls.from_wire(parse(data), tolerant=tolerant)

    def to_wire(self) -> str:
        return self._value_
