"""QEMU's reading of JSON text, for the texts orjson refuses.

orjson parses every valid message (:mod:`qapigen.support.wirejson`); what
it refuses is either one of QEMU's extensions, which QEMU accepts, or an
error, for which the client must get QEMU's message (spec A.1):

- single-quoted strings (``{'execute': 'stop'}``), where ``\\'`` escapes a
  quote;
- integers beyond the 64-bit range become floats, and a float beyond the
  double range is infinite;
- errors read ``JSON parse error, <detail>``: the first problem met, in
  QEMU's recursive reading order (``expecting value``, ``invalid keyword
  'tru'``, ``expected separator in dict``, ``missing : in object pair``,
  ``key is not a string in object``, ``duplicate key``, ...).

Speed does not matter here: only malformed or unusual text comes this way.
"""

from __future__ import annotations

import re
from typing import Any

from qapigen.support.errors import QMPError

MAX_DEPTH = 1024

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\n\r]+)
  | (?P<punct>[{}\[\]:,])
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
  | (?P<keyword>[a-zA-Z]+)
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}  # fmt: skip

_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


class _Error(Exception):
    """One parse error; the first raised is the one reported."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _Error(f"stray '{text[pos]}'")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(("string" if kind in ("dq", "sq") else kind, match.group()))
        pos = match.end()
    return tokens


def _string(token: str) -> str:
    body = token[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif esc == "u":
            digits = body[i + 2 : i + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise _Error("invalid hex escape sequence in string")
            code = int(digits, 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and body[i : i + 2] == "\\u":
                low = body[i + 2 : i + 6]
                if len(low) == 4 and 0xDC00 <= int(low, 16) < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                    i += 6
            if 0xD800 <= code < 0xE000 or code == 0:
                raise _Error(f"\\u{digits} is not a valid Unicode character")
            out.append(chr(code))
        else:
            raise _Error("invalid escape sequence in string")
    return "".join(out)


def _number(token: str) -> int | float:
    if "." in token or "e" in token or "E" in token:
        return float(token)
    value = int(token)
    if -(2**63) <= value <= 2**64 - 1:
        return value
    return float(token)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def pop(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Error("premature EOI")
        self.pos += 1
        return token

    def value(self, depth: int) -> Any:
        kind, text = self.pop()
        if kind == "punct" and text == "{":
            return self.object(depth + 1)
        if kind == "punct" and text == "[":
            return self.array(depth + 1)
        if kind == "string":
            return _string(text)
        if kind == "number":
            return _number(text)
        if kind == "keyword":
            if text in _KEYWORDS:
                return _KEYWORDS[text]
            raise _Error(f"invalid keyword '{text}'")
        raise _Error("expecting value")

    def object(self, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise QMPError("JSON nesting depth limit exceeded")
        result: dict[str, Any] = {}
        if self.peek() == ("punct", "}"):
            self.pop()
            return result
        while True:
            key = self.value(depth)
            if not isinstance(key, str):
                raise _Error("key is not a string in object")
            if self.pop() != ("punct", ":"):
                raise _Error("missing : in object pair")
            value = self.value(depth)
            if key in result:
                raise _Error("duplicate key")
            result[key] = value
            token = self.pop()
            if token == ("punct", "}"):
                return result
            if token != ("punct", ","):
                raise _Error("expected separator in dict")

    def array(self, depth: int) -> list[Any]:
        if depth > MAX_DEPTH:
            raise QMPError("JSON nesting depth limit exceeded")
        result: list[Any] = []
        if self.peek() == ("punct", "]"):
            self.pop()
            return result
        while True:
            result.append(self.value(depth))
            token = self.pop()
            if token == ("punct", "]"):
                return result
            if token != ("punct", ","):
                raise _Error("expected separator in list")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The one JSON value in *data*, read as QEMU reads it, or a
    :class:`QMPError` with QEMU's message."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise QMPError("JSON parse error, invalid UTF-8 sequence in string") from None
    try:
        parser = _Parser(_tokens(text))
        value = parser.value(0)
        if parser.peek() is not None:
            # QEMU reads a stream; one call reads one value.
            raise _Error("expecting value")
    except _Error as err:
        raise QMPError(f"JSON parse error, {err}") from None
    return value
