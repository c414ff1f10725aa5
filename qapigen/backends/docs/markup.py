"""Doc-comment text to blocks: the reStructuredText subset QAPI docs use.

QEMU 10.2's doc comments are rST (paragraphs, bullet and numbered lists,
``::`` literal blocks, headings, ``.. note::``/``.. admonition::``/
``.. qmp-example::``/``.. table::`` directives); QEMU 3.1's are plainer
text in the same spirit.  Neither language needs a full rST parser, and
pulling in docutils would make the reference depend on Sphinx's rules for
text that QEMU's own build feeds through extra hooks anyway.  This module
cuts a section's text into :class:`Block` objects; the renderers
(:mod:`qapigen.backends.docs.render`) turn blocks into HTML or Markdown,
so nothing rST-specific ever reaches a page raw.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field


@dataclass
class Block:
    """A piece of body text; ``line`` is its first line's offset in the
    section text (for warnings)."""

    line: int


@dataclass
class Para(Block):
    text: str


@dataclass
class Heading(Block):
    text: str
    level: int


@dataclass
class Literal(Block):
    text: str


@dataclass
class ListBlock(Block):
    ordered: bool
    items: list[list[Block]]


@dataclass
class Admonition(Block):
    title: str
    blocks: list[Block]


@dataclass
class Table(Block):
    title: str
    rows: list[list[str]]  # first row is the header


@dataclass
class Message:
    """One QMP message of an example: ``->`` (to the server) or ``<-``."""

    direction: str
    text: str


@dataclass
class Example(Block):
    """A QMP example: a title, and prose blocks and messages in order."""

    title: str
    parts: list[Block | Message] = field(default_factory=list)


_DIRECTIVE = re.compile(r"^\.\.\s+([A-Za-z][\w:-]*)::(?:\s+(.*))?$")
_COMMENT = re.compile(r"^\.\.(\s|$)")
_OPTION = re.compile(r"^:([\w-]+):\s*(.*)$")
_BULLET = re.compile(r"^([*+-]|\d+[.)]|#\.)(\s+|$)")
_UNDERLINE = re.compile(r"^([=\-*^~#'\"`+])\1{2,}\s*$")
_ADMONITIONS = {
    "note": "Note", "caution": "Caution", "warning": "Warning", "important": "Important",
    "tip": "Tip", "hint": "Hint", "attention": "Attention", "danger": "Danger",
    "error": "Error", "seealso": "See also", "todo": "To do",
}
# Overlined headings are level 1 (QEMU's "****" chapters).
_UNDERLINE_LEVELS = {"*": 1, "=": 2, "-": 3}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _dedent(lines: list[str]) -> list[str]:
    return textwrap.dedent("\n".join(lines)).split("\n") if lines else []


def parse_text(text: str) -> list[Block]:
    """The blocks of one section's text."""
    return _Parser(_dedent(text.expandtabs().rstrip("\n").split("\n")), 0).blocks()


def parse_example(text: str, title: str = "Example", line: int = 0) -> Example:
    """A legacy ``Example:`` section, or a ``.. qmp-example::`` body that
    is not annotated: messages, and prose between them."""
    example = Example(line, title)
    example.parts = _messages(_dedent(text.rstrip("\n").split("\n")), line)
    return example


def _balance(text: str) -> int:
    """How many more brackets *text* opens than it closes (strings skipped)."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return depth


def _messages(lines: list[str], base: int) -> list[Block | Message]:
    """Split example lines into messages: a message starts at ``->`` or
    ``<-`` and runs until its brackets balance; other lines are prose."""
    parts: list[Block | Message] = []
    prose: list[str] = []
    prose_start = 0
    current: list[str] | None = None
    direction = ""

    def flush_prose() -> None:
        if any(p.strip() for p in prose):
            parts.extend(_Parser(_dedent(prose), base + prose_start).blocks())
        prose.clear()

    def flush_message() -> None:
        nonlocal current
        if current is not None:
            parts.append(Message(direction, "\n".join(_dedent(current)).strip("\n")))
            current = None

    for i, line in enumerate(lines):
        stripped = line.strip()
        if current is not None and (not stripped or _balance("\n".join(current)) <= 0):
            flush_message()
        if stripped.startswith(("->", "<-")):
            flush_prose()
            flush_message()
            direction = stripped[:2]
            # The arrow becomes blanks, so continuation lines keep their
            # alignment with the message's first line.
            current = [line.replace(direction, "  ", 1)]
        elif current is not None:
            current.append(line)
        else:
            if not prose:
                prose_start = i
            prose.append(line)
    flush_message()
    flush_prose()
    return parts


class _Parser:
    """Block parser over dedented lines (``base``: offset of line 0)."""

    def __init__(self, lines: list[str], base: int) -> None:
        self.lines = lines
        self.base = base
        self.pos = 0

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        while True:
            self._skip_blank()
            if self.pos >= len(self.lines):
                return out
            out.extend(self._block())

    def _skip_blank(self) -> None:
        while self.pos < len(self.lines) and not self.lines[self.pos].strip():
            self.pos += 1

    def _indented(self, min_indent: int) -> list[str]:
        """The following lines that are blank or indented by *min_indent*
        or more, trailing blank lines dropped."""
        start = self.pos
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.strip() and _indent(line) < min_indent:
                break
            self.pos += 1
        block = self.lines[start : self.pos]
        while block and not block[-1].strip():
            block.pop()
            self.pos -= 1
        return block

    def _sub(self, lines: list[str], offset: int) -> list[Block]:
        return _Parser(_dedent(lines), self.base + offset).blocks()

    def _block(self) -> list[Block]:
        line = self.lines[self.pos]
        stripped = line.strip()
        here = self.base + self.pos
        if _indent(line) > 0:  # a block quote: just its content, set off
            start = self.pos
            body = self._indented(1)
            return [Admonition(here, "", self._sub(body, start))]
        directive = _DIRECTIVE.match(stripped)
        if directive:
            return self._directive(directive.group(1), directive.group(2) or "")
        if _COMMENT.match(stripped):
            self.pos += 1
            self._indented(1)
            return []
        heading = self._heading()
        if heading:
            return [heading]
        if _BULLET.match(stripped):
            return [self._list()]
        return self._paragraph()

    def _heading(self) -> Heading | None:
        lines, pos = self.lines, self.pos
        here = self.base + pos
        over = _UNDERLINE.match(lines[pos])
        if over and pos + 2 < len(lines) and lines[pos + 2].strip() == lines[pos].strip():
            self.pos += 3
            return Heading(here, lines[pos + 1].strip(), 1)
        if pos + 1 < len(lines) and not over:
            under = _UNDERLINE.match(lines[pos + 1])
            if under and len(lines[pos + 1].strip()) >= len(lines[pos].strip()):
                self.pos += 2
                level = _UNDERLINE_LEVELS.get(under.group(1), 4)
                return Heading(here, lines[pos].strip(), level)
        return None

    def _list(self) -> ListBlock:
        here = self.base + self.pos
        first = _BULLET.match(self.lines[self.pos].strip())
        assert first
        ordered = first.group(1)[0] not in "*+-"
        items: list[list[Block]] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            match = _BULLET.match(line)
            if not match or (match.group(1)[0] in "*+-") == ordered:
                break
            width = match.end()
            start = self.pos
            first_line = " " * width + line[width:]
            self.pos += 1
            rest = self._indented(max(width, 1))
            items.append(self._sub([first_line, *rest], start))
            save = self.pos
            self._skip_blank()
            if self.pos >= len(self.lines) or not _BULLET.match(self.lines[self.pos]):
                self.pos = save
                break
        return ListBlock(here, ordered, items)

    def _paragraph(self) -> list[Block]:
        here = self.base + self.pos
        text: list[str] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if not line.strip() or (text and _indent(line) > 0 and text[-1].endswith("::")):
                break
            if text and _DIRECTIVE.match(line.strip()):
                break
            text.append(line.strip())
            self.pos += 1
        joined = " ".join(text)
        out: list[Block] = []
        if joined.endswith("::"):
            joined = joined[:-2].rstrip() if joined.endswith(" ::") or joined == "::" else joined[:-1]
            if joined:
                out.append(Para(here, joined))
            self._skip_blank()
            if self.pos < len(self.lines) and _indent(self.lines[self.pos]) > 0:
                start = self.pos
                body = self._indented(1)
                out.append(Literal(self.base + start, "\n".join(_dedent(body))))
            return out
        return [Para(here, joined)]

    def _directive(self, name: str, argument: str) -> list[Block]:
        here = self.base + self.pos
        self.pos += 1
        options: dict[str, str] = {}
        while self.pos < len(self.lines):
            option = _OPTION.match(self.lines[self.pos].strip())
            if not option or _indent(self.lines[self.pos]) == 0:
                break
            options[option.group(1)] = option.group(2)
            self.pos += 1
        start = self.pos
        body = self._indented(1)
        if name == "qmp-example":
            title = "Example"
            if options.get("title"):
                title = f"Example: {options['title']}"
            if "annotated" in options:
                example = Example(here, title, [])
                for block in self._sub(body, start):
                    if isinstance(block, Literal) and re.search(r"^\s*(->|<-)", block.text, re.M):
                        example.parts.extend(_messages(block.text.split("\n"), block.line))
                    else:
                        example.parts.append(block)
                return [example]
            parts = _messages(_dedent(body), self.base + start)
            return [Example(here, title, parts)]
        if name in ("table", "list-table", "csv-table"):
            return [Table(here, argument, _simple_table(_dedent(body)))]
        if name in ("code-block", "code", "sourcecode", "parsed-literal"):
            return [Literal(here, "\n".join(_dedent(body)))]
        if name == "admonition" or name in _ADMONITIONS:
            title = argument if name == "admonition" else _ADMONITIONS[name]
            if argument and name != "admonition":
                # ".. note:: First words" continues on the indented lines.
                return [Admonition(here, title, self._sub([argument, *_dedent(body)], start - 1))]
            return [Admonition(here, title, self._sub(body, start))]
        # Any other directive: keep its content, drop the markup.
        content = self._sub(body, start)
        return ([Para(here, argument)] if argument else []) + content


def _simple_table(lines: list[str]) -> list[list[str]]:
    """The rows of an rST simple table (``====`` rules mark the columns)."""
    rules = [i for i, line in enumerate(lines) if re.fullmatch(r"=+( +=+)*\s*", line)]
    if not rules:
        return [[line.strip()] for line in lines if line.strip()]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[rules[0]])]
    rows: list[list[str]] = []
    for i, line in enumerate(lines):
        if i in rules or not line.strip():
            continue
        cells = []
        for n, (begin, _end) in enumerate(spans):
            end = spans[n + 1][0] if n + 1 < len(spans) else len(line)
            cells.append(line[begin:end].strip())
        rows.append(cells)
    return rows
