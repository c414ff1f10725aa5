"""The ``qapigen docs`` command, and the docs half of ``qapigen generate``.

Kept here so that :mod:`qapigen.cli` only wires it in.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qapigen.config import Config
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError

if TYPE_CHECKING:
    from qapigen.backends.docs.build import DocsOptions, DocsResult

#: Output formats; the back end (jinja2, the IR) is imported only when used,
#: so that every other command starts as fast as before.
FORMATS = ("html", "markdown")


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "-o", "--output", metavar="DIR",
        help="folder the reference goes in (default: OUTPUT/docs of [tool.qapigen])",
    )
    cmd.add_argument("--format", choices=FORMATS, default=None, help="html (default) or markdown")
    cmd.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 listing the files that are out of date",
    )


def _report(result: DocsResult, options: DocsOptions, check: bool) -> int:
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    if check:
        stale = result.report.stale
        if stale:
            files = "file is" if len(stale) == 1 else "files are"
            print(f"qapigen: {len(stale)} docs {files} out of date:", file=sys.stderr)
            for rel in stale:
                print(f"  {options.output / rel}", file=sys.stderr)
            return 1
        return 0
    print(result.summary())
    return 0


def run(args: argparse.Namespace, config: Config, dialect: Dialect, docs: DocComments) -> int:
    """``qapigen docs``: warnings about unresolved references go to stderr
    (they do not fail the run: QEMU's own schema has a few)."""
    from qapigen.backends.docs.build import DocsOptions, build_docs

    schema = Path(args.schema) if args.schema else config.schema
    if schema is None:
        raise QAPIError("no schema given, and [tool.qapigen] sets none")
    options = DocsOptions(
        schema=schema,
        output=Path(args.output) if args.output else config.output / "docs",
        format=args.format or config.docs or "html",
        dialect=dialect,
        doc_comments=docs,
    )
    return _report(build_docs(options, check=args.check), options, args.check)


def refresh(config: Config, schema: Path, output: Path, dialect: Dialect, docs: DocComments,
            check: bool) -> int:
    """The docs step of ``qapigen generate`` when ``[tool.qapigen] docs``
    is set: ``OUTPUT/docs`` is rebuilt (or, with --check, checked)."""
    if not config.docs:
        return 0
    from qapigen.backends.docs.build import DocsOptions, build_docs

    options = DocsOptions(schema, output / "docs", config.docs, dialect, docs)
    return _report(build_docs(options, check=check), options, check)
