"""The ``qapigen`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from qapigen.api import load_schema
from qapigen.config import FORMATTERS, Config, load_config
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line costs one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qapigen", description="QAPI schema compiler for Python.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def schema_command(name: str, help_text: str, schema_optional: bool = False) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "schema", metavar="SCHEMA", nargs="?" if schema_optional else None,
            help="main schema file",
        )
        cmd.add_argument(
            "--dialect", choices=[d.value for d in Dialect],
            help="schema language: qemu (10.2, default) or legacy (2.9-5.2)",
        )
        cmd.add_argument(
            "--doc-comments", choices=[d.value for d in DocComments],
            help="'ignore' reads ## blocks as plain comments (QEMU < 2.9)",
        )
        return cmd

    schema_command("check", "Check a schema; print the first error and exit 1 if it is bad.")
    schema_command("dump", "Print the checked schema and its docs in QEMU's test format.")
    gen = schema_command(
        "generate",
        "Generate the typed Python package (settings default to [tool.qapigen]).",
        schema_optional=True,
    )
    gen.add_argument("-o", "--output", metavar="DIR", help="folder the package goes in")
    gen.add_argument("--package", metavar="NAME", help="package name")
    gen.add_argument("--formatter", choices=FORMATTERS, help="black (default), ruff or none")
    gen.add_argument("--templates", metavar="DIR", help="folder with templates overriding ours")
    gen.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 listing the files that are out of date",
    )
    from qapigen.backends.docs import command as docs_command

    docs_command.add_arguments(schema_command(
        "docs",
        "Write the QMP reference (HTML or Markdown) from the schema's doc comments.",
        schema_optional=True,
    ))
    return parser


def _settings(args: argparse.Namespace, config: Config) -> tuple[Dialect, DocComments]:
    dialect = Dialect(args.dialect) if args.dialect else config.dialect
    docs = DocComments(args.doc_comments) if args.doc_comments else config.doc_comments
    return dialect, docs


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        config = load_config()
        dialect, docs = _settings(args, config)
        if args.command == "generate":
            return _generate(args, config, dialect, docs)
        if args.command == "docs":
            from qapigen.backends.docs import command as docs_command

            return docs_command.run(args, config, dialect, docs)
        schema = load_schema(args.schema, dialect, docs)
        if args.command == "dump":
            from qapigen.backends.dump import dump_schema

            sys.stdout.write(dump_schema(schema))
    except QAPIError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def _generate(
    args: argparse.Namespace, config: Config, dialect: Dialect, docs: DocComments
) -> int:
    from pathlib import Path

    from qapigen.backends.python.generate import GenerateOptions, generate

    schema = Path(args.schema) if args.schema else config.schema
    if schema is None:
        raise QAPIError("no schema given, and [tool.qapigen] sets none")
    options = GenerateOptions(
        schema=schema,
        output=Path(args.output) if args.output else config.output,
        package=args.package or config.package,
        dialect=dialect,
        doc_comments=docs,
        formatter=args.formatter or config.formatter,
        templates=Path(args.templates) if args.templates else config.templates,
        conditions=config.conditions,
    )
    if not options.package.isidentifier():
        raise QAPIError(f"package name '{options.package}' is not a Python identifier")
    result = generate(options, check=args.check)
    from qapigen.backends.docs.command import refresh

    docs_status = refresh(config, schema, options.output, dialect, docs, args.check)
    if args.check:
        stale = result.report.stale
        if stale:
            root = options.output / options.package
            print(f"qapigen: {len(stale)} generated files are out of date:", file=sys.stderr)
            for rel in stale:
                print(f"  {root / rel}", file=sys.stderr)
            return 1
        return docs_status
    print(result.summary())
    return docs_status


if __name__ == "__main__":
    sys.exit(main())
