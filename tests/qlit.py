"""Read the ``query-qmp-schema`` answer out of a ``qapi-introspect.c`` that
QEMU's own generator (``scripts/qapi-gen.py``) wrote, so that tests can
compare it with ``qapigen.backends.introspect``.

The file holds one C initializer built from QLit macros:
``QLIT_QLIST(((QLitObject[]) { v, ..., {} }))``,
``QLIT_QDICT(((QLitDictEntry[]) { { "key", v, }, ..., {} }))``,
``QLIT_QSTR("s")``, ``QLIT_QBOOL(true)``, ``QLIT_QNUM(n)``, ``QLIT_QNULL``.
Preprocessor lines (the ``#if`` of conditional definitions) are dropped,
which takes every condition as true, as the corpus's golden files do.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<word>[A-Za-z_]\w*)|(?P<num>-?\d+)|(?P<punct>[(){}\[\],]))"""
)
_LIST_OPEN = ("(", "(", "(", "QLitObject", "[", "]", ")", "{")
_DICT_OPEN = ("(", "(", "(", "QLitDictEntry", "[", "]", ")", "{")
_CLOSE = ("}", ")", ")")


def _tokens(text: str) -> list[str]:
    tokens = []
    pos = 0
    while True:
        match = _TOKEN.match(text, pos)
        if not match:
            rest = text[pos:].strip()
            if rest not in ("", ";"):
                raise ValueError(f"unexpected C text: {rest[:60]!r}")
            return tokens
        tokens.append(match.group(match.lastgroup or "punct"))
        pos = match.end()


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, *expected: str) -> None:
        for want in expected:
            got = self.take()
            if got != want:
                raise ValueError(f"expected {want!r}, got {got!r} at token {self.pos}")

    def value(self) -> Any:
        macro = self.take()
        if macro == "QLIT_QLIST":
            self.expect(*_LIST_OPEN)
            items = []
            while self.tokens[self.pos] != "{":
                items.append(self.value())
                self.expect(",")
            self.expect("{", "}", *_CLOSE)
            return items
        if macro == "QLIT_QDICT":
            self.expect(*_DICT_OPEN)
            entries: dict[str, Any] = {}
            while True:
                self.expect("{")
                if self.tokens[self.pos] == "}":
                    self.take()
                    break
                key = json.loads(self.take())
                self.expect(",")
                entries[key] = self.value()
                self.expect(",", "}", ",")
            self.expect(*_CLOSE)
            return entries
        if macro == "QLIT_QNULL":
            return None
        self.expect("(")
        token = self.take()
        self.expect(")")
        if macro == "QLIT_QSTR":
            return json.loads(token)
        if macro == "QLIT_QBOOL":
            return token == "true"
        if macro == "QLIT_QNUM":
            return int(token)
        raise ValueError(f"unknown QLit macro {macro!r}")


def read_introspect_c(text: str) -> list[dict[str, Any]]:
    """The SchemaInfo list ``qmp_schema_qlit`` in *text* stands for."""
    start = text.index("qmp_schema_qlit =") + len("qmp_schema_qlit =")
    end = text.find("/* Dummy", start)
    body = text[start : end if end >= 0 else len(text)]
    lines = (line for line in body.splitlines() if not line.lstrip().startswith(("#", "/*")))
    reader = _Reader(_tokens("\n".join(lines)))
    result = reader.value()
    if reader.pos != len(reader.tokens) or not isinstance(result, list):
        raise ValueError("trailing text after the schema list")
    return result
