"""Codecs for QAPI types that are not classes of their own.

Enums and structs decode with ``Cls.from_wire`` and encode with
``obj.to_wire()``.  Unions and alternates are type aliases (so that mypy
narrows them), arrays are ``list[...]`` and builtins are Python's own
types; for those, ``TYPES`` holds a :class:`Codec` with the same two
functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qapigen.support import fastpath, wire
from qapigen.support.fastpath import FAST_ERRORS
from qapigen.support.policy import DEFAULT_POLICY as _DEFAULT_POLICY
from qapigen.support.policy import current_policy as _current_policy
from qapigen.support.wire import Path
from qapigen.support.wirejson import parse


@dataclass(frozen=True, slots=True)
class Codec:
    name: str
    kind: str  # "builtin", "array", "union" or "alternate"
    #: (value, path, name, *, tolerant=False) -> the decoded value.
    decode: Callable[..., Any]
    encode: Callable[[Any], object]
    #: The generated package the type belongs to ("" for builtins, which
    #: decode fast enough after orjson); from_json's fast path needs it.
    package: str = ""

    def __post_init__(self) -> None:
        if not self.package and self.kind in ("union", "alternate"):
            module = getattr(self.decode, "__module__", "") or ""
            object.__setattr__(self, "package", module.rpartition(".")[0])

    def from_wire(
        self, value: object, path: Path = "", name: str = "null", *, tolerant: bool = False
    ) -> Any:
        """Decode a JSON value; *tolerant* decodes what a newer or older
        server sends (:mod:`qapigen.support.drift`; builtins have no drift)."""
        if tolerant and self.kind != "builtin":
            return self.decode(value, path, name, tolerant=True)
        return self.decode(value, path, name)

    def from_json(self, data: bytes | str, *, tolerant: bool = False) -> Any:
        """Decode JSON text (``bytes`` or ``str``): QEMU's parse errors,
        then the same checks and messages as :meth:`from_wire`.  Valid
        text takes the fast path (:mod:`qapigen.support.fastpath`) when
        the codec knows its package; with *tolerant*, text the fast path
        refuses goes to ``from_wire(..., tolerant=True)``."""
        if self.package and _current_policy() is _DEFAULT_POLICY:
            fast = fastpath.decoder_in_use(self.package, self.name)
            if fast is not None:
                try:
                    return fast(data)
                except FAST_ERRORS:
                    pass
        if tolerant:
            return self.from_wire(parse(data), tolerant=True)
        return self.decode(parse(data), "", "null")

    def to_wire(self, value: Any) -> object:
        return self.encode(value)


def encode_object(value: Any) -> object:
    """Encode a struct or union branch instance."""
    return value.to_wire()


def array_codec(name: str, element: Any, package: str = "") -> Codec:
    """The codec of ``[T]`` given T's class or codec."""
    decode_element = element.from_wire
    encode_element = element.to_wire if isinstance(element, Codec) else _instance_to_wire

    def decode(value: object, path: Path, name: str, *, tolerant: bool = False) -> list[Any]:
        if tolerant:
            if type(value) is not list:
                raise wire.wrong_type(path or name, "array")
            return [
                decode_element(x, (path, i), "null", tolerant=True) for i, x in enumerate(value)
            ]
        return wire.list_value(decode_element, value, path, name)

    def encode(values: list[Any]) -> object:
        return [encode_element(v) for v in values]

    return Codec(name, "array", decode, encode, package)


def _instance_to_wire(value: Any) -> object:
    return value.to_wire()


BUILTINS: dict[str, Codec] = {
    name: Codec(name, "builtin", decoder, wire.encode_scalar)
    for name, decoder in {
        "str": wire.str_value,
        "number": wire.number_value,
        "int": wire.int_value,
        "int8": wire.int8_value,
        "int16": wire.int16_value,
        "int32": wire.int32_value,
        "int64": wire.int_value,
        "uint8": wire.uint8_value,
        "uint16": wire.uint16_value,
        "uint32": wire.uint32_value,
        "uint64": wire.uint64_value,
        "size": wire.size_value,
        "bool": wire.bool_value,
        "null": wire.null_value,
        "any": wire.any_value,
    }.items()
}
