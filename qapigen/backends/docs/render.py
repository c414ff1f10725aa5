"""Blocks and inline markup to HTML or Markdown.

Inline markup is the part of a doc comment that names things: ``@name``
(a member of the definition at hand, or in old schemas any definition),
`` `Name` `` and ``:qapi:type:`Name``` (a definition).  Those become links
through a :class:`Resolver`, which knows what exists and reports the names
that do not resolve.  Everything else rST-specific (roles, hyperlink
targets, escapes) is reduced to plain emphasis or code, never shown raw.
"""

from __future__ import annotations

import html
import re
from typing import Protocol

from qapigen.backends.docs.markup import (
    Admonition,
    Block,
    Example,
    Heading,
    ListBlock,
    Literal,
    Message,
    Para,
    Table,
)

_INLINE = re.compile(
    r"(?P<lit>``(?P<lit_t>.+?)``)"
    r"|(?P<role>:(?P<role_n>[\w:.-]+):`(?P<role_t>[^`]+)`)"
    r"|(?P<hyper>`(?P<hyper_t>[^`<]+?)\s*<(?P<hyper_u>[^>`]+)>`__?)"
    r"|(?P<named>`(?P<named_t>[^`]+)`__?)"
    r"|(?P<tq>`(?P<tq_t>[^`'\n]+)')"  # old docs quote `like this'
    r"|(?P<dflt>`(?P<dflt_t>[^`]+)`)"
    r"|(?P<strong>\*\*(?P<strong_t>[^*]+)\*\*)"
    r"|(?P<em>(?<![\w*])\*(?P<em_t>[^*\s][^*]*?)\*(?![\w*]))"
    r"|(?P<at>(?<![\w@])@(?P<at_n>[A-Za-z_](?:[\w+-]*[\w+])?))"
    r"|(?P<url>https?://[^\s<>)\"'`]+[^\s<>)\"'`.,;:])"
    r"|(?P<esc>\\(?P<esc_c>.))"
)
_TITLE_TARGET = re.compile(r"^(.*?)\s*<([^>]+)>$")


class Resolver(Protocol):
    """Where a name a doc comment mentions is documented."""

    def member(self, name: str, line: int) -> str | None:
        """``@name``: the href, or None (and a warning is recorded)."""

    def definition(self, name: str, line: int) -> str | None:
        """`` `Name` ``: the href of a definition, or None."""


class Renderer:
    """What HTML and Markdown share: walking blocks and inline tokens."""

    def inline(self, text: str, resolver: Resolver, line: int = 0) -> str:
        out: list[str] = []
        pos = 0
        for m in _INLINE.finditer(text):
            out.append(self.text(text[pos : m.start()]))
            out.append(self._token(m, resolver, line))
            pos = m.end()
        out.append(self.text(text[pos:]))
        return "".join(out)

    def _token(self, m: re.Match[str], resolver: Resolver, line: int) -> str:
        if m.group("lit"):
            return self.code(m.group("lit_t"))
        if m.group("role"):
            return self._role(m.group("role_n"), m.group("role_t"), resolver, line)
        if m.group("hyper"):
            url = m.group("hyper_u")
            if re.match(r"https?://", url):
                return self.link(m.group("hyper_t"), url)
            return self.emphasis(m.group("hyper_t"))
        if m.group("named"):
            return self.emphasis(m.group("named_t"))
        if m.group("tq"):
            return self.code(m.group("tq_t"))
        if m.group("dflt"):
            return self._name_ref(m.group("dflt_t"), resolver, line)
        if m.group("strong"):
            return self.strong(self.text(m.group("strong_t")))
        if m.group("em"):
            return self.emphasis(m.group("em_t"))
        if m.group("at"):
            name = m.group("at_n")
            href = resolver.member(name, line)
            return self.code(name) if href is None else self.link_code(name, href)
        if m.group("url"):
            return self.link(m.group("url"), m.group("url"))
        return self.text(m.group("esc_c"))

    def _role(self, role: str, content: str, resolver: Resolver, line: int) -> str:
        split = _TITLE_TARGET.match(content)
        title = split.group(1) if split else content
        if role.startswith("qapi") or role == "any":
            return self._name_ref(content, resolver, line)
        if role in ("ref", "doc", "term", "numref"):
            return self.emphasis(title.lstrip("~"))
        return self.code(title)

    def _name_ref(self, content: str, resolver: Resolver, line: int) -> str:
        title, target = content, content
        split = _TITLE_TARGET.match(content)
        if split:
            title, target = split.group(1), split.group(2)
        target = target.lstrip("~!").split(".")[-1]
        href = resolver.definition(target, line)
        shown = title.lstrip("~!")
        return self.code(shown) if href is None else self.link_code(shown, href)

    def blocks(self, blocks: list[Block], resolver: Resolver) -> str:
        return "".join(self.block(b, resolver) for b in blocks)

    def block(self, block: Block, resolver: Resolver) -> str:
        raise NotImplementedError

    # -- primitives, per output format --------------------------------------

    def text(self, text: str) -> str:
        raise NotImplementedError

    def code(self, text: str) -> str:
        raise NotImplementedError

    def emphasis(self, text: str) -> str:
        raise NotImplementedError

    def strong(self, rendered: str) -> str:
        raise NotImplementedError

    def link(self, text: str, href: str) -> str:
        raise NotImplementedError

    def link_code(self, text: str, href: str) -> str:
        raise NotImplementedError


class HtmlRenderer(Renderer):
    def text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def code(self, text: str) -> str:
        return f"<code>{html.escape(text, quote=False)}</code>"

    def emphasis(self, text: str) -> str:
        return f"<em>{html.escape(text, quote=False)}</em>"

    def strong(self, rendered: str) -> str:
        return f"<strong>{rendered}</strong>"

    def link(self, text: str, href: str) -> str:
        return f'<a href="{html.escape(href)}">{html.escape(text, quote=False)}</a>'

    def link_code(self, text: str, href: str) -> str:
        return f'<a href="{html.escape(href)}"><code>{html.escape(text, quote=False)}</code></a>'

    def block(self, block: Block, resolver: Resolver) -> str:
        if isinstance(block, Para):
            return f"<p>{self.inline(block.text, resolver, block.line)}</p>\n"
        if isinstance(block, Heading):
            level = block.level + 1
            return f"<h{level} class=\"doc-heading\">{self.inline(block.text, resolver)}</h{level}>\n"
        if isinstance(block, Literal):
            return f"<pre class=\"literal\">{html.escape(block.text, quote=False)}</pre>\n"
        if isinstance(block, ListBlock):
            tag = "ol" if block.ordered else "ul"
            items = "".join(f"<li>{self._tight(item, resolver)}</li>\n" for item in block.items)
            return f"<{tag}>\n{items}</{tag}>\n"
        if isinstance(block, Admonition):
            inner = self.blocks(block.blocks, resolver)
            if not block.title:
                return f"<div class=\"quote\">{inner}</div>\n"
            title = self.inline(block.title, resolver, block.line)
            return (
                f"<div class=\"admonition\"><p class=\"admonition-title\">{title}</p>\n"
                f"{inner}</div>\n"
            )
        if isinstance(block, Table):
            return self._table(block, resolver)
        if isinstance(block, Example):
            return self.example(block, resolver)
        raise TypeError(block)

    def _tight(self, blocks: list[Block], resolver: Resolver) -> str:
        """A list item; a lone paragraph without its <p>."""
        if len(blocks) == 1 and isinstance(blocks[0], Para):
            return self.inline(blocks[0].text, resolver, blocks[0].line)
        return self.blocks(blocks, resolver)

    def _table(self, table: Table, resolver: Resolver) -> str:
        out = ["<table class=\"doc-table\">"]
        if table.title:
            out.append(f"<caption>{self.inline(table.title, resolver)}</caption>")
        for n, row in enumerate(table.rows):
            cell = "th" if n == 0 else "td"
            cells = "".join(f"<{cell}>{self.inline(c, resolver)}</{cell}>" for c in row)
            out.append(f"<tr>{cells}</tr>")
        return "\n".join(out) + "</table>\n"

    def example(self, example: Example, resolver: Resolver) -> str:
        out = [f"<div class=\"example\"><p class=\"example-title\">{self.inline(example.title, resolver)}</p>"]
        for part in example.parts:
            if isinstance(part, Message):
                out.append(self.message(part))
            else:
                out.append(self.block(part, resolver))
        out.append("</div>\n")
        return "\n".join(out)

    def message(self, message: Message) -> str:
        kind, arrow, label = (
            ("req", "&rarr;", "request") if message.direction == "->"
            else ("resp", "&larr;", "response")
        )
        return (
            f"<div class=\"msg {kind}\"><span class=\"dir\" title=\"{label}\">{arrow}</span>"
            f"<pre>{html.escape(message.text, quote=False)}</pre></div>"
        )


class MarkdownRenderer(Renderer):
    def text(self, text: str) -> str:
        # Brackets only make a link as "[text](url)".
        return re.sub(r"([\\`*_<])", r"\\\1", text).replace("](", "]\\(")

    def code(self, text: str) -> str:
        fence = "``" if "`" in text else "`"
        pad = " " if "`" in text else ""
        return f"{fence}{pad}{text}{pad}{fence}"

    def emphasis(self, text: str) -> str:
        return f"*{self.text(text)}*"

    def strong(self, rendered: str) -> str:
        return f"**{rendered}**"

    def link(self, text: str, href: str) -> str:
        return f"[{self.text(text)}]({href})"

    def link_code(self, text: str, href: str) -> str:
        return f"[{self.code(text)}]({href})"

    def block(self, block: Block, resolver: Resolver) -> str:
        if isinstance(block, Para):
            return self.inline(block.text, resolver, block.line) + "\n\n"
        if isinstance(block, Heading):
            return f"{'#' * (block.level + 1)} {self.inline(block.text, resolver)}\n\n"
        if isinstance(block, Literal):
            return f"```\n{block.text}\n```\n\n"
        if isinstance(block, ListBlock):
            out = []
            for n, item in enumerate(block.items, 1):
                marker = f"{n}. " if block.ordered else "- "
                body = self.blocks(item, resolver).strip("\n")
                pad = " " * len(marker)
                body = "\n".join((pad + ln) if ln else ln for ln in body.split("\n"))
                out.append(marker + body[len(marker) :] + "\n")
            return "".join(out) + "\n"
        if isinstance(block, Admonition):
            inner = self.blocks(block.blocks, resolver).strip("\n")
            title = f"**{self.inline(block.title, resolver)}**\n\n" if block.title else ""
            quoted = "\n".join(f"> {ln}" if ln else ">" for ln in (title + inner).split("\n"))
            return quoted + "\n\n"
        if isinstance(block, Table):
            rows = [[self.inline(c, resolver) for c in row] for row in block.rows]
            if not rows:
                return ""
            width = max(len(r) for r in rows)
            lines = [f"| {' | '.join(rows[0])} |", "|" + " --- |" * width]
            lines += [f"| {' | '.join(r)} |" for r in rows[1:]]
            caption = f"*{self.inline(block.title, resolver)}*\n\n" if block.title else ""
            return caption + "\n".join(lines) + "\n\n"
        if isinstance(block, Example):
            return self.example(block, resolver)
        raise TypeError(block)

    def example(self, example: Example, resolver: Resolver) -> str:
        out = [f"**{self.inline(example.title, resolver)}**\n\n"]
        run: list[str] = []  # consecutive messages share one code block
        for part in [*example.parts, None]:
            if isinstance(part, Message):
                # Continuation lines stay aligned under the first one.
                run.append(f"{part.direction} " + part.text.replace("\n", "\n   "))
                continue
            if run:
                out.append("```\n" + "\n".join(run) + "\n```\n\n")
                run = []
            if part is not None:
                out.append(self.block(part, resolver))
        return "".join(out)
