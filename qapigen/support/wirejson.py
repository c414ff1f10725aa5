"""JSON text to JSON values, for decoding straight from wire bytes.

Two engines, chosen by measurement (``benchmarks/decode.py``, QEMU 10.2's
12-action ``transaction``, quiet machine): pydantic's
``model_validate_json`` took about 33 µs; orjson parsing plus the
generated validators about 32 µs (orjson about 7 µs of it: the Python
walk is the cost); msgspec's typed decoder about 5 µs, but into msgspec
Structs and without QEMU's messages.  So:

- valid text takes msgspec's typed decoder, with mirror types built from
  the ``WIRESPEC_HERE`` tables of the package, and straight-line conversion into the
  generated classes (:mod:`qapigen.support.fastpath`): about 12 µs;
- anything msgspec refuses takes the exact path here: orjson (the fastest
  parser for a dict of Python values; ``json.loads`` is about 2.5x
  slower) and the generated ``from_wire``, which give QEMU's message.
  The dispatcher's bytes entry point also parses with orjson: a request
  envelope must be checked member by member anyway.

Only text that orjson refuses goes to :mod:`qapigen.support.qemujson`,
which parses as QEMU does (single-quoted strings, integers beyond 64 bits
become floats) and otherwise raises QEMU's ``JSON parse error, ...``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

import orjson

from qapigen.support import fastpath, qemujson
from qapigen.support.fastpath import FAST_ERRORS
from qapigen.support.policy import DEFAULT_POLICY as _DEFAULT_POLICY
from qapigen.support.policy import current_policy as _current_policy

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

    #: Members the bindings do not know, as received (``from_wire(...,
    #: tolerant=True)`` of a newer server's value; :mod:`qapigen.support.drift`).
    #: Objects with drift carry their own in a slot of a subclass.
    extra: Mapping[str, object] = MappingProxyType({})
    #: Wire names of mandatory members the server left out (an older
    #: server); those members are None.
    missing: tuple[str, ...] = ()

    if TYPE_CHECKING:

        @classmethod
        def from_wire(
            cls, value: object, path: Path = "", name: str = "null", *, tolerant: bool = False
        ) -> Self: ...

    @classmethod
    def from_json(cls, data: bytes | str, *, tolerant: bool = False) -> Self:
        """Decode JSON text (``bytes`` as read from a socket, or ``str``):
        QEMU's parse errors, then the same checks and messages as
        ``from_wire``.  Valid text takes the fast path
        (:mod:`qapigen.support.fastpath`); with *tolerant*, text the fast
        path refuses goes to ``from_wire(..., tolerant=True)``."""
        fast = _FAST.get(cls)
        if fast is None:
            fast = _class_decoder(cls)
            if fast is not None:
                _FAST[cls] = fast
        if fast is not None and _current_policy() is _DEFAULT_POLICY:
            try:
                result: Self = fast(data)
                return result
            except FAST_ERRORS:
                pass
        return cls.from_wire(parse(data), tolerant=tolerant)


_FAST: dict[type, Any] = {}


def _class_decoder(cls: type) -> Any:
    """The fast decoder of a generated struct class (not of union branches
    or events, which take the exact path)."""
    if hasattr(cls, "TAG") or hasattr(cls, "NAME"):
        return None
    package = cls.__module__.rpartition(".")[0]
    return fastpath.decoder_in_use(package, cls.WIRE_NAME)  # type: ignore[attr-defined]
