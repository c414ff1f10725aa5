"""``qapigen docs``: schema in, HTML or Markdown reference out.

The pages come from jinja2 templates in ``templates/docs/`` (one per kind
of output file), fed the :mod:`~qapigen.backends.docs.model`; files are
written through the Python back end's :func:`sync_tree`, so a run writes
only what changed and removes what it wrote before and no longer makes.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import markupsafe

from qapigen.api import load_schema
from qapigen.backends.docs.command import FORMATS
from qapigen.backends.docs.model import DocsModel, Page, Warning_, build_model
from qapigen.backends.docs.render import HtmlRenderer, MarkdownRenderer, Renderer
from qapigen.backends.python.output import Manifest, WriteReport, sync_tree
from qapigen.backends.python.render import PACKAGE_TEMPLATES
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError

DOCS_TEMPLATES = PACKAGE_TEMPLATES / "docs"


@dataclass
class DocsOptions:
    schema: Path
    output: Path
    format: str = "html"
    dialect: Dialect = Dialect.QEMU
    doc_comments: DocComments = DocComments.PARSE


@dataclass
class DocsResult:
    report: WriteReport
    warnings: list[Warning_] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        r = self.report
        parts = [f"{len(r.written)} written", f"{len(r.unchanged)} unchanged"]
        if r.deleted:
            parts.append(f"{len(r.deleted)} deleted")
        return f"qapigen docs: {', '.join(parts)} ({self.seconds:.2f} s)"


class _NoNames:
    """Resolver for text that names nothing (generated examples)."""

    def member(self, name: str, line: int) -> str | None:
        return None

    def definition(self, name: str, line: int) -> str | None:
        return None


def _environment(renderer: Renderer, autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(DOCS_TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    wrap = markupsafe.Markup if autoescape else str

    def markup(text: object) -> str:
        if text is None:
            return ""
        return wrap(renderer.blocks(text.blocks, text.context))  # type: ignore[attr-defined]

    def example(ex: object) -> str:
        return wrap(renderer.example(ex, _NoNames()))  # type: ignore[attr-defined]

    def md(text: str) -> str:
        return renderer.text(text)

    env.filters["markup"] = markup
    env.filters["example"] = example
    env.filters["md"] = md
    return env


def render_docs(model: DocsModel, fmt: str) -> dict[str, str]:
    """Every file of the reference (relative path -> text)."""
    if fmt not in FORMATS:
        raise QAPIError(f"unknown docs format '{fmt}' (use html or markdown)")
    html = fmt == "html"
    env = _environment(HtmlRenderer() if html else MarkdownRenderer(), autoescape=html)
    ext = "html" if html else "md"
    page_template = env.get_template(f"page.{ext}.jinja")
    files: dict[str, str] = {}
    pages: list[Page] = model.pages
    for page in pages:
        files[page.file] = page_template.render(page=page, pages=pages, model=model)
    files[f"index.{ext}"] = env.get_template(f"index.{ext}.jinja").render(pages=pages, model=model)
    if not html:
        # Templates may leave runs of blank lines; Markdown means one.
        for name, text in files.items():
            files[name] = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    if html:
        files["style.css"] = env.get_template("style.css.jinja").render()
        files["search.js"] = env.get_template("search.js.jinja").render()
        index = [
            [e.name, e.kind, e.page + "#" + e.anchor, e.summary]
            for page in pages for e in page.entries
        ]
        files["search-index.js"] = (
            "window.QAPI_INDEX = " + json.dumps(index, separators=(",", ":")) + ";\n"
        )
    return files


def build_docs(options: DocsOptions, check: bool = False) -> DocsResult:
    start = time.perf_counter()
    if options.format not in FORMATS:
        raise QAPIError(f"unknown docs format '{options.format}' (use html or markdown)")
    schema = load_schema(str(options.schema), options.dialect, options.doc_comments)
    model = build_model(schema, ".html" if options.format == "html" else ".md")
    files = render_docs(model, options.format)
    report = sync_tree(options.output, files, Manifest(), check)
    return DocsResult(report, model.warnings, time.perf_counter() - start)
