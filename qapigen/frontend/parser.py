"""Read schema files into expressions and doc comments.

The lark grammar (``grammar.lark``) does the tokenizing and the bracket
structure: lark compiles it into a scanner and an LALR(1) table, which
``_FileParser`` runs in a loop of its own (see ``_FileParser._parse``).
Everything QEMU decides while reading (string escapes, stray words,
duplicate keys, the top-level directives ``include`` and ``pragma``, which
doc comment belongs to which definition) happens in callbacks that run
*while* the file is parsed, so the first problem in the file is the one
reported, in the order QEMU's hand-written parser would find it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import lark
from lark.lexer import BasicLexer
from lark.parsers.lalr_analysis import Shift

from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError, QAPISourceError
from qapigen.frontend.docs import DocBlock, DocLine, QAPIDoc, parse_doc_block
from qapigen.frontend.expression import Expression
from qapigen.frontend.legacy_exceptions import seed_pre_2_9_pragma
from qapigen.frontend.source import SourceInfo

_GRAMMAR = Path(__file__).with_name("grammar.lark")

# The pragmas each dialect knows, and the Pragma field each one sets.
_LIST_PRAGMAS = {
    Dialect.QEMU: {
        "command-name-exceptions": "command_name_exceptions",
        "command-returns-exceptions": "command_returns_exceptions",
        "documentation-exceptions": "documentation_exceptions",
        "member-name-exceptions": "member_name_exceptions",
    },
    Dialect.LEGACY: {
        "returns-whitelist": "command_returns_exceptions",
        "name-case-whitelist": "member_name_exceptions",
    },
}

# A closed string of printable ASCII without escapes: nearly every string
# in a real schema, and nothing to check or decode.
_PLAIN_STRING = re.compile(r"'[ !#-\[\]-~]*'")


@dataclass
class ParsedSchema:
    """Everything the parser found, in QEMU's order."""

    exprs: list[Expression] = field(default_factory=list)
    docs: list[QAPIDoc] = field(default_factory=list)


def parse_schema(
    path: str,
    dialect: Dialect = Dialect.QEMU,
    doc_comments: DocComments = DocComments.PARSE,
) -> ParsedSchema:
    """Parse the main schema file *path* and everything it includes."""
    try:
        text = _read(path)
    except (OSError, ValueError) as err:
        raise QAPIError(f"can't read schema file '{path}': {_reason(err)}") from err
    result = ParsedSchema()
    main = _FileParser(path, text, None, dialect, doc_comments, {os.path.abspath(path)}, result)
    if dialect is Dialect.LEGACY and doc_comments is DocComments.IGNORE:
        # A QEMU 2.5-2.8 schema: its generator's built-in lists apply.
        seed_pre_2_9_pragma(main.info.pragma)
    main.run()
    return result


def _read(path: str) -> str:
    # Universal newlines, as QEMU's open() in text mode: "\r\n" and "\r"
    # both end a line.
    with open(path, encoding="utf-8") as f:
        return f.read()


def _reason(err: Exception) -> str:
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    if isinstance(err, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {err.start}"
    return str(err)


class _Reduce(NamedTuple):
    """A reduce action: pop *size* symbols, hand them to *handler* (a
    ``_FileParser.reduce_*`` method), then go to the state for *origin*."""

    size: int
    origin: str
    handler: Callable[[_FileParser, list[Any]], Any]


# A parse table row: the action for each terminal, and the state to go to
# for each rule after reducing it.  An action n >= 0 shifts to state n; an
# action n < 0 reduces by rule ~n (an index into ``_Grammar.rules``).
# Plain ints, because telling them apart is the parse loop's innermost test.
_Row = dict[str, int]

_END = "$END"  # lark's name for the end of the input


@dataclass
class _Grammar:
    """lark's compiled grammar in the shape ``_FileParser.run`` uses."""

    # lark's scanner: every terminal, as one alternation of named groups.
    pattern: re.Pattern[str]
    ignore: frozenset[str]
    # Terminal name -> the ``_FileParser`` method that checks such a token
    # as soon as it is read.
    lex_callbacks: dict[str, Callable[[_FileParser, _Token], _Token]]
    # lark's LALR(1) table, state -> row.
    table: list[_Row]
    rules: list[_Reduce]
    start_state: int
    end_state: int


@cache
def _grammar(dialect: Dialect, doc_comments: DocComments) -> _Grammar:
    """lark's scanner and LALR table for one dialect and doc-comment mode,
    built once per process (lark keeps the table in its cache file)."""
    text = _GRAMMAR.read_text(encoding="utf-8")
    if doc_comments is DocComments.IGNORE:
        # Before QEMU 2.9, "##" lines were ordinary comments.
        text += "\n%ignore DOC\n"
    compiled = lark.Lark(text, parser="lalr", lexer="basic", cache=True)

    lexer = compiled.parser.lexer
    assert isinstance(lexer, BasicLexer)
    # Our dozen terminals fit one compiled pattern (lark splits only past
    # Python's limit of 100 groups).
    (pattern,) = lexer.scanner._mres
    # lark adds token callbacks of its own only where a string terminal
    # hides inside a regexp one of the same priority; ours have none, so
    # lark's scanner alone gives the tokens lark would.
    assert not lexer.callback, lexer.callback

    lex_callbacks: dict[str, Callable[[_FileParser, _Token], _Token]] = {
        "STRING": _FileParser.lex_string,
        "STRAY": _FileParser.lex_stray,
        "NULL": _FileParser.lex_null,
    }
    if dialect is Dialect.LEGACY:
        # QEMU <= 5.2 required '{' as soon as it read a top-level token.
        for name in ("LBRACE", "LSQB", "TRUE", "FALSE", "NULL"):
            lex_callbacks[name] = _FileParser.legacy_top_level
        for name in ("RBRACE", "RSQB"):
            lex_callbacks[name] = _FileParser.legacy_close

    lalr = compiled.parser.parser.parser
    parse_table = lalr.parse_table
    assert sorted(parse_table.states) == list(range(len(parse_table.states)))
    rule_index: dict[lark.grammar.Rule, int] = {}
    rules: list[_Reduce] = []
    table: list[_Row] = []
    for state in range(len(parse_table.states)):
        row: _Row = {}
        for symbol, (action, arg) in parse_table.states[state].items():
            if action is Shift:
                row[symbol] = arg
                continue
            if arg not in rule_index:
                rule_index[arg] = len(rules)
                name = arg.alias or arg.origin.name
                rules.append(
                    _Reduce(
                        len(arg.expansion), arg.origin.name, getattr(_FileParser, f"reduce_{name}")
                    )
                )
            row[symbol] = ~rule_index[arg]
        table.append(row)
    return _Grammar(
        pattern,
        lexer.ignore_types,
        lex_callbacks,
        table,
        rules,
        parse_table.start_states["start"],
        parse_table.end_states["start"],
    )


class _Token(str):
    """A token: the text lark's scanner matched (for a string with escapes,
    its decoded text, quoted again), the terminal's name, and where in the
    file it starts and ends.  Line numbers are worked out only where they
    are needed (``_FileParser.line_of``): counting them for every token
    cost as much as making the tokens."""

    __slots__ = ("end_pos", "start_pos", "type")
    type: str
    start_pos: int
    end_pos: int

    @classmethod
    def make(cls, kind: str, text: str, start: int, end: int) -> _Token:
        tok = str.__new__(cls, text)
        tok.type = kind
        tok.start_pos = start
        tok.end_pos = end
        return tok


class _FileParser:
    """Parses one file; its state is what QEMU's parser keeps per file."""

    def __init__(
        self,
        fname: str,
        text: str,
        incl_info: SourceInfo | None,
        dialect: Dialect,
        doc_comments: DocComments,
        included: set[str],
        result: ParsedSchema,
    ) -> None:
        if not text.endswith("\n"):
            text += "\n"
        self.fname = fname
        self.src = text
        self.info = SourceInfo(fname, incl_info)
        self.dialect = dialect
        self.doc_comments = doc_comments
        self.included = included
        self.result = result
        self.cur_doc: QAPIDoc | None = None
        # Keys seen so far in each open object (None for an open array).
        self.open: list[set[str] | None] = []
        self.top_start: _Token | None = None
        # Legacy only: bracket depth, known while lexing (-1: not tracked).
        self.legacy_depth = 0 if dialect is Dialect.LEGACY else -1
        # line_of(): the line at offset _line_pos
        self._line, self._line_pos = 1, 0

    # -- driving lark --------------------------------------------------

    def run(self) -> None:
        self._parse(_grammar(self.dialect, self.doc_comments))
        self.reject_expr_doc(self.cur_doc)

    def _parse(self, grammar: _Grammar) -> None:
        """lark's scanner and lark's LALR(1) table, in one loop.

        This is what lark's ``parse()`` does (lex a token, run its
        callback, reduce while the table says so, shift it), minus the
        generality: no generator between lexer and parser, no token
        objects for white space, no tree building (each reduction calls
        one ``reduce_*`` method with the matched symbols).  lark's own
        loops spent more time on that bookkeeping than on the schema.
        """
        text = self.src
        match = grammar.pattern.match
        ignore = grammar.ignore
        lex_callbacks = grammar.lex_callbacks
        table = grammar.table
        rules = grammar.rules
        states = [grammar.start_state]
        values: list[Any] = []
        new_token = str.__new__
        pos, end = 0, len(text)
        while pos < end:
            found = match(text, pos)
            if found is None:  # pragma: no cover - STRAY matches anything
                raise self.error_at(pos, "stray character")
            kind = found.lastgroup
            stop = found.end()
            if kind not in ignore:
                assert kind is not None
                # _Token.make(kind, found.group(), pos, stop), inlined
                tok = new_token(_Token, found.group())
                tok.type = kind
                tok.start_pos = pos
                tok.end_pos = stop
                callback = lex_callbacks.get(kind)
                if callback is not None:
                    tok = callback(self, tok)
                    kind = tok.type
                while True:
                    action = table[states[-1]].get(kind)
                    if action is None:
                        self.syntax_error(tok, states, values, grammar)
                    if action >= 0:
                        states.append(action)
                        values.append(tok)
                        break
                    size, origin, handler = rules[~action]
                    if size:
                        children = values[-size:]
                        del states[-size:]
                        del values[-size:]
                    else:
                        children = []
                    values.append(handler(self, children))
                    states.append(table[states[-1]][origin])
            pos = stop
        self._feed_end(states, values, grammar)

    def _feed_end(self, states: list[int], values: list[Any], grammar: _Grammar) -> None:
        """The end of the input: reduce until the whole file is ``start``."""
        table = grammar.table
        tok = _Token.make(_END, "", len(self.src), len(self.src))
        while True:
            action = table[states[-1]].get(_END)
            if action is None:
                self.syntax_error(tok, states, values, grammar)
            assert action < 0, "lark never shifts the end"
            size, origin, handler = grammar.rules[~action]
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            values.append(handler(self, children))
            goto = table[states[-1]][origin]
            states.append(goto)
            if goto == grammar.end_state:
                return

    def syntax_error(
        self, tok: _Token, states: list[int], values: list[Any], grammar: _Grammar
    ) -> NoReturn:
        """Raise QEMU's message for a token the grammar does not allow."""
        # The row of the current state may list terminals that only some
        # of the contexts merged into this LALR state allow; trying each
        # one gives the exact set (lark's InteractiveParser.accepts()).
        expected = {
            symbol
            for symbol in grammar.table[states[-1]]
            if symbol.isupper() and _accepts(grammar, list(states), symbol)
        }
        at_top = _END in expected
        if at_top and tok.type != _END:
            # QEMU handles a finished top-level expression (an include, a
            # pragma ...) before it looks at the next token; the parser has
            # not reduced it yet, so finish the parse to run those callbacks.
            self._feed_end(states, values, grammar)
        pos = len(self.src) - 1 if tok.type == _END else tok.start_pos
        raise self.error_at(pos or 0, self.expected_message(expected, at_top))

    def expected_message(self, expected: set[str], at_top: bool) -> str:
        legacy = self.dialect is Dialect.LEGACY
        if expected == {"COLON"}:
            return "expected ':'"
        if "COMMA" in expected:
            return "expected ',' or '}'" if "RBRACE" in expected else "expected ',' or ']'"
        if "RBRACE" in expected:
            return "expected string or '}'"
        if expected == {"STRING"}:
            return "expected string"
        if at_top and legacy:
            return "expected '{'"
        bracket = "']', " if "RSQB" in expected else ""
        if legacy:
            return f"expected '{{', '[', {bracket}string, boolean or 'null'"
        return f"expected '{{', '[', {bracket}string, or boolean"

    # -- positions -------------------------------------------------------

    def error_at(self, pos: int, msg: str) -> QAPISourceError:
        """An error at source offset *pos*, with QEMU's line and column."""
        line = self.src.count("\n", 0, pos) + 1
        return QAPISourceError(self.info.at_line(line), msg, self._column(pos))

    def line_of(self, pos: int) -> int:
        """The line of source offset *pos*.  Counted from the offset asked
        for last time: the parser asks in reading order, so the whole file
        is scanned about once."""
        if pos >= self._line_pos:
            self._line += self.src.count("\n", self._line_pos, pos)
        else:
            self._line -= self.src.count("\n", pos, self._line_pos)
        self._line_pos = pos
        return self._line

    def _column(self, pos: int) -> int:
        return _expand_tabs(self.src[self.src.rfind("\n", 0, pos) + 1 : pos])

    # -- lexer callbacks ---------------------------------------------------

    def lex_string(self, tok: _Token) -> _Token:
        """Strings are checked as soon as they are read, as QEMU does.  The
        token keeps its quotes (callbacks strip them); one with escapes is
        replaced by its decoded text, quoted again."""
        if self.legacy_depth == 0:
            self.legacy_top_level(tok)
        if _PLAIN_STRING.fullmatch(tok):
            return tok
        return self._decode_string(tok)

    def _decode_string(self, tok: _Token) -> _Token:
        """Check a string's characters and decode its escapes."""
        raw = str(tok)
        closed = len(raw) > 1 and raw.endswith("'") and not _escaped_quote(raw)
        body = raw[1:-1] if closed else raw[1:]
        legacy = self.dialect is Dialect.LEGACY
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            i += 1
            if ch == "\\":
                if i == len(body):
                    break  # backslash right before the line end
                esc = body[i]
                i += 1
                if not legacy:
                    if esc != "\\":
                        raise self.error_at(tok.start_pos, f"unknown escape \\{esc}")
                    out.append(esc)
                    continue
                decoded, i = self._legacy_escape(tok, body, esc, i)
                out.append(decoded)
            elif not legacy and not 32 <= ord(ch) < 127:
                raise self.error_at(tok.start_pos, "funny character in string")
            else:
                out.append(ch)
        if not closed:
            raise self.error_at(tok.start_pos, "missing terminating \"'\"")
        return _Token.make("STRING", "'" + "".join(out) + "'", tok.start_pos, tok.end_pos)

    def _legacy_escape(self, tok: _Token, body: str, esc: str, i: int) -> tuple[str, int]:
        """QEMU <= 5.2 knew JSON's escapes, with \\u limited to ASCII."""
        simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
        if esc in simple:
            return simple[esc], i
        if esc in "\\/'\"":
            return esc, i
        if esc == "u":
            digits = body[i : i + 4]
            if len(digits) < 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise self.error_at(tok.start_pos, "\\u escape needs 4 hex digits")
            value = int(digits, 16)
            if not 0 < value <= 0x7F:
                raise self.error_at(
                    tok.start_pos,
                    "for now, \\u escape only supports non-zero values up to \\u007f",
                )
            return chr(value), i + 4
        raise self.error_at(tok.start_pos, f"unknown escape \\{esc}")

    def legacy_top_level(self, tok: _Token) -> _Token:
        if self.legacy_depth == 0 and tok.type != "LBRACE":
            raise self.error_at(tok.start_pos, "expected '{'")
        if tok.type in ("LBRACE", "LSQB"):
            self.legacy_depth += 1
        elif tok.type == "NULL":
            return self.lex_null(tok)
        return tok

    def legacy_close(self, tok: _Token) -> _Token:
        if self.legacy_depth > 0:
            self.legacy_depth -= 1
        return tok

    def lex_stray(self, tok: _Token) -> _Token:
        # QEMU <= 5.2 named only the first character.
        word = tok[0] if self.dialect is Dialect.LEGACY else str(tok)
        raise self.error_at(tok.start_pos, f"stray '{word}'")

    def lex_null(self, tok: _Token) -> _Token:
        if self.dialect is Dialect.LEGACY:
            return tok
        # `null` is no keyword any more: it is a stray word like any other,
        # and the word runs on as far as STRAY would have matched.
        end = tok.end_pos
        while end < len(self.src) and self.src[end] not in "[]{}:,'" and not self.src[end].isspace():
            end += 1
        raise self.error_at(tok.start_pos, f"stray '{self.src[tok.start_pos : end]}'")

    # -- rule reductions ----------------------------------------------------
    # Each gets every symbol the rule matched (see grammar.lark) and
    # returns the rule's value.

    def reduce_start(self, _children: list[Any]) -> None:
        return None

    def reduce_top_value(self, children: list[Any]) -> None:
        self.top_value(children[1])

    def reduce_doc(self, children: list[Any]) -> None:
        self.doc_block(children[1])

    def reduce_value(self, children: list[Any]) -> Any:
        return children[0]

    def reduce_string(self, children: list[_Token]) -> str:
        self.scalar(children[0])
        return children[0][1:-1]

    def reduce_true(self, children: list[_Token]) -> bool:
        self.scalar(children[0])
        return True

    def reduce_false(self, children: list[_Token]) -> bool:
        self.scalar(children[0])
        return False

    def reduce_null(self, children: list[_Token]) -> None:
        self.scalar(children[0])
        return None

    def reduce_obj_open(self, children: list[_Token]) -> dict[str, Any]:
        self.open_bracket(children[0], is_object=True)
        return {}

    def reduce_members(self, children: list[Any]) -> dict[str, Any]:
        # [obj_open's dict, pair] or [members' dict, ',', pair]
        members: dict[str, Any] = children[0]
        key, value = children[-1]
        members[key] = value
        return members

    def reduce_pair(self, children: list[Any]) -> tuple[str, Any]:
        key, colon, value = children
        name = key[1:-1]
        self.check_key(name, colon)
        return name, value

    def reduce_object(self, children: list[Any]) -> dict[str, Any]:
        self.close_bracket()
        members: dict[str, Any] = children[0]
        return members

    def reduce_arr_open(self, children: list[_Token]) -> list[Any]:
        self.open_bracket(children[0], is_object=False)
        return []

    def reduce_elements(self, children: list[Any]) -> list[Any]:
        # [arr_open's list, value] or [elements' list, ',', value]
        elements: list[Any] = children[0]
        elements.append(children[-1])
        return elements

    def reduce_array(self, children: list[Any]) -> list[Any]:
        self.close_bracket()
        elements: list[Any] = children[0]
        return elements

    # -- structure callbacks ----------------------------------------------

    def open_bracket(self, tok: _Token, is_object: bool) -> None:
        if not self.open:
            self.top_start = tok
        self.open.append(set() if is_object else None)

    def close_bracket(self) -> None:
        self.open.pop()

    def scalar(self, tok: _Token) -> None:
        if not self.open:
            self.top_start = tok

    def check_key(self, key: str, colon: _Token) -> None:
        keys = self.open[-1]
        assert keys is not None
        if key in keys:
            # QEMU notices right after the colon, at the value's first token.
            raise self.error_at(self._next_token_pos(colon.end_pos), f"duplicate key '{key}'")
        keys.add(key)

    def _next_token_pos(self, pos: int) -> int:
        while pos < len(self.src):
            ch = self.src[pos]
            if ch == "#":
                if self.src.startswith("##", pos):
                    return pos
                pos = self.src.find("\n", pos)
            elif ch.isspace():
                pos += 1
            else:
                return pos
        return len(self.src) - 1

    # -- top level -----------------------------------------------------------

    def top_value(self, value: object) -> None:
        assert self.top_start is not None
        info = self.info.at_line(self.line_of(self.top_start.start_pos))
        if not isinstance(value, dict):
            raise QAPISourceError(info, "top-level expression must be an object")
        if "include" in value:
            self.reject_expr_doc(self.cur_doc)
            self.include(value, info)
        elif "pragma" in value:
            self.reject_expr_doc(self.cur_doc)
            self.pragma(value, info)
        else:
            doc = self.cur_doc
            if doc and not doc.symbol:
                raise QAPISourceError(doc.info, "definition documentation required")
            self.result.exprs.append(Expression(value, info, doc))
        self.cur_doc = None

    def include(self, expr: dict[str, object], info: SourceInfo) -> None:
        if len(expr) != 1:
            raise QAPISourceError(info, "invalid 'include' directive")
        include = expr["include"]
        if not isinstance(include, str):
            raise QAPISourceError(info, "value of 'include' must be a string")
        incl_fname = os.path.join(os.path.dirname(self.fname), include)
        self.result.exprs.append(Expression({"include": incl_fname}, info))
        incl_abs = os.path.abspath(incl_fname)
        parent: SourceInfo | None = info
        while parent:
            if incl_abs == os.path.abspath(parent.fname):
                raise QAPISourceError(info, f"inclusion loop for {include}")
            parent = parent.parent
        if incl_abs in self.included:
            return
        self.included.add(incl_abs)
        try:
            text = _read(incl_fname)
        except (OSError, ValueError) as err:
            raise QAPISourceError(
                info, f"can't read include file '{incl_fname}': {_reason(err)}"
            ) from err
        _FileParser(
            incl_fname, text, info, self.dialect, self.doc_comments, self.included, self.result
        ).run()

    def pragma(self, expr: dict[str, object], info: SourceInfo) -> None:
        if len(expr) != 1:
            raise QAPISourceError(info, "invalid 'pragma' directive")
        pragmas = expr["pragma"]
        if not isinstance(pragmas, dict):
            raise QAPISourceError(info, "value of 'pragma' must be an object")
        list_pragmas = _LIST_PRAGMAS[self.dialect]
        for name, value in pragmas.items():
            if name == "doc-required":
                if not isinstance(value, bool):
                    raise QAPISourceError(info, "pragma 'doc-required' must be boolean")
                info.pragma.doc_required = value
            elif name in list_pragmas:
                if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                    raise QAPISourceError(info, f"pragma {name} must be a list of strings")
                setattr(info.pragma, list_pragmas[name], value)
            else:
                raise QAPISourceError(info, f"unknown pragma '{name}'")

    def doc_block(self, tok: _Token) -> None:
        self.reject_expr_doc(self.cur_doc)
        docs = parse_doc_block(self._doc_lines(tok), self.dialect)
        self.result.docs.extend(docs)
        self.cur_doc = docs[-1] if docs else None

    def _doc_lines(self, tok: _Token) -> DocBlock:
        """Split a DOC token into its comment lines, each with its place.

        The grammar lets only the opening and the closing line start with
        ``##``; when the block has no closing line, a final ``DocLine``
        without text marks where the first non-comment token stands.  The
        other lines get their ``DocLine`` (and ``SourceInfo``) only if the
        doc parser asks for it.
        """
        info = self.info
        first_line = self.line_of(tok.start_pos)
        first_col = self._column(tok.start_pos)
        split = tok.split("\n")
        texts: list[str | None]
        if tok.count("\n") == tok.count("\n#"):
            # The usual block: every line starts with its '#', in column 1.
            texts = split  # type: ignore[assignment]  # (never gets a None)
            numbers: Sequence[int] = range(first_line, first_line + len(split))
            cols = None
        else:
            # Blank lines to skip, or comments indented.
            texts, numbers, cols = [], [], []
            for i, text in enumerate(split):
                comment = text.lstrip()
                if not comment:
                    continue
                indent = text[: len(text) - len(comment)]
                texts.append(comment)
                numbers.append(first_line + i)
                cols.append(_expand_tabs(indent) if "\t" in indent else len(indent) + 1)
        last = texts[-1]
        end: DocLine | None = None
        if len(texts) == 1 or last is None or not last.startswith("##"):
            nxt = self._next_token_pos(tok.end_pos)
            end = DocLine(None, info.at_line(self.src.count("\n", 0, nxt) + 1), self._column(nxt))
            texts = [*texts, None]

        def line(i: int) -> DocLine:
            if end is not None and i == len(numbers):
                return end
            col = first_col if i == 0 else cols[i] if cols else 1
            return DocLine(texts[i], info, col, numbers[i])

        def line_info(i: int) -> SourceInfo:
            if end is not None and i == len(numbers):
                return end.info
            return info.at_line(numbers[i])

        return DocBlock(texts, line, line_info)

    @staticmethod
    def reject_expr_doc(doc: QAPIDoc | None) -> None:
        if doc and doc.symbol:
            raise QAPISourceError(
                doc.info, f"documentation for '{doc.symbol}' is not followed by the definition"
            )


def _accepts(grammar: _Grammar, states: list[int], terminal: str) -> bool:
    """Whether the parser, in *states*, can take *terminal*: whether the
    reductions it triggers end in a shift (or, for the end of the input,
    in the final state).  Changes *states*; runs no callbacks."""
    table = grammar.table
    while True:
        action = table[states[-1]].get(terminal)
        if action is None:
            return False
        if action >= 0:
            assert terminal != _END, "lark never shifts the end"
            return True
        rule = grammar.rules[~action]
        if rule.size:
            del states[-rule.size :]
        goto = table[states[-1]][rule.origin]
        states.append(goto)
        if terminal == _END and goto == grammar.end_state:
            return True


def _expand_tabs(prefix: str) -> int:
    """QEMU's column for a token preceded by *prefix* on its line."""
    col = 1
    for ch in prefix:
        col = (col + 7) % 8 + 1 if ch == "\t" else col + 1
    return col


def _escaped_quote(raw: str) -> bool:
    """True when the final quote of *raw* is escaped (so not a closing quote)."""
    backslashes = len(raw) - 1 - len(raw[:-1].rstrip("\\"))
    return backslashes % 2 == 1
