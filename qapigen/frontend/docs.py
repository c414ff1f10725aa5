"""Documentation comments: the ``##`` block parser and every doc check.

The parser cuts a ``##`` ... ``##`` block out of the schema and hands it
here line by line (:class:`DocLine`); :func:`parse_doc_block` turns it into
:class:`QAPIDoc` objects, raising QEMU's errors in QEMU's order.  Later
stages call back into the doc: the expression checks call
:meth:`QAPIDoc.check_expr`, the IR builder calls
:meth:`QAPIDoc.connect_member`, :meth:`QAPIDoc.connect_feature`,
:meth:`QAPIDoc.ensure_returns` and :meth:`QAPIDoc.check`.

Two doc languages live here.

``Dialect.QEMU`` is QEMU 10.2's: paragraphs and indented descriptions, the
tags ``Returns:``/``Errors:``/``Since:``/``TODO:``, ``Features:``, the 70
column limit and two spaces between sentences (both waived inside ``::``
and ``.. qmp-example::`` literal blocks), free-form ``Note:``/``Example:``
sections rejected.

``Dialect.LEGACY`` is the language of QEMU 2.9 to 5.2, read line by line as
QEMU 3.1 did (each line stripped, a description ends at a blank line
followed by an unindented line), plus the ``Features:`` section of 4.x/5.x.
Errors land on the file:line (and column) QEMU 3.1 reports, but use 10.2's
wording.  A legacy doc fills the same attributes as a 10.2 doc:

- the text before the first description or tag: ``body`` (``Kind.PLAIN``);
- ``@name:``: ``args[name]`` (``Kind.MEMBER``), or ``features[name]``
  (``Kind.FEATURE``) after a ``Features:`` line;
- ``Returns:``, ``Since:``, ``TODO:``: a section in ``sections`` of kind
  ``RETURNS``, ``SINCE``, ``TODO`` (and ``returns``/``since`` point to it);
- ``Note:``, ``Notes:``, ``Example:``, ``Examples:``: a section of kind
  ``NOTE``, ``NOTES``, ``EXAMPLE``, ``EXAMPLES`` (example text is kept as
  written, other text has each line stripped, as 3.1 did);
- an unindented paragraph after a blank line that ends a description: a
  ``Kind.PLAIN`` section in ``sections``.

The four note/example kinds exist only in legacy docs (10.2 rejects these
tags), so the tag a legacy author wrote survives for the doc generators.
A legacy block is always one doc: 5.2 split free-form blocks at ``# =``
headings, 3.1 did not, and 3.1 is what the legacy dialect checks against.
The checks against the definition follow 3.1 too (undocumented members
are fine, ``Returns:`` may go with any command, errors are reported at the
block's first line); features, which 3.1 did not have, follow 5.x (each
needs a description, each description a feature).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from qapigen.dialect import Dialect
from qapigen.errors import QAPISourceError

if TYPE_CHECKING:
    from qapigen.frontend.expression import Expression
    from qapigen.frontend.source import SourceInfo


class DocLine:
    """One line of a doc block, as the schema parser saw it.

    ``text`` is the comment from its ``#`` to the end of the line (no
    newline), or None for the token that ended the block without ``##``
    (or end of file).  ``col`` is QEMU's column of that ``#`` or token.
    ``info`` is the line's place; it is made on first use, because most
    lines never need one and real schemas have tens of thousands of lines.
    """

    __slots__ = ("_file", "_info", "col", "line", "text")

    def __init__(self, text: str | None, info: SourceInfo, col: int, line: int | None = None) -> None:
        self.text = text
        self.col = col
        self._info: SourceInfo | None
        if line is None:
            self._file, self._info, self.line = info, info, info.line
        else:
            self._file, self._info, self.line = info, None, line

    @property
    def info(self) -> SourceInfo:
        if self._info is None:
            self._info = self._file.at_line(self.line)
        return self._info

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DocLine)
            and (self.text, self.col, self.line, self.info.fname)
            == (other.text, other.col, other.line, other.info.fname)
        )

    def __hash__(self) -> int:
        return hash((self.text, self.col, self.line))

    def __repr__(self) -> str:
        return f"DocLine({self.text!r}, line={self.line}, col={self.col})"

    def error(self, msg: str) -> QAPISourceError:
        """An error at this line and column, like QEMU's QAPIParseError."""
        return QAPISourceError(self.info, msg, self.col)


class DocBlock:
    """A doc block as the block parsers read it: ``texts[i]`` is what
    ``DocLine.text`` of its line ``i`` is, ``line(i)`` makes that
    ``DocLine`` and ``info(i)`` its ``info``.

    The schema parser hands blocks over in this shape because the block
    parser needs a line's place only where a section starts, and its
    column only for an error: making a ``DocLine`` for each of the 20,000
    doc lines of QEMU's schema cost more than parsing them.
    """

    __slots__ = ("info", "line", "texts")

    def __init__(
        self,
        texts: Sequence[str | None],
        line: Callable[[int], DocLine],
        info: Callable[[int], SourceInfo] | None = None,
    ) -> None:
        self.texts = texts
        self.line = line
        self.info: Callable[[int], SourceInfo] = info or (lambda i: line(i).info)

    @classmethod
    def of(cls, lines: Sequence[DocLine]) -> DocBlock:
        """The block of ready-made *lines*."""
        return cls([line.text for line in lines], lines.__getitem__)

    def lines(self) -> list[DocLine]:
        """Every line's ``DocLine``."""
        return [self.line(i) for i in range(len(self.texts))]


class Kind(enum.Enum):
    """What a section is.  ``str()`` is the name the dump and the
    "text required after 'X:'" message print."""

    PLAIN = 0
    MEMBER = 1
    FEATURE = 2
    RETURNS = 3
    ERRORS = 4
    SINCE = 5
    TODO = 6
    # Legacy dialect only, see the module docstring.
    NOTE = 7
    NOTES = 8
    EXAMPLE = 9
    EXAMPLES = 10

    def __str__(self) -> str:
        return self.name.title()


class DocMember(Protocol):
    """What the docs need from an IR member or feature."""

    @property
    def name(self) -> str: ...

    @property
    def info(self) -> SourceInfo | None: ...

    @property
    def role(self) -> str: ...


class Section:
    """A run of doc text: the body, a tagged section or a plain one."""

    def __init__(self, info: SourceInfo, kind: Kind) -> None:
        self.info = info  # where the section starts
        self.kind = kind
        self.text = ""  # the text, without its tag

    def append_line(self, line: str) -> None:
        self.text += line + "\n"

    def append_lines(self, lines: list[str]) -> None:
        """``append_line`` for each of *lines*, with one concatenation."""
        if lines:
            self.text += "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind} {self.text!r}>"


class ArgSection(Section):
    """The description of one member/argument or feature."""

    def __init__(self, info: SourceInfo, kind: Kind, name: str) -> None:
        super().__init__(info, kind)
        self.name = name
        self.member: DocMember | None = None  # set by connect()

    def connect(self, member: DocMember) -> None:
        self.member = member


class QAPIDoc:
    """One doc comment: definition documentation (``symbol`` set) or
    free-form text (``symbol`` None, everything in ``body``).

    Attribute names follow QEMU 10.2's QAPIDoc, so the dump and the doc
    generators read either dialect the same way.  QEMU's nested
    ``QAPIDoc.Kind``/``Section``/``ArgSection`` are module-level here.
    """

    def __init__(
        self, info: SourceInfo, symbol: str | None = None, dialect: Dialect = Dialect.QEMU
    ) -> None:
        self.info = info  # the opening '##' line
        self.symbol = symbol
        self.dialect = dialect
        self.body = Section(info, Kind.PLAIN)
        self.all_sections: list[Section] = [self.body]  # in source order
        self.args: dict[str, ArgSection] = {}
        self.features: dict[str, ArgSection] = {}
        self.sections: list[Section] = []  # after the body, except args/features
        self.returns: Section | None = None
        self.errors: Section | None = None
        self.since: Section | None = None

    def __repr__(self) -> str:
        return f"<QAPIDoc {self.symbol or '(free-form)'} at {self.info!r}>"

    # -- building (used by the block parsers below) ------------------------

    def _add_section(self, section: Section) -> None:
        self.sections.append(section)
        self.all_sections.append(section)
        if section.kind is Kind.RETURNS:
            self.returns = section
        elif section.kind is Kind.ERRORS:
            self.errors = section
        elif section.kind is Kind.SINCE:
            self.since = section

    def _add_description(self, section: ArgSection) -> None:
        descs = self.features if section.kind is Kind.FEATURE else self.args
        descs[section.name] = section
        self.all_sections.append(section)

    # -- checks against the definition -------------------------------------

    def check_expr(self, expr: Expression) -> None:
        """Reject tagged sections the definition cannot have."""
        if self.dialect is Dialect.LEGACY:
            # 3.1 knew no "Errors:" and allowed "Returns:" on any command;
            # it reported at the doc's first line.
            if self.returns and "command" not in expr:
                raise QAPISourceError(self.info, "'Returns' section is only valid for commands")
            return
        if "command" in expr:
            if self.returns and "returns" not in expr:
                raise QAPISourceError(
                    self.returns.info, "'Returns' section, but command doesn't return anything"
                )
            return
        if self.returns:
            raise QAPISourceError(self.returns.info, "'Returns' section is only valid for commands")
        if self.errors:
            raise QAPISourceError(self.errors.info, "'Errors' section is only valid for commands")

    def connect_member(self, member: DocMember) -> None:
        """Tie the description of *member* to it.

        An undocumented member is an error in 10.2 unless the definition is
        in the ``documentation-exceptions`` pragma (3.1 never complained).
        Either way it gets an empty stub description, placed after the
        documented ones, so the doc generators can list it.
        """
        if member.name not in self.args:
            assert member.info is not None
            if (
                self.dialect is Dialect.QEMU
                and self.symbol not in member.info.pragma.documentation_exceptions
            ):
                raise QAPISourceError(
                    member.info, f"{member.role} '{member.name}' lacks documentation"
                )
            stub = ArgSection(self.info, Kind.MEMBER, member.name)
            self.args[member.name] = stub
            # After the body and any descriptions.  (QEMU runs off the end
            # of the list when nothing but descriptions follow the body.)
            index = 1
            while index < len(self.all_sections) and self.all_sections[index].kind is Kind.MEMBER:
                index += 1
            self.all_sections.insert(index, stub)
        self.args[member.name].connect(member)

    def connect_feature(self, feature: DocMember) -> None:
        """Tie the description of *feature* to it; every feature needs one
        (as from QEMU 5.0, the first release that checked features)."""
        if feature.name not in self.features:
            raise QAPISourceError(feature.info, f"feature '{feature.name}' lacks documentation")
        self.features[feature.name].connect(feature)

    def ensure_returns(self, info: SourceInfo) -> None:
        """Give a command that returns something a ``Returns`` section in
        ``all_sections`` (not ``sections``: the dump never shows it), where
        QEMU puts it: after the last description, else before the last
        ``Errors``, else before the last feature, else after the body."""
        if any(s.kind is Kind.RETURNS for s in self.all_sections):
            return
        stub = Section(info, Kind.RETURNS)
        for kind, offset in ((Kind.MEMBER, 1), (Kind.ERRORS, 0), (Kind.FEATURE, 0)):
            for pos in range(len(self.all_sections) - 1, -1, -1):
                if self.all_sections[pos].kind is kind:
                    self.all_sections.insert(pos + offset, stub)
                    return
        self.all_sections.insert(1, stub)

    def check(self) -> None:
        """Every description must have found its member or feature."""
        self._check_descs(self.args, "member")
        self.check_features()

    def check_features(self) -> None:
        """Every feature description must have found its feature.  (The
        legacy dialect checks this for every doc, and the members only
        where QEMU 3.1 did.)"""
        self._check_descs(self.features, "feature")

    def _check_descs(self, descs: dict[str, ArgSection], what: str) -> None:
        bogus = [name for name, section in descs.items() if section.member is None]
        if not bogus:
            return
        names = "', '".join(bogus)
        if len(bogus) > 1:
            msg = f"documented {what}s '{names}' do not exist"
        else:
            msg = f"documented {what} '{names}' does not exist"
        # Legacy: 3.1 blamed the whole doc comment.
        where = self.info if self.dialect is Dialect.LEGACY else descs[bogus[0]].info
        raise QAPISourceError(where, msg)


def parse_doc_block(lines: Sequence[DocLine] | DocBlock, dialect: Dialect) -> list[QAPIDoc]:
    """Parse one ``##`` block.

    ``lines[0]`` is the opening ``##`` line; the last line is the closing
    ``##`` or a ``DocLine`` with ``text=None``.  Returns the docs the block
    holds (always exactly one, see the module docstring).
    """
    block = lines if isinstance(lines, DocBlock) else DocBlock.of(lines)
    if block.texts[0] != "##":
        raise block.line(0).error("junk after '##' at start of documentation comment")
    if dialect is Dialect.LEGACY:
        return [_LegacyBlockParser(block.lines()).parse()]
    return [_BlockParser(block).parse()]


# -- Dialect.QEMU ----------------------------------------------------------

_AT_NAME_COLON = re.compile(r"@([^:]*): *")
# A tag followed by '::' is rST markup ("Examples::"), not a section.
_SECTION_TAG = re.compile(r"(Returns|Errors|Since|Notes?|Examples?|TODO)(?!::): *")
_LITERAL_BLOCK_START = re.compile(r"(\.\. +qmp-example)? *::$")
_URL_LINE = re.compile(r" *(https?|ftp)://[^ ]*$")
# Group 2 is a sentence end followed by a single space; the other
# alternatives only exist to swallow "e.g. Foo" and "1. Foo".
_ONE_SPACE_SENTENCE = re.compile(r"(\be\.g\.|^ *\d\.|([.!?])) [A-Z0-9(]")
# What a group 2 match of _ONE_SPACE_SENTENCE needs.  Searching for this
# first is ten times cheaper than running the alternation on every line,
# and few lines match it.
_MAYBE_ONE_SPACE = re.compile(r"[.!?] [A-Z0-9(]")
_MAX_LINE = 70


def _indent(line: str) -> int:
    """The number of leading white space characters (those of
    ``str.isspace``: the same as a regular expression's ``\\s``)."""
    return len(line) - len(line.lstrip())


def _advance_col(col: int, chars: str) -> int:
    """QEMU's column after *chars*, starting at *col*.  This is QEMU's own
    tab arithmetic (which leaves columns 1-8 alone), not real tab stops."""
    for ch in chars:
        col = (col + 7) % 8 + 1 if ch == "\t" else col + 1
    return col


class _BlockParser:
    """QEMU 10.2's reading of a block.

    QEMU interleaves lexing and parsing, so it stops at the first problem
    in reading order; this class keeps that shape: ``_next()`` fetches and
    checks one line (QEMU's ``get_doc_line``), the rest mirrors
    ``get_doc`` and its helpers.

    ``_next()`` runs for every doc line of a schema (some 20,000 in
    QEMU's), so it avoids regular expressions and method calls where a
    cheap test on the line decides.
    """

    def __init__(self, block: DocBlock) -> None:
        self._texts = block.texts
        self._line = block.line
        self._info = block.info
        self._index = 0
        self._literal = False  # inside a '::' or '.. qmp-example::' block
        self._literal_indent = 0
        # Whether a line of the block may fail _check_style(): most blocks
        # have no line that long and no sentence end followed by one
        # space, which two C-speed scans of the whole block rule out.
        texts = [text for text in block.texts if text is not None]
        self._style_suspect = (
            max(map(len, texts)) > _MAX_LINE
            or _MAYBE_ONE_SPACE.search("\n".join(texts)) is not None
        )

    @property
    def _cur(self) -> DocLine:
        return self._line(self._index)

    @property
    def _cur_info(self) -> SourceInfo:
        return self._info(self._index)

    def _error(self, msg: str) -> QAPISourceError:
        return self._cur.error(msg)

    def _next(self) -> str | None:
        """The next line's text after '# ' with trailing blanks removed,
        '' for a blank line, None at the closing '##'."""
        self._index += 1
        text = self._texts[self._index]
        if text is None:
            raise self._error("documentation comment must end with '##'")
        if text == "#":
            return ""
        if text[1] != " ":
            if text.startswith("##"):
                if text != "##":
                    raise self._error("junk after '##' at end of documentation comment")
                return None
            raise self._error("missing space after #")
        line = text[2:].rstrip()
        # (the line has no trailing blanks, so '$' can only match at its end)
        if line.endswith("::") and _LITERAL_BLOCK_START.match(line):
            self._literal = True
            self._literal_indent = 0
        elif self._literal and line:
            indent = _indent(line)
            if self._literal_indent == 0:
                self._literal_indent = indent
            elif indent < self._literal_indent:
                self._literal = False  # a de-indent ends the rST block
        if (
            self._style_suspect
            and not self._literal
            and (len(line) + 2 > _MAX_LINE or _MAYBE_ONE_SPACE.search(line))
        ):
            self._check_style(line)
        return line

    def _check_style(self, line: str) -> None:
        """Line length and two spaces between sentences."""
        if len(line) + 2 > _MAX_LINE and not _URL_LINE.match(line):
            raise self._error(f"documentation line longer than {_MAX_LINE} characters")
        for match in _ONE_SPACE_SENTENCE.finditer(line):
            if match.group(2) is None:
                continue
            # QEMU points at the space after the punctuation, counting from
            # the start of the source line; whatever precedes the '#' is
            # taken to be spaces (only blanks can precede it in a block).
            cur = self._cur
            assert cur.text is not None
            source_line = " " * (cur.col - 1) + cur.text
            col = _advance_col(1, source_line[: 2 + match.start(2) + 1])
            raise QAPISourceError(
                cur.info,
                "Use two spaces between sentences\n"
                "If this not the end of a sentence, please report a bug.",
                col,
            )

    def parse(self) -> QAPIDoc:
        info = self._info(0)
        line = self._next()
        if line is not None and line.startswith("@"):
            if not line.endswith(":"):
                raise self._error("line should end with ':'")
            symbol = line[1:-1]
            if not symbol:
                raise self._error("name required after '@'")
            doc = QAPIDoc(info, symbol)
            self._definition(doc)
        else:
            doc = QAPIDoc(info)
            self._plain(doc)
            body: list[str] = []
            while line is not None:
                if line.startswith("@") and (match := _AT_NAME_COLON.match(line)):
                    raise self._error(
                        f"'@{match.group(1)}:' not allowed in free-form documentation"
                    )
                body.append(line)
                line = self._next()
            doc.body.append_lines(body)
        self._end(doc)
        return doc

    def _definition(self, doc: QAPIDoc) -> None:
        """Everything after the '@symbol:' line."""
        line = self._next()
        sections_started = False  # descriptions must precede sections
        while line is not None:
            while line == "":
                line = self._next()
            if line is None:
                break
            if line == "Features:":
                if doc.features:
                    raise self._error("duplicated 'Features:' line")
                line = self._next()
                while line == "":
                    line = self._next()
                line = self._descriptions(doc, line, Kind.FEATURE)
                if not doc.features:
                    raise self._error("feature descriptions expected")
                sections_started = True
            elif line[0] == "@" and (match := _AT_NAME_COLON.match(line)):
                if sections_started:
                    raise self._error(f"description of '@{match.group(1)}:' follows a section")
                line = self._descriptions(doc, line, Kind.MEMBER)
                sections_started = True
            elif match := _SECTION_TAG.match(line):
                tag = match.group(1)
                if "Note" in tag:
                    raise self._error(
                        f"The '{tag}' section is no longer supported. Please use "
                        "rST's '.. note::' or '.. admonition:: notes' directives, "
                        "or another suitable admonition instead."
                    )
                if "Example" in tag:
                    raise self._error(
                        f"The '{tag}' section is no longer supported. Please use "
                        "the '.. qmp-example::' directive, or other suitable markup "
                        "instead."
                    )
                section = self._tagged(doc, Kind[tag.upper()])
                if rest := line[match.end() :]:
                    section.append_line(rest)
                line = self._indented(section)
                sections_started = True
            else:
                section = self._plain(doc)
                section.append_line(line)
                line = self._paragraph(section)

    def _descriptions(self, doc: QAPIDoc, line: str | None, kind: Kind) -> str | None:
        """A run of '@name: text' descriptions; returns the line after."""
        descs = doc.features if kind is Kind.FEATURE else doc.args
        while line is not None and (match := _AT_NAME_COLON.match(line)):
            name = match.group(1)
            if not name:
                raise QAPISourceError(self._cur_info, "invalid parameter name")
            if name in descs:
                raise QAPISourceError(self._cur_info, f"'{name}' parameter name duplicated")
            section = ArgSection(self._cur_info, kind, name)
            doc._add_description(section)
            if rest := line[match.end() :]:
                section.append_line(rest)
            line = self._indented(section)
        return line

    def _tagged(self, doc: QAPIDoc, kind: Kind) -> Section:
        info = self._cur_info
        if kind in (Kind.RETURNS, Kind.ERRORS, Kind.SINCE) and any(
            s.kind is kind for s in doc.sections
        ):
            raise QAPISourceError(info, f"duplicated '{kind}' section")
        section = Section(info, kind)
        doc._add_section(section)
        return section

    def _plain(self, doc: QAPIDoc) -> Section:
        """The untagged section to add a paragraph to: the last section if
        it is untagged (the body counts), else a new one."""
        section = doc.all_sections[-1]
        if section.kind is Kind.PLAIN:
            if not section.text:
                section.info = self._cur_info  # empty so far: it starts here
            section.text += "\n"  # paragraph break
            return section
        section = Section(self._cur_info, Kind.PLAIN)
        doc._add_section(section)
        return section

    def _indented(self, section: Section) -> str | None:
        """The rest of a description or tagged section: lines indented at
        least as far as its first continuation line.  Returns the first line
        that is not part of it."""
        lines: list[str] = []
        line = self._next()
        while line == "":
            lines.append(line)
            line = self._next()
        if line is None or not line[0].isspace():  # not indented
            section.append_lines(lines)
            return line
        indent = _indent(line)
        lines.append(line)
        # QEMU sets this after every line, so only the line right after the
        # first continuation line is held to the indentation strictly.
        after_first = False
        while True:
            line = self._next()
            if line is None or (line.startswith("@") and _AT_NAME_COLON.match(line)):
                break
            if line and _indent(line) < indent:
                if after_first:
                    break
                raise self._error(f"unexpected de-indent (expected at least {indent} spaces)")
            lines.append(line)
            after_first = True
        section.append_lines(lines)
        return line

    def _paragraph(self, section: Section) -> str | None:
        """Lines up to a blank line or the end of the block."""
        lines: list[str] = []
        while True:
            line = self._next()
            if not line:
                section.append_lines(lines)
                return line
            lines.append(line)

    def _end(self, doc: QAPIDoc) -> None:
        for section in doc.all_sections:
            section.text = section.text.strip("\n")
            if section.kind is not Kind.PLAIN and not section.text:
                raise QAPISourceError(section.info, f"text required after '{section.kind}:'")


# -- Dialect.LEGACY --------------------------------------------------------

_LEGACY_TAGS = {
    "Returns:": Kind.RETURNS,
    "Since:": Kind.SINCE,
    "Note:": Kind.NOTE,
    "Notes:": Kind.NOTES,
    "Example:": Kind.EXAMPLE,
    "Examples:": Kind.EXAMPLES,
    "TODO:": Kind.TODO,
}
_LEGACY_AT_WORD = re.compile(r"(@\S+:)")


class _LegacyBlockParser:
    """QEMU 3.1's reading of a block, extended by 4.x's ``Features:``.

    Lines are handled one at a time by the handler of the part of the doc
    being read (body, descriptions, features, other sections); a section
    is closed, and checked for emptiness, when the next one opens or the
    block ends, so that is where an empty one is reported.  Every error
    is at the line being read, with its column, as 3.1's were.
    """

    def __init__(self, lines: list[DocLine]) -> None:
        self._lines = lines
        self._doc = QAPIDoc(lines[0].info, dialect=Dialect.LEGACY)
        self._section: Section | None = self._doc.body
        self._handle: Callable[[DocLine, str], None] = self._body_line

    def parse(self) -> QAPIDoc:
        for dline in self._lines[1:]:
            text = dline.text
            if text is None:
                raise dline.error("documentation comment must end with '##'")
            if text.startswith("##"):
                if text != "##":
                    raise dline.error("junk after '##' at end of documentation comment")
                self._end_section(dline)
                return self._doc
            if text == "#":
                self._append(dline, "")
            elif text[1] != " ":
                raise dline.error("missing space after #")
            else:
                self._handle(dline, text[2:])
        raise AssertionError("doc block without an end line")

    @staticmethod
    def _first_word(line: str) -> str:
        return line.split(" ", 1)[0]

    @staticmethod
    def _is_description(word: str) -> bool:
        return word.startswith("@") and word.endswith(":")

    @property
    def _cur(self) -> Section:
        assert self._section is not None
        return self._section

    def _body_line(self, dline: DocLine, line: str) -> None:
        doc = self._doc
        word = self._first_word(line)
        if doc.symbol is None and not doc.body.text and line.startswith("@"):
            if not line.endswith(":"):
                raise dline.error("line should end with ':'")
            if not line[1:-1]:
                raise dline.error("name required after '@'")
            doc.symbol = line[1:-1]
        elif doc.symbol is None:
            self._append(dline, line.strip())
        elif self._is_description(word):
            self._handle = self._args_line
            self._args_line(dline, line)
        elif line == "Features:":
            self._handle = self._features_line
        elif word in _LEGACY_TAGS:
            self._handle = self._other_line
            self._other_line(dline, line)
        else:
            self._append(dline, line.strip())

    def _args_line(self, dline: DocLine, line: str) -> None:
        self._description_line(dline, line, Kind.MEMBER)

    def _features_line(self, dline: DocLine, line: str) -> None:
        self._description_line(dline, line, Kind.FEATURE)

    def _description_line(self, dline: DocLine, line: str, kind: Kind) -> None:
        word = self._first_word(line)
        if self._is_description(word):
            self._start_description(dline, word[1:-1], kind)
            line = line[len(word) + 1 :]
        elif word in _LEGACY_TAGS:
            self._handle = self._other_line
            self._other_line(dline, line)
            return
        elif self._cur.text.endswith("\n\n") and line and not line[0].isspace():
            # An unindented line after a blank one ends the description.
            if kind is Kind.MEMBER and line == "Features:":
                self._handle = self._features_line
            else:
                self._start_section(dline, Kind.PLAIN)
                self._handle = self._other_line
                self._other_line(dline, line)
            return
        self._append(dline, line.strip())

    def _other_line(self, dline: DocLine, line: str) -> None:
        word = self._first_word(line)
        if self._is_description(word):
            # 3.1 checked the name before the place.
            self._check_new_name(dline, word[1:-1], self._doc.args)
            raise dline.error(f"description of '{word}' follows a section")
        if word in _LEGACY_TAGS:
            self._start_section(dline, _LEGACY_TAGS[word])
            line = line[len(word) + 1 :]
        if self._cur.kind not in (Kind.EXAMPLE, Kind.EXAMPLES):
            line = line.strip()
        self._append(dline, line)

    def _start_description(self, dline: DocLine, name: str, kind: Kind) -> None:
        descs = self._doc.features if kind is Kind.FEATURE else self._doc.args
        self._check_new_name(dline, name, descs)
        self._end_section(dline)
        section = ArgSection(dline.info, kind, name)
        self._doc._add_description(section)
        self._section = section

    @staticmethod
    def _check_new_name(dline: DocLine, name: str, descs: dict[str, ArgSection]) -> None:
        if not name:
            raise dline.error("invalid parameter name")
        if name in descs:
            raise dline.error(f"'{name}' parameter name duplicated")

    def _start_section(self, dline: DocLine, kind: Kind) -> None:
        if kind in (Kind.RETURNS, Kind.SINCE) and any(s.kind is kind for s in self._doc.sections):
            raise dline.error(f"duplicated '{kind}' section")
        self._end_section(dline)
        section = Section(dline.info, kind)
        self._doc._add_section(section)
        self._section = section

    def _end_section(self, dline: DocLine) -> None:
        section = self._cur
        section.text = section.text.strip()
        if section.kind is not Kind.PLAIN and not section.text:
            raise dline.error(f"text required after '{section.kind}:'")
        self._section = None

    def _append(self, dline: DocLine, line: str) -> None:
        match = _LEGACY_AT_WORD.match(line)
        if match:
            raise dline.error(f"'{match.group(1)}' not allowed in free-form documentation")
        self._cur.text += line.rstrip() + "\n"
