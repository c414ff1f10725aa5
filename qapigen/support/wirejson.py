"""JSON text to JSON values, for decoding straight from wire bytes.

``T.from_json(data)`` and the dispatcher's bytes entry point parse with
orjson.  Measured (``benchmarks/decode.py``, 12-action ``transaction``):
``orjson.loads`` takes about 7.5 µs of qapigen's 36 µs, the generated
validators the rest; ``json.loads`` is about 2.5x slower than orjson.
msgspec's typed decoder (5.3 µs) was the other candidate for the valid
path, but it builds msgspec Structs: it would need a second class for
every type (1,200 more to import), and turning its Structs into the
generated classes is a Python walk like ``from_wire`` itself, so it would
not save the validators' time; nor can it give QEMU's messages.  So
parsing is orjson's job and validation stays in the generated code.

Only text that orjson refuses goes to :mod:`qapigen.support.qemujson`,
which parses as QEMU does (single-quoted strings, integers beyond 64 bits
become floats) and otherwise raises QEMU's ``JSON parse error, ...``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Self

import orjson

from qapigen.support import qemujson

if TYPE_CHECKING:
    from qapigen.support.wire import Path

_loads = orjson.loads
_dumps = orjson.dumps
_JSONEncodeError = orjson.JSONEncodeError
_JSONDecodeError = orjson.JSONDecodeError


def encode_response(response: dict[str, Any]) -> bytes:
    """A response object as JSON text (UTF-8 bytes, no line end).  orjson
    writes integers up to 2**64-1 exactly, as QEMU does; a value it cannot
    write (a larger integer in an ``any``) goes through ``json``."""
    try:
        return _dumps(response)
    except _JSONEncodeError:
        return json.dumps(response).encode()


def parse(data: bytes | bytearray | memoryview | str) -> Any:
    """The JSON value in *data*, as QEMU's parser reads it; raises
    :class:`~qapigen.support.errors.QMPError` with QEMU's text if it is
    not JSON."""
    try:
        return _loads(data)
    except _JSONDecodeError:
        return qemujson.loads(data)


class FromJson:
    """Gives a generated class ``from_json``: its ``from_wire`` applied to
    parsed text.  The root of every generated struct and event class (a
    mixin without slots of its own, so the dataclasses keep theirs)."""

    __slots__ = ()

    if TYPE_CHECKING:

        @classmethod
        def from_wire(cls, value: object, path: Path = "", name: str = "null") -> Self: ...

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        """Decode JSON text (``bytes`` as read from a socket, or ``str``):
        QEMU's parse errors, then the same checks and messages as
        ``from_wire``."""
        return cls.from_wire(parse(data))
