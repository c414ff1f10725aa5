"""Fuzzing the front end: broken schemas may only ever raise QAPIError.

Hypothesis mutates valid schemas (small ones embedded here, the legacy
cases in ``tests/legacy/`` and, when present, the valid cases of QEMU's own
suite) three ways: as text (truncate, insert, delete, duplicate, requote),
as bytes (invalid UTF-8, NUL, BOM, stray control characters) and as a tree
of values (delete, add, duplicate and retype keys; change 'if' shapes;
reorder, drop and repeat definitions; nest deeply).  Every mutant is loaded
under both dialects, with doc comments parsed or ignored.  The test fails
when anything other than :class:`qapigen.QAPIError` escapes, when an error
points past the end of the file, or when one load takes too long.

Hypothesis runs derandomized with no example database, so CI sees the same
examples on every run; the example counts keep the whole file well under a
minute.
"""

from __future__ import annotations

import copy
import faulthandler
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qapigen
from qapigen import QAPIError
from qapigen.errors import QAPISourceError
from qapigen.ir import EnumType
from tests.conftest import QEMU_SUITE, hypothesis_settings

LEGACY = Path(__file__).resolve().parent / "legacy"

# Seconds one load may take before the guard calls it a hang (tiny schemas
# load in milliseconds; the largest seed in well under a second).
HANG_SECONDS = 10
# Seconds the whole file may take before faulthandler dumps every thread's
# stack and kills the run: the guard of last resort for a hang in C code.
RUN_SECONDS = 300

FUZZ = hypothesis_settings(
    max_examples=600,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ------------------------------------------------------------------ seeds

EMBEDDED = [
    """\
{ 'enum': 'Status', 'data': [ 'on', 'off' ], 'prefix': 'ST' }
{ 'struct': 'Point', 'data': { 'x': 'int', '*y': 'int' } }
{ 'command': 'move', 'data': { 'to': 'Point' }, 'returns': 'Point' }
{ 'event': 'MOVED', 'data': { 'where': 'Point' } }
""",
    """\
{ 'struct': 'Point', 'data': { 'x': 'int' } }
{ 'union': 'Shape', 'data': { 'point': 'Point', 'names': [ 'str' ] } }
{ 'alternate': 'PointOrName', 'data': { 'p': 'Point', 'n': 'str' } }
{ 'command': 'draw', 'data': { 'shape': 'Shape', '*alt': 'PointOrName' },
  'if': [ 'defined(CONFIG_DRAW)', 'defined(CONFIG_X)' ] }
""",
    """\
{ 'enum': 'ShapeType', 'data': [ 'circle', 'square' ] }
{ 'struct': 'Circle', 'data': { 'radius': 'int' } }
{ 'struct': 'Base', 'data': { 'type': 'ShapeType' } }
{ 'union': 'Shape', 'base': 'Base', 'discriminator': 'type',
  'data': { 'circle': 'Circle', 'square': 'Circle' } }
{ 'command': 'draw', 'data': 'Shape', 'boxed': true,
  'features': [ 'deprecated', { 'name': 'unstable', 'if': 'CONFIG_X' } ] }
""",
    """\
{ 'pragma': { 'doc-required': true } }
{ 'pragma': { 'returns-whitelist': [ 'query-count' ],
              'name-case-whitelist': [ 'Info' ] } }

##
# = Section
##

##
# @Info:
#
# @Count: how many
#
# Since: 2.9
##
{ 'struct': 'Info', 'data': { 'Count': 'int' } }

##
# @query-count:
#
# Returns: the count
##
{ 'command': 'query-count', 'returns': 'int' }
""",
    """\
{ 'pragma': { 'command-returns-exceptions': [ 'query-count' ] } }
{ 'enum': 'Mode', 'data': [ { 'name': 'fast', 'if': 'CONFIG_FAST' }, 'slow' ],
  'if': { 'all': [ 'CONFIG_A', { 'not': 'CONFIG_B' } ] } }
{ 'struct': 'Opts', 'data': { 'mode': { 'type': 'Mode', 'if': 'CONFIG_A' } },
  'features': [ 'unstable' ] }
{ 'union': 'Choice', 'base': { 'mode': 'Mode' }, 'discriminator': 'mode',
  'data': { 'fast': { 'type': 'Opts', 'if': { 'any': [ 'CONFIG_A' ] } } } }
{ 'command': 'query-count', 'returns': 'int', 'allow-oob': true,
  'allow-preconfig': true, 'coroutine': true }
""",
    """\
{ 'command': 'ping', 'data': null, 'returns': null }
{ 'struct': 'Point', 'data': { 'x': 'int' }, 'base': null, 'if': null }
{ 'enum': 'Greek', 'data': [ 'alpha', 'b\\u0065ta', 'g\\/amma' ] }
""",
]


def _seed_texts() -> list[str]:
    seeds = list(EMBEDDED)
    seeds += [p.read_text() for p in sorted(LEGACY.glob("good-*.json"))]
    if (QEMU_SUITE / "CASES").is_file():
        for case in (QEMU_SUITE / "CASES").read_text().split():
            err = QEMU_SUITE / f"{case}.err"
            if err.is_file() and err.read_text() == "":
                seeds.append((QEMU_SUITE / f"{case}.json").read_text())
    return seeds


SEEDS = _seed_texts()

# ---------------------------------------------------------- the harness


class Hang(Exception):
    """A load took longer than HANG_SECONDS."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Raise Hang in this (main) thread after *seconds*."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"load took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder for the mutants, holding the files legacy seeds include."""
    with tempfile.TemporaryDirectory(prefix="qapigen-fuzz-") as tmp:
        shutil.copytree(LEGACY / "legacy-include", Path(tmp) / "legacy-include")
        if (QEMU_SUITE / "include").is_dir():
            shutil.copytree(QEMU_SUITE / "include", Path(tmp) / "include")
        yield Path(tmp)


@pytest.fixture(scope="module", autouse=True)
def hard_timeout() -> Iterator[None]:
    faulthandler.dump_traceback_later(RUN_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


_LOCATION = re.compile(r"^([^\s:][^:\n]*):(\d+):(?:(\d+):)? ", re.MULTILINE)


def check_loads(folder: Path, data: bytes, doc_comments: str) -> None:
    """Load *data* as a schema under both dialects; only QAPIError may escape."""
    path = folder / "fuzz.json"
    path.write_bytes(data)
    # QEMU counts lines as Python's universal newlines do.
    lines = len(re.split(rb"\r\n|\r|\n", data))
    for dialect in ("legacy", "qemu"):
        try:
            with hang_guard(HANG_SECONDS):
                qapigen.load_schema(str(path), dialect=dialect, doc_comments=doc_comments)
        except QAPIError as err:
            text = str(err)
            assert text.strip(), "empty error message"
            if isinstance(err, QAPISourceError):
                for match in _LOCATION.finditer(text):
                    if match.group(1) == str(path):
                        assert int(match.group(2)) <= lines, f"line past the end: {text}"


# ------------------------------------------------------- text mutations

ALPHABET = [
    *"{}[]:,'\"#\\@*- _\n\t",
    "null", "true", "false", "##", "# ", "'if'", "'data'", "'type'", "'base'",
    "x", "Q", "0", "\u00e9", "\u00a0", "\u2028", "\r", "\x0c", "\x00",
]  # fmt: skip


def _mutate_text(data: st.DataObject, text: str) -> str:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        if not text:
            text = data.draw(st.sampled_from(ALPHABET))
            continue
        pos = data.draw(st.integers(0, len(text)), label="pos")
        end = data.draw(st.integers(pos, min(len(text), pos + 40)), label="end")
        op = data.draw(
            st.sampled_from(["truncate", "insert", "delete", "duplicate", "requote", "replace"]),
            label="op",
        )
        if op == "truncate":
            text = text[:pos]
        elif op == "insert":
            text = text[:pos] + data.draw(st.sampled_from(ALPHABET), label="ins") + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[end:]
        elif op == "duplicate":
            text = text[:end] + text[pos:end] + text[end:]
        elif op == "requote":
            old, new = data.draw(st.sampled_from([("'", '"'), ("'", ""), ("{", "["), (":", ",")]))
            text = text[:pos] + text[pos:].replace(old, new, 1)
        else:
            text = text[:pos] + data.draw(st.text(max_size=3), label="rep") + text[end:]
    return text


@FUZZ
@given(data=st.data())
def test_text_mutations(workdir: Path, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS), label="seed")
    text = _mutate_text(data, seed)
    docs = data.draw(st.sampled_from(["parse", "ignore"]), label="doc_comments")
    check_loads(workdir, text.encode("utf-8", "surrogatepass"), docs)


# ------------------------------------------------------ byte mutations

BAD_BYTES = [
    b"\xff",
    b"\xc3",
    b"\xe2\x80",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xed\xa0\x80",
    b"\r",
    b"\x1a",
]


@settings(hypothesis_settings(FUZZ, max_examples=200))
@given(data=st.data())
def test_byte_mutations(workdir: Path, data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(SEEDS), label="seed").encode()
    pos = data.draw(st.integers(0, len(raw)), label="pos")
    junk = data.draw(st.sampled_from(BAD_BYTES) | st.binary(min_size=1, max_size=4), label="junk")
    check_loads(workdir, raw[:pos] + junk + raw[pos:], "parse")


# ------------------------------------------------------ tree mutations
#
# A tiny reader for the schema syntax (valid seeds only; comments dropped)
# and a writer back to it, so that mutants are well-formed text whose
# *content* is wrong.


def read_values(text: str) -> list[Any]:
    tokens = re.findall(r"'(?:\\.|[^'\\\n])*'|[{}\[\]:,]|true|false|null|#[^\n]*", text)
    tokens = [t for t in tokens if not t.startswith("#")]
    pos = 0

    def value() -> Any:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok == "{":
            obj: dict[str, Any] = {}
            while tokens[pos] != "}":
                key = value()
                pos += 1  # ':'
                obj[key] = value()
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            return obj
        if tok == "[":
            arr = []
            while tokens[pos] != "]":
                arr.append(value())
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            return arr
        return {"true": True, "false": False, "null": None}.get(
            tok, tok[1:-1] if tok[0] == "'" else tok
        )

    values = []
    while pos < len(tokens):
        values.append(value())
    return values


class Deep:
    """*inner* wrapped in *depth* arrays, written without recursion (deeper
    than Python's recursion limit, on purpose)."""

    def __init__(self, depth: int, inner: Any) -> None:
        self.depth = depth
        self.inner = inner


def write_value(value: Any) -> str:
    if isinstance(value, Deep):
        return "[ " * value.depth + write_value(value.inner) + " ]" * value.depth
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{write_value(k)}: {write_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list):
        return "[ " + ", ".join(write_value(v) for v in value) + " ]"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    # Strings are kept as written (escapes and all), see read_values().
    return f"'{value}'"


KEYS = [
    "enum", "struct", "union", "alternate", "command", "event", "include", "pragma",
    "data", "base", "discriminator", "if", "features", "returns", "boxed", "gen",
    "success-response", "allow-oob", "allow-preconfig", "coroutine", "prefix",
    "type", "name", "doc-required", "returns-whitelist", "name-case-whitelist",
    "command-returns-exceptions", "member-name-exceptions", "*opt",
]  # fmt: skip
NAMES = [
    "int", "str", "number", "bool", "any", "null", "size", "QType", "Point", "Status",
    "Shape", "ShapeKind", "PointList", "q_empty", "q_obj_x-arg", "has_x", "u", "X",
    "*x", "**", "", " ", "x-y", "x_y", "__org.qemu_x", "1abc", "on", "type",
    "defined(CONFIG_X)", "fuzz.json", "legacy-include/empty.json", "../fuzz.json",
]  # fmt: skip
IF_SHAPES: list[Any] = [
    "CONFIG_X", "defined(CONFIG_X)", "", " ", ["A", "B"], [], [""], [["A"]],
    [{"all": ["A"]}], {"all": ["A", "B"]}, {"any": []}, {"not": "A"},
    {"not": {"all": ["A", {"any": ["B"]}]}}, {"all": "A"}, {"bogus": "A"},
    {"all": ["A"], "any": ["B"]}, {}, True, None,
]  # fmt: skip

scalars = st.sampled_from([*NAMES, True, False, None])
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS + NAMES), inner, max_size=3)
    ),
    max_leaves=8,
)


def _containers(value: Any, found: list[Any]) -> list[Any]:
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def _mutate_tree(data: st.DataObject, exprs: list[Any]) -> None:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        nodes = _containers(exprs, [])
        node = data.draw(st.sampled_from(nodes), label="node")
        if isinstance(node, dict):
            op = data.draw(st.sampled_from(["delete", "add", "retype", "if", "rename", "copy"]))
            keys = list(node)
            if op in ("delete", "retype", "rename", "copy") and not keys:
                op = "add"
            if op == "delete":
                del node[data.draw(st.sampled_from(keys))]
            elif op == "add":
                node[data.draw(st.sampled_from(KEYS + NAMES))] = data.draw(values)
            elif op == "retype":
                node[data.draw(st.sampled_from(keys))] = data.draw(values)
            elif op == "if":
                node["if"] = copy.deepcopy(data.draw(st.sampled_from(IF_SHAPES)))
            elif op == "rename":
                key = data.draw(st.sampled_from(keys))
                node[data.draw(st.sampled_from(KEYS + NAMES))] = node.pop(key)
            else:
                key = data.draw(st.sampled_from(keys))
                node[data.draw(st.sampled_from(KEYS + NAMES))] = copy.deepcopy(node[key])
        else:
            op = data.draw(
                st.sampled_from(["delete", "insert", "duplicate", "clear", "shuffle", "nest"])
            )
            if op in ("delete", "duplicate") and not node:
                op = "insert"
            index = data.draw(st.integers(0, max(len(node) - 1, 0)))
            if op == "delete":
                del node[index]
            elif op == "insert":
                node.insert(index, data.draw(values))
            elif op == "duplicate":
                node.insert(index, copy.deepcopy(node[index]))
            elif op == "clear":
                node.clear()
            elif op == "shuffle":
                node.reverse()
            else:
                depth = data.draw(st.sampled_from([2, 50, 3000]))
                node.insert(index, Deep(depth, data.draw(values)))


def _write_schema(data: st.DataObject, exprs: list[Any]) -> str:
    parts = []
    for expr in exprs:
        if data.draw(st.booleans(), label="doc") and isinstance(expr, dict) and expr:
            name = next(iter(expr.values()))
            parts.append(f"##\n# @{name if isinstance(name, str) else 'x'}:\n##\n")
        parts.append(write_value(expr) + "\n")
    return "".join(parts)


@FUZZ
@given(data=st.data())
def test_tree_mutations(workdir: Path, data: st.DataObject) -> None:
    exprs = read_values(data.draw(st.sampled_from(SEEDS), label="seed"))
    _mutate_tree(data, exprs)
    text = _write_schema(data, exprs)
    docs = data.draw(st.sampled_from(["parse", "ignore"]), label="doc_comments")
    check_loads(workdir, text.encode("utf-8", "surrogatepass"), docs)


# ------------------------------------------------------- nasty inputs
#
# Fixed inputs: what the mutators found once, and extremes they rarely
# reach (nesting far deeper than Python's recursion limit, invalid UTF-8,
# NUL characters, Unicode white space and line separators).

NASTY = {
    "colon-in-object": b"{ 'a': 'b': 'c' }",
    "colon-in-array": b"{ 'a': [ 'b': 'c' ] }",
    "top-level-bracket-at-eof": b"[",
    "bad-utf8": b"\xc3",
    "bad-utf8-late": b"{ 'enum': 'E', 'data': [ '\xff' ] }",
    "nul-in-include": b"{ 'include': 'x\x00y' }",
    "nul-in-name": b"{ 'enum': 'E\x00', 'data': [] }",
    "deep-brackets": b"[" * 100_000,
    "deep-braces": b"{ 'a': " * 20_000,
    "deep-valid": b"{ 'enum': 'E', 'data': " + b"[ " * 5000 + b"'x'" + b" ]" * 5000 + b" }",
    "include-directory": b"{ 'include': '.' }",
    "include-self": b"{ 'include': 'fuzz.json' }",
    "include-long-path": b"{ 'include': '" + b"a/" * 3000 + b"x.json' }",
    "bom": b"\xef\xbb\xbf{ 'enum': 'E', 'data': [] }",
    "hashes": b"#####\n",
    "long-doc-unclosed": b"##\n# @x:\n" + b"#\n" * 20_000,
    "cr-only": b"{ 'enum': 'E',\r 'data': [ 'a' ] }\r{ 'b\r",
    "form-feed": b"{ 'enum': 'E',\x0c 'data': [ 'a' ] }",
    "nbsp": b"{ 'enum': 'E',\xc2\xa0'data': [ 'a' ] }",
    "line-separator": b"{ 'enum': 'E',\xe2\x80\xa8'data': [ 'a' ] }\n{ 'x': 1 }",
    "surrogate-escape": b"{ 'enum': 'E', 'data': [ '\\ud800' ] }",
}


# The same characters in otherwise valid schemas, so that the outcome says
# whether the character itself is accepted (the inputs above trip over the
# one-letter enum name 'E' in the qemu dialect first).
NASTY.update({
    "nbsp-valid": b"{ 'enum': 'Ee',\xc2\xa0'data': [ 'a' ] }",
    "form-feed-valid": b"{ 'enum': 'Ee',\x0c 'data': [ 'a' ] }",
    "line-separator-valid": b"{ 'enum': 'Ee',\xe2\x80\xa8'data': [ 'a' ] }\n"
    b"{ 'enum': 'Ff', 'data': [ 'b' ] }",
    "nul-between-tokens": b"{ 'enum': 'Ee',\x00 'data': [ 'a' ] }",
    "bom-after-newline": b"{ 'enum': 'Ee', 'data': [ 'a' ] }\n\xef\xbb\xbf",
})

# What QEMU makes of each nasty input, read off its lexer and parser
# (scripts/qapi/parser.py: QAPISchemaParser.accept, get_expr, get_doc) and
# 3.1's for the legacy dialect; None means accepted.  Each key is a dialect,
# or "*" for both.  The facts behind them:
#
# - The file is read as UTF-8 text with universal newlines: \r and \r\n
#   end lines, U+2028 does not.  Invalid UTF-8 makes QEMU die with a
#   UnicodeDecodeError traceback; qapigen reports it in one line instead.
# - Between tokens, any character for which Python's str.isspace() is
#   true is skipped: NBSP, form feed, U+2028.  Anything else is "stray":
#   the BOM (U+FEFF is not white space; QEMU does not use utf-8-sig), NUL.
# - Inside a string, 10.2 rejects every character outside printable ASCII
#   ("funny character in string") and knows only the escape \\; 3.1 took
#   any character and knew \u up to \u007f.  A NUL in 3.1 survives to the
#   name check, or to open(), where QEMU 3.1 died with "embedded null byte"
#   (qapigen reports it).
# - The error column is that of the token's first character (for a string,
#   its opening quote), counted from 1.
# - Nesting deeper than Python's recursion limit kills QEMU with a
#   RecursionError; qapigen parses iteratively and reports the real error.
# - ``######`` opens a doc comment whose first line is not exactly ``##``.
#   With --doc-comments=ignore (qapigen's option, not QEMU's) comments are
#   only comments, so the doc comment inputs are accepted.
_CAMEL = "fuzz.json: In enum 'E':\nfuzz.json:1: name of enum must use CamelCase"
_EE = {"Ee": ["a"]}
NASTY_OUTCOMES: dict[str, dict[str, Any]] = {
    "colon-in-object": {"*": "fuzz.json:1:11: expected ',' or '}'"},
    "colon-in-array": {"*": "fuzz.json:1:13: expected ',' or ']'"},
    "top-level-bracket-at-eof": {
        "qemu": "fuzz.json:1:2: expected '{', '[', ']', string, or boolean",
        "legacy": "fuzz.json:1:1: expected '{'",
    },
    "bad-utf8": {"*": "can't read schema file 'fuzz.json': not valid UTF-8 at byte 0"},
    "bad-utf8-late": {"*": "can't read schema file 'fuzz.json': not valid UTF-8 at byte 26"},
    "nul-in-include": {
        "qemu": "fuzz.json:1:14: funny character in string",
        "legacy": "fuzz.json:1: can't read include file 'x\x00y': embedded null byte",
    },
    "nul-in-name": {
        "qemu": "fuzz.json:1:11: funny character in string",
        "legacy": "fuzz.json: In enum 'E\x00':\nfuzz.json:1: enum has an invalid name",
    },
    "deep-brackets": {
        "qemu": "fuzz.json:1:100001: expected '{', '[', ']', string, or boolean",
        "legacy": "fuzz.json:1:1: expected '{'",
    },
    "deep-braces": {
        "qemu": "fuzz.json:1:140001: expected '{', '[', string, or boolean",
        "legacy": "fuzz.json:1:140001: expected '{', '[', string, boolean or 'null'",
    },
    "deep-valid": {
        "qemu": _CAMEL,
        "legacy": "fuzz.json: In enum 'E':\nfuzz.json:1: 'data' member requires a string name",
    },
    "include-directory": {"*": "fuzz.json:1: can't read include file '.': Is a directory"},
    "include-self": {"*": "fuzz.json:1: inclusion loop for fuzz.json"},
    "include-long-path": {
        "*": "fuzz.json:1: can't read include file '" + "a/" * 3000 + "x.json': File name too long"
    },
    "bom": {"*": "fuzz.json:1:1: stray '\ufeff'"},
    "bom-after-newline": {"*": "fuzz.json:2:1: stray '\ufeff'"},
    "hashes": {"*": "fuzz.json:1:1: junk after '##' at start of documentation comment"},
    "long-doc-unclosed": {"*": "fuzz.json:20002:2: documentation comment must end with '##'"},
    "cr-only": {"*": "fuzz.json:3:3: missing terminating \"'\""},
    "form-feed": {"qemu": _CAMEL, "legacy": {"E": ["a"]}},
    "nbsp": {"qemu": _CAMEL, "legacy": {"E": ["a"]}},
    "line-separator": {"*": "fuzz.json:2:8: stray '1'"},
    "surrogate-escape": {
        "qemu": "fuzz.json:1:26: unknown escape \\u",
        "legacy": "fuzz.json:1:26: for now, \\u escape only supports non-zero values up to \\u007f",
    },
    "nbsp-valid": {"*": _EE},
    "form-feed-valid": {"*": _EE},
    "line-separator-valid": {"*": {"Ee": ["a"], "Ff": ["b"]}},
    "nul-between-tokens": {"*": "fuzz.json:1:16: stray '\x00'"},
}
# Comments only, with --doc-comments=ignore.
_ACCEPTED_WHEN_IGNORING_DOCS = {"hashes", "long-doc-unclosed"}


def test_every_nasty_input_has_an_outcome() -> None:
    assert set(NASTY_OUTCOMES) == set(NASTY)


@pytest.mark.parametrize("name", NASTY)
@pytest.mark.parametrize("doc_comments", ["parse", "ignore"])
@pytest.mark.parametrize("dialect", ["qemu", "legacy"])
def test_nasty_input(
    name: str, doc_comments: str, dialect: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accepted or rejected exactly as QEMU does (see NASTY_OUTCOMES), with
    QEMU's message; accepted input yields the enums it spells."""
    outcomes = NASTY_OUTCOMES[name]
    expected = outcomes.get(dialect, outcomes.get("*"))
    if doc_comments == "ignore" and name in _ACCEPTED_WHEN_IGNORING_DOCS:
        expected = {}
    monkeypatch.chdir(workdir)
    (workdir / "fuzz.json").write_bytes(NASTY[name])
    with hang_guard(HANG_SECONDS):
        try:
            schema = qapigen.load_schema("fuzz.json", dialect=dialect, doc_comments=doc_comments)
        except QAPIError as err:
            assert str(err) == expected
            return
    enums = {
        e.name: [m.name for m in e.members]
        for e in schema.entities
        if isinstance(e, EnumType) and e.info is not None and e.info.fname == "fuzz.json"
    }
    assert enums == expected
    if name == "line-separator-valid":
        # U+2028 is white space to QEMU, not a line break.
        assert [e.info.line for e in schema.entities if e.name in ("Ee", "Ff")] == [1, 2]


# ------------------------------------------------------------ harness


def test_seed_reader_round_trips() -> None:
    """The tree reader understands every seed, so tree mutants start valid."""
    for seed in SEEDS:
        exprs = read_values(seed)
        assert read_values("\n".join(write_value(e) for e in exprs)) == exprs


def test_hang_guard_fires() -> None:
    with pytest.raises(Hang), hang_guard(0.05):
        time.sleep(5)
