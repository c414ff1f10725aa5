"""QMP output as QEMU writes it.

QEMU builds every message as a QDict and writes it with its own JSON
writer, so three things are visible on the wire:

- key order is QDict's iteration order: by hash bucket (the tdb hash of the
  key modulo 512), and within a bucket the key inserted last comes first;
  that is why replies read ``{"return": ..., "id": ...}`` and errors
  ``{"id": ..., "error": ...}``;
- strings escape ``"``, ``\\``, the usual control escapes, and every other
  character outside printable ASCII as upper-case ``\\uXXXX`` (surrogate
  pairs beyond the BMP);
- doubles are printed with ``%.17g`` (so ``1.0`` becomes ``1`` and an
  overflowing number ``inf``).

Python dicts keep insertion order, which for our encoders is the schema's
member order, the order QEMU's output visitor inserts in.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_BUCKETS = 512


def tdb_hash(key: str) -> int:
    """QDict's hash of *key* (32-bit unsigned arithmetic on its UTF-8 bytes)."""
    data = key.encode("utf-8", "surrogatepass")
    value = (0x238F13AF * len(data)) & 0xFFFFFFFF
    for i, byte in enumerate(data):
        value = (value + (byte << (i * 5 % 24))) & 0xFFFFFFFF
    return (1103515243 * value + 12345) & 0xFFFFFFFF


@lru_cache(maxsize=4096)
def _bucket(key: str) -> int:
    return tdb_hash(key) % _BUCKETS


@lru_cache(maxsize=4096)
def qdict_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """*keys* (in insertion order) in the order QEMU iterates a QDict."""
    ranked = sorted(range(len(keys)), key=lambda i: (_bucket(keys[i]), -i))
    return tuple(keys[i] for i in ranked)


_PLAIN = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


class _EscapeTable(dict[int, str]):
    """``str.translate`` table: each character's escape, computed once."""

    def __missing__(self, cp: int) -> str:
        escaped = _escape_char(chr(cp))
        self[cp] = escaped
        return escaped


def _escape_char(ch: str) -> str:
    simple = _ESCAPES.get(ch)
    if simple is not None:
        return simple
    if "\x20" <= ch <= "\x7e":
        return ch
    cp = ord(ch)
    if 0xD800 <= cp <= 0xDFFF:
        cp = 0xFFFD  # a lone surrogate is not valid UTF-8 in QEMU either
    if cp > 0xFFFF:
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}"
    return f"\\u{cp:04X}"


_TABLE = _EscapeTable()
for _cp in range(0x80):
    _TABLE[_cp] = _escape_char(chr(_cp))


def quote(text: str) -> str:
    if _PLAIN.match(text):
        return f'"{text}"'
    return '"' + text.translate(_TABLE) + '"'


def format_double(value: float) -> str:
    return format(value, ".17g")


def dumps(value: Any) -> str:
    """*value* as QEMU's JSON writer writes it (compact, one line)."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(quote(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        first = True
        for key in qdict_order(tuple(value)):
            if not first:
                out.append(", ")
            first = False
            out.append(quote(key))
            out.append(": ")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _write(item, out)
        out.append("]")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_double(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as QMP JSON")
