"""QMP input as QEMU reads it: a byte stream of JSON texts.

QEMU's monitor runs every byte through a lexer (``qobject/json-lexer.c``),
a streamer that cuts the token stream into texts by counting brackets
(``json-streamer.c``) and a parser (``json-parser.c``).  Clients see the
details: several texts per line, texts spanning lines, single-quoted
strings, the exact error texts, the recovery after an error (skip to the
next structural or control character) and the size, count and nesting
limits.  :class:`JSONStreamParser` reproduces that behaviour; it is our
own code, written from the behaviour.

``feed(data)`` returns the items completed by *data*: a parsed value, or a
:class:`JSONStreamError` whose ``desc`` is QEMU's error text.  Values are
plain Python: ``dict`` (insertion order), ``list``, ``str``, ``int``,
``float``, ``bool`` and ``None``.  Integers outside both int64 and uint64
become floats, as QEMU's QNum does.  Objects iterate in QDict order
(:func:`qapigen.runtime.qjson.qdict_order`), the order in which QEMU
checks a request's members and reports the first unexpected argument.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from qapigen.runtime.qjson import qdict_order

MAX_TOKEN_SIZE = 64 << 20
MAX_TOKEN_COUNT = 2 << 20
MAX_NESTING = 1 << 10

# A text nested MAX_NESTING deep recurses about twice that deep in the parser.
if sys.getrecursionlimit() < 5000:
    sys.setrecursionlimit(5000)


class Tok(IntEnum):
    LCURLY = 1
    RCURLY = 2
    LSQUARE = 3
    RSQUARE = 4
    COLON = 5
    COMMA = 6
    INTEGER = 7
    FLOAT = 8
    KEYWORD = 9
    STRING = 10
    ERROR = 11
    #: A single token over MAX_TOKEN_SIZE, cut off by the lexer.
    OVERSIZE = 12


@dataclass(frozen=True)
class JSONStreamError:
    """A text that could not be parsed; QEMU answers it without an id."""

    desc: str


_STRUCTURAL = {
    ord("{"): Tok.LCURLY, ord("}"): Tok.RCURLY, ord("["): Tok.LSQUARE,
    ord("]"): Tok.RSQUARE, ord(":"): Tok.COLON, ord(","): Tok.COMMA,
}
_WS = re.compile(rb"[ \t\r\n]*")
_KEYWORD = re.compile(rb"[a-z]*")
_DIGITS = re.compile(rb"[0-9]*")
#: Bytes a string may hold unescaped (not the quote, not the backslash).
_DQ_BODY = re.compile(rb'[\x20\x21\x23-\x5b\x5d-\xfd]*(?:\\[\x20-\xfd][\x20\x21\x23-\x5b\x5d-\xfd]*)*')
_SQ_BODY = re.compile(rb"[\x20-\x26\x28-\x5b\x5d-\xfd]*(?:\\[\x20-\xfd][\x20-\x26\x28-\x5b\x5d-\xfd]*)*")
#: What error recovery skips: anything but structural characters, control
#: characters other than tab, and the impossible UTF-8 bytes 0xFE/0xFF.
_RECOVERY = re.compile(rb"[^\x00-\x08\x0a-\x1f\xfe\xff\[\]{}:,]*")


class _State(IntEnum):
    START = 0
    RECOVERY = 1
    STRING = 2  # resumable: self._pending holds the token so far


class JSONStreamParser:
    """QEMU's JSON message parser for one connection (see the module doc)."""

    def __init__(self) -> None:
        self._buf = b""
        self._state = _State.START
        self._resume = 0  # in STRING state: how much of the token is checked
        # -- streamer state
        self._tokens: list[tuple[Tok, bytes]] = []
        self._token_size = 0
        self._braces = 0
        self._brackets = 0
        self._out: list[Any] = []

    def feed(self, data: bytes) -> list[Any]:
        """Lex *data*; return the values and errors of every text it completes."""
        if not self._clean() or b"\n" not in data:
            return self._feed(data)
        # Between texts, a whole line that is plain JSON takes the fast path.
        out: list[Any] = []
        pos = 0
        while self._clean():
            end = data.find(b"\n", pos) + 1
            if not end:
                break
            value = fast_parse(data[pos:end])
            if value is _NOT_FAST:
                out += self._feed(data[pos:end])
            else:
                out.append(value)
            pos = end
        if pos < len(data):
            out += self._feed(data[pos:])
        return out

    def _clean(self) -> bool:
        """Between texts: nothing pending in the lexer or the streamer."""
        return (self._state == _State.START and not self._buf and not self._tokens
                and not self._braces and not self._brackets)

    def _feed(self, data: bytes) -> list[Any]:
        buf = self._buf + data if self._buf else data
        pos = self._lex(buf)
        self._buf = buf[pos:]
        out, self._out = self._out, []
        return out

    def flush(self) -> list[Any]:
        """End of input (QEMU's ``json_message_parser_flush``): finish or
        reject the token in progress, then parse what is left."""
        rem, self._buf = self._buf, b""
        if self._state == _State.STRING:
            self._error(rem)
        elif rem and 0x61 <= rem[0] <= 0x7A:
            self._token(Tok.KEYWORD, rem)
        elif rem:
            self._number(rem + b"\0", 0)  # the NUL ends it, or is the bad char
        self._state = _State.START
        if self._tokens:
            self._emit(_parse(self._tokens))
        out, self._out = self._out, []
        return out

    # -- lexer ---------------------------------------------------------------

    def _lex(self, buf: bytes) -> int:
        """Consume tokens from *buf*; return where an incomplete token starts."""
        pos = 0
        end = len(buf)
        while pos < end:
            if self._state == _State.RECOVERY:
                pos = _RECOVERY.match(buf, pos).end()  # type: ignore[union-attr]
                if pos == end:
                    return end
                self._state = _State.START
                continue
            if self._state == _State.STRING:
                self._state = _State.START  # _string may enter RECOVERY
                result = self._string(buf, 0, self._resume)
                if result < 0:
                    self._state = _State.STRING
                    return 0
                pos = result
                continue
            pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            if pos == end:
                return end
            ch = buf[pos]
            tok = _STRUCTURAL.get(ch)
            if tok is not None:
                self._token(tok, buf[pos:pos + 1])
                pos += 1
            elif ch == 0x22 or ch == 0x27:  # " or '
                result = self._string(buf, pos)
                if result < 0:
                    self._state = _State.STRING
                    return pos
                pos = result
            elif 0x61 <= ch <= 0x7A:  # a-z
                stop = _KEYWORD.match(buf, pos).end()  # type: ignore[union-attr]
                if stop - pos > MAX_TOKEN_SIZE:
                    self._token(Tok.OVERSIZE, buf[pos:pos + MAX_TOKEN_SIZE + 1])
                    pos += MAX_TOKEN_SIZE + 1
                    continue
                if stop == end:
                    return pos
                self._token(Tok.KEYWORD, buf[pos:stop])
                pos = stop
            elif ch == 0x2D or 0x30 <= ch <= 0x39:  # - or a digit
                result = self._number(buf, pos)
                if result < 0:
                    return pos
                pos = result
            else:
                self._error(buf[pos:pos + 1])
                pos += 1
        return pos

    def _error(self, text: bytes) -> None:
        self._token(Tok.ERROR, text)
        self._state = _State.RECOVERY

    def _string(self, buf: bytes, pos: int, resume: int = 1) -> int:
        """A string token starting at *pos* (its quote); returns the
        position after it, or -1 when *buf* ends inside it (then
        ``self._resume`` says how far it is checked, so that a long string
        arriving in pieces is scanned once)."""
        quote = buf[pos]
        body = _DQ_BODY if quote == 0x22 else _SQ_BODY
        stop = body.match(buf, pos + resume).end()  # type: ignore[union-attr]
        if stop - pos > MAX_TOKEN_SIZE:
            self._token(Tok.OVERSIZE, buf[pos:pos + MAX_TOKEN_SIZE + 1])
            return pos + MAX_TOKEN_SIZE + 1
        if stop == len(buf) or (buf[stop] == 0x5C and stop + 1 == len(buf)):
            self._resume = stop - pos
            return -1
        ch = buf[stop]
        if ch == quote:
            self._token(Tok.STRING, buf[pos:stop + 1])
            return stop + 1
        # A control character or 0xFE/0xFF, possibly right after a backslash:
        # the lexer has consumed it into the bad token.
        if ch == 0x5C:
            stop += 1
        self._error(buf[pos:stop + 1])
        return stop + 1

    def _number(self, buf: bytes, pos: int) -> int:
        """A number token, following the lexer's states; -1 when *buf* ends
        before the token does."""
        end = len(buf)
        i = pos
        if buf[i] == 0x2D:  # -
            i += 1
            if i == end:
                return -1
            if not 0x30 <= buf[i] <= 0x39:
                self._error(buf[pos:i + 1])
                return i + 1
        zero = buf[i] == 0x30
        if zero:  # a zero may not be followed by digits
            i += 1
            if i == end:
                return -1
            if 0x30 <= buf[i] <= 0x39:
                self._error(buf[pos:i + 1])
                return i + 1
        else:
            i = _DIGITS.match(buf, i).end()  # type: ignore[union-attr]
            if i == end:
                return -1
        kind = Tok.INTEGER
        if buf[i] == 0x2E:  # .
            i += 1
            if i == end:
                return -1
            if not 0x30 <= buf[i] <= 0x39:
                self._error(buf[pos:i + 1])
                return i + 1
            i = _DIGITS.match(buf, i).end()  # type: ignore[union-attr]
            if i == end:
                return -1
            kind = Tok.FLOAT
        # QEMU's lexer has no exponent right after a lone zero: "0e1" is
        # the integer 0 followed by the keyword "e".
        if buf[i] in b"eE" and not (zero and kind == Tok.INTEGER):
            i += 1
            if i == end:
                return -1
            if buf[i] in b"+-":
                i += 1
                if i == end:
                    return -1
            if not 0x30 <= buf[i] <= 0x39:
                self._error(buf[pos:i + 1])
                return i + 1
            i = _DIGITS.match(buf, i).end()  # type: ignore[union-attr]
            if i == end:
                return -1
            kind = Tok.FLOAT
        self._token(kind, buf[pos:i])
        return i

    # -- streamer ------------------------------------------------------------

    def _token(self, tok: Tok, text: bytes) -> None:
        if tok == Tok.LCURLY:
            self._braces += 1
        elif tok == Tok.RCURLY:
            self._braces -= 1
        elif tok == Tok.LSQUARE:
            self._brackets += 1
        elif tok == Tok.RSQUARE:
            self._brackets -= 1
        elif tok == Tok.ERROR:
            self._emit(JSONStreamError(f"JSON parse error, stray '{_c_string(text)}'"))
            return
        if self._token_size + len(text) + 1 > MAX_TOKEN_SIZE:
            self._emit(JSONStreamError("JSON token size limit exceeded"))
            return
        if len(self._tokens) + 1 > MAX_TOKEN_COUNT:
            self._emit(JSONStreamError("JSON token count limit exceeded"))
            return
        if self._brackets + self._braces > MAX_NESTING:
            self._emit(JSONStreamError("JSON nesting depth limit exceeded"))
            return
        self._tokens.append((tok, text))
        self._token_size += len(text)
        # A text is complete when nothing is open; a surplus closer (a count
        # below zero) ends it at once, to be rejected by the parser.
        if (self._braces > 0 or self._brackets > 0) and self._braces >= 0 \
                and self._brackets >= 0:
            return
        self._emit(_parse(self._tokens))

    def _emit(self, item: Any) -> None:
        self._braces = 0
        self._brackets = 0
        self._tokens = []
        self._token_size = 0
        self._out.append(item)


def _c_string(text: bytes) -> str:
    """A token as QEMU prints it with %s: up to the first NUL byte."""
    return sanitize_utf8(text.split(b"\0", 1)[0])


_MIN_CP = (0x80, 0x800, 0x10000, 0x200000, 0x4000000)


def sanitize_utf8(data: bytes) -> str:
    """Bytes as QEMU's JSON writer reads them (``mod_utf8_codepoint`` with
    a 6-byte window): each invalid sequence becomes one U+FFFD, and a
    sequence cut short by a byte that is not a continuation ends before
    that byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not _NONCHARACTER.search(text) and "\0" not in text:
            return text
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        i += 1
        if byte < 0x80:
            out.append(chr(byte))
            continue
        if byte >= 0xFE or not byte & 0x40:
            out.append("\ufffd")
            continue
        length, mask = 0, 0x80
        while byte & mask:
            length += 1
            mask >>= 1
        cp = byte & (mask - 1)
        for k in range(1, length):
            nxt = data[i] if k < 6 and i < n else 0
            if nxt & 0xC0 != 0x80:
                cp = -1
                break
            i += 1
            cp = cp << 6 | (nxt & 0x3F)
        if cp >= 0 and (not _valid_codepoint(cp)
                        or (cp < _MIN_CP[length - 2] and not (cp == 0 and length == 2))):
            cp = -1
        out.append("\ufffd" if cp < 0 else chr(cp))
    return "".join(out)


# -- parser -----------------------------------------------------------------


class _ParseError(Exception):
    pass


_INT64_MIN = -(1 << 63)
_UINT64_MAX = (1 << 64) - 1
_SIMPLE_ESCAPES = {
    ord('"'): '"', ord("'"): "'", ord("\\"): "\\", ord("/"): "/",
    ord("b"): "\b", ord("f"): "\f", ord("n"): "\n", ord("r"): "\r", ord("t"): "\t",
}
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
#: Non-characters QEMU's modified UTF-8 refuses: U+FDD0..U+FDEF and U+xFFFE/F.
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef" + "".join(f"{chr(p << 16 | 0xFFFE)}{chr(p << 16 | 0xFFFF)}"
                               for p in range(17)) + "]"
)
_PLAIN = re.compile(rb"[\x20-\x5b\x5d-\x7e]*")
#: What the fast decoder may let through that QEMU refuses.
_SUSPECT = re.compile(_NONCHARACTER.pattern[:-1] + "\ud800-\udfff]")


def _valid_codepoint(cp: int) -> bool:
    return (0 <= cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF
            and not 0xFDD0 <= cp <= 0xFDEF and (cp & 0xFFFE) != 0xFFFE)


def _decode_utf8(raw: bytes) -> str:
    """Bytes of a string token as QEMU's modified UTF-8 decoder takes them:
    strict UTF-8, plus C0 80 for NUL, minus non-characters."""
    try:
        text = raw.replace(b"\xc0\x80", b"\0").decode("utf-8")
    except UnicodeDecodeError:
        raise _ParseError("invalid UTF-8 sequence in string") from None
    if _NONCHARACTER.search(text):
        raise _ParseError("invalid UTF-8 sequence in string")
    return text


def parse_string_token(token: bytes) -> str:
    """The value of a string token (quotes included), with QEMU's errors."""
    # The body plus the closing quote: QEMU's escape decoding may look past
    # the body's end (a short \\u escape), and then shows the quote.
    body = token[1:]
    n = len(body) - 1
    if _PLAIN.fullmatch(body, 0, n):
        return body[:n].decode("ascii")
    if token[0] == 0x22 and b"\\'" not in body:
        # Python's decoder agrees with QEMU's on double-quoted strings
        # except for QEMU's \\' escape, NUL as C0 80, and the surrogates
        # and non-characters QEMU refuses; it is much faster.
        try:
            text = json.loads(token.replace(b"\xc0\x80", b"\\u0000"))
        except ValueError:
            pass
        else:
            if not _SUSPECT.search(text):
                return text  # type: ignore[no-any-return]
    out: list[str] = []
    i = 0
    while i < n:
        j = body.find(b"\\", i, n)
        if j < 0:
            out.append(_decode_utf8(body[i:n]))
            break
        if j > i:
            out.append(_decode_utf8(body[i:j]))
        esc = body[j + 1]
        simple = _SIMPLE_ESCAPES.get(esc)
        if simple is not None:
            out.append(simple)
            i = j + 2
            continue
        if esc != ord("u"):
            raise _ParseError("invalid escape sequence in string")
        cp = int(body[j + 2:j + 6], 16) if _HEX4.match(body, j + 2, n) else -1
        k = j + 6
        if 0xD800 <= cp <= 0xDBFF and body[k:k + 2] == b"\\u":
            trailing = int(body[k + 2:k + 6], 16) if _HEX4.match(body, k + 2, n) else -1
            if 0xDC00 <= trailing <= 0xDFFF:
                cp = 0x10000 + ((cp & 0x3FF) << 10) | (trailing & 0x3FF)
                k += 6
            else:
                cp = -1
        if not _valid_codepoint(cp):
            shown = body[j:k].decode("utf-8", "replace")
            raise _ParseError(f"{shown} is not a valid Unicode character")
        out.append(chr(cp))
        i = k
    return "".join(out)


def _number(tok: Tok, text: bytes) -> int | float:
    if tok == Tok.INTEGER:
        value = int(text)
        if _INT64_MIN <= value <= _UINT64_MAX:
            return value
    return float(text)


# -- the fast path -------------------------------------------------------------

_NOT_FAST = object()
#: Lines longer than this take the token path (its limits apply to them).
_FAST_MAX = 1 << 20


class _NotFast(Exception):
    pass


def _fast_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = tuple(key for key, _ in pairs)
    result = dict(pairs)
    if len(result) != len(keys):
        raise _NotFast  # a duplicate key: QEMU's error comes from the token path
    if len(keys) < 2:
        return result
    return {key: result[key] for key in qdict_order(keys)}


def _fast_int(text: str) -> int | float:
    value = int(text)
    return value if _INT64_MIN <= value <= _UINT64_MAX else float(text)


def _no_constants(text: str) -> Any:
    raise _NotFast


_DECODER = json.JSONDecoder(object_pairs_hook=_fast_object, parse_int=_fast_int,
                            parse_constant=_no_constants)


def fast_parse(line: bytes) -> Any:
    """One line holding exactly one text, parsed by Python's C decoder when
    the result is certainly QEMU's; otherwise ``_NOT_FAST``.

    Python's grammar is RFC 8259, which QEMU's lexer and parser accept
    with the same values, except where this refuses the line: QEMU's
    extensions (single quotes, ``\\'``), ``\\u`` escapes (QEMU refuses some),
    duplicate keys, ``0e1`` (QEMU has no exponent after a lone zero),
    NaN/Infinity, non-characters, and anything long enough to meet QEMU's
    size, count or nesting limits.  Several texts on the line, errors and
    blank lines make Python fail, and the token path takes over.
    """
    if len(line) > _FAST_MAX or b"\\u" in line or b"0e" in line or b"0E" in line:
        return _NOT_FAST
    if line.count(b"{") + line.count(b"[") > MAX_NESTING:
        return _NOT_FAST
    try:
        text = line.decode("utf-8")
        if not text.isascii() and _NONCHARACTER.search(text):
            return _NOT_FAST
        return _DECODER.decode(text)
    except (ValueError, _NotFast, RecursionError):
        return _NOT_FAST


def _parse(tokens: list[tuple[Tok, bytes]]) -> Any:
    """One text's tokens -> its value, or the parse error.  QEMU formats
    the detail into a 1024-byte buffer, so a long one is cut at 1023 bytes."""
    try:
        return _Parser(tokens).parse()
    except _ParseError as err:
        detail = err.args[0].encode("utf-8")[:1023].decode("utf-8", "replace")
        return JSONStreamError(f"JSON parse error, {detail}")


class _Parser:
    """json-parser.c's recursive descent; the first error wins."""

    def __init__(self, tokens: list[tuple[Tok, bytes]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Any:
        value = self.value()
        if self.pos != len(self.tokens):
            # Unreachable with the streamer's counting; QEMU asserts here.
            raise _ParseError("expecting value")
        return value

    def peek(self) -> tuple[Tok, bytes]:
        if self.pos >= len(self.tokens):
            raise _ParseError("premature EOI")
        return self.tokens[self.pos]

    def pop(self) -> tuple[Tok, bytes]:
        token = self.peek()
        self.pos += 1
        return token

    def value(self) -> Any:
        tok, text = self.peek()
        if tok == Tok.LCURLY:
            return self.object()
        if tok == Tok.LSQUARE:
            return self.array()
        if tok == Tok.STRING:
            self.pos += 1
            return parse_string_token(text)
        if tok == Tok.INTEGER or tok == Tok.FLOAT:
            self.pos += 1
            return _number(tok, text)
        if tok == Tok.KEYWORD:
            self.pos += 1
            if text == b"true":
                return True
            if text == b"false":
                return False
            if text == b"null":
                return None
            raise _ParseError(f"invalid keyword '{_c_string(text)}'")
        raise _ParseError("expecting value")

    def object(self) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        if self.peek()[0] == Tok.RCURLY:
            self.pos += 1
            return result
        self.pair(result)
        tok = self.pop()[0]
        while tok != Tok.RCURLY:
            if tok != Tok.COMMA:
                raise _ParseError("expected separator in dict")
            self.pair(result)
            tok = self.pop()[0]
        if len(result) < 2:
            return result
        # A QDict iterates in hash order, and QEMU's request checks and
        # input visitor see the members in that order.
        return {key: result[key] for key in qdict_order(tuple(result))}

    def pair(self, result: dict[str, Any]) -> None:
        self.peek()
        key = self.value()
        if not isinstance(key, str):
            raise _ParseError("key is not a string in object")
        if self.pop()[0] != Tok.COLON:
            raise _ParseError("missing : in object pair")
        value = self.value()
        if key in result:
            raise _ParseError("duplicate key")
        result[key] = value

    def array(self) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        if self.peek()[0] == Tok.RSQUARE:
            self.pos += 1
            return result
        result.append(self.value())
        tok = self.pop()[0]
        while tok != Tok.RSQUARE:
            if tok != Tok.COMMA:
                raise _ParseError("expected separator in list")
            result.append(self.value())
            tok = self.pop()[0]
        return result
