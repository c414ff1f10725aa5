"""The ``qapigen`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from qapigen.api import load_schema
from qapigen.config import FORMATTERS, Config, load_config
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError, UsageError, printable


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line costs one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qapigen")
    except PackageNotFoundError:  # run from a source tree that isn't installed
        return "unknown version"


class _VersionAction(argparse.Action):
    """``--version``, looking the version up only when asked: reading the
    installed metadata costs tens of milliseconds on every start."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
            help="print qapigen's version and exit",
        )

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
        values: object, option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"qapigen {_version()}\n")
        parser.exit(0)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qapigen", description="QAPI schema compiler for Python.")
    parser.add_argument("--version", action=_VersionAction)
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
    sub.add_parser(
        "serve",
        help="A QMP server that behaves like QEMU 7.2 (takes QEMU's command line).",
        add_help=False,
    )
    from qapigen.backends.docs import command as docs_command

    docs_command.add_arguments(schema_command(
        "docs",
        "Write the QMP reference (HTML or Markdown) from the schema's doc comments.",
        schema_optional=True,
    ))
    diff = sub.add_parser(
        "diff", help="List wire changes between two schemas; exit 1 if one breaks clients.",
        description="List wire changes between two schemas; exit 1 if one breaks clients.",
    )
    diff.add_argument("old", metavar="OLD_SCHEMA")
    diff.add_argument("new", metavar="NEW_SCHEMA")
    diff.add_argument("--format", choices=["text", "json"], default="text")
    for side in ("old", "new"):
        diff.add_argument(
            f"--{side}-dialect", choices=[d.value for d in Dialect],
            help=f"{side} schema's language (default: detected)",
        )
    sub.add_parser(
        "shell", help="An interactive QMP shell with completion (qapigen shell SOCKET).",
        add_help=False,
    )
    return parser


def _settings(args: argparse.Namespace, config: Config) -> tuple[Dialect, DocComments]:
    dialect = Dialect(args.dialect) if args.dialect else config.dialect
    docs = DocComments(args.doc_comments) if args.doc_comments else config.doc_comments
    return dialect, docs


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        # QEMU's own command line follows, which argparse must not touch.
        from qapigen.runtime.main import main as serve_main

        return serve_main(argv[1:])
    if argv[:1] == ["shell"]:
        from qapigen.shell import main as shell_main

        return shell_main(argv[1:])
    args = _build_parser().parse_args(argv)
    if args.command == "diff":
        from qapigen.evolution.command import run_diff

        return run_diff(args)
    dialect, docs = Dialect.QEMU, DocComments.PARSE
    schema: str | None = args.schema
    try:
        config = load_config()
        dialect, docs = _settings(args, config)
        if args.command == "generate":
            if schema is None and config.schema is not None:
                schema = str(config.schema)
            return _generate(args, config, dialect, docs)
        if args.command == "docs":
            from qapigen.backends.docs import command as docs_command

            return docs_command.run(args, config, dialect, docs)
        loaded = load_schema(args.schema, dialect, docs)
        if args.command == "dump":
            from qapigen.backends.dump import dump_schema

            sys.stdout.write(dump_schema(loaded))
    except UsageError as err:
        _say(f"qapigen: error: {err}")
        return 1
    except QAPIError as err:
        _say(str(err))
        # `dump` is QEMU's test-suite output, byte for byte: no hint there.
        if dialect is Dialect.QEMU and schema is not None and args.command != "dump":
            from qapigen.hints import legacy_hint

            hint = legacy_hint(schema, docs)
            if hint:
                _say(hint)
        return 1
    return 0


def _say(text: str, stream: TextIO | None = None) -> None:
    """Print a message, with non-printable characters escaped."""
    print(printable(text), file=stream or sys.stderr)


def _generate(
    args: argparse.Namespace, config: Config, dialect: Dialect, docs: DocComments
) -> int:
    from qapigen.backends.python.generate import GenerateOptions, generate

    schema = Path(args.schema) if args.schema else config.schema
    if schema is None:
        raise UsageError("no schema given, and [tool.qapigen] sets none")
    templates = _templates(args, config)
    if args.output == "":
        raise UsageError("-o: the output folder is empty")
    options = GenerateOptions(
        schema=schema,
        output=Path(args.output) if args.output is not None else config.output,
        package=args.package if args.package is not None else config.package,
        dialect=dialect,
        doc_comments=docs,
        formatter=args.formatter or config.formatter,
        templates=templates,
        conditions=config.conditions,
    )
    progress = _Progress(options.formatter) if sys.stderr.isatty() else None
    try:
        result = generate(options, check=args.check, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    from qapigen.backends.docs.command import refresh

    docs_status = refresh(config, schema, options.output, dialect, docs, args.check)
    if args.check:
        stale = result.report.stale
        if stale:
            root = options.output / options.package
            files = "file is" if len(stale) == 1 else "files are"
            _say(f"qapigen: {len(stale)} generated {files} out of date:")
            for rel in stale:
                _say(f"  {root / rel}")
            return 1
        return docs_status
    _say(result.summary(), sys.stdout)
    return docs_status


def _templates(args: argparse.Namespace, config: Config) -> Path | None:
    """The user's templates folder, which must exist: a typo would
    otherwise silently generate with the shipped templates only."""
    if args.templates is not None:
        templates = Path(args.templates)
        if problem := _folder_problem(templates):
            raise UsageError(f"--templates: {problem}")
        return templates
    if config.templates is not None and (problem := _folder_problem(config.templates)):
        raise UsageError(f"{config.source}: [tool.qapigen] templates: {problem}")
    return config.templates


def _folder_problem(folder: Path) -> str | None:
    if folder.is_dir():
        return None
    if folder.exists():
        return f"'{folder}' is not a folder"
    return f"folder '{folder}' does not exist"


class _Progress:
    """``formatting with black: 12/40 modules`` on one terminal line,
    redrawn as modules finish; a cold black run of a big schema takes
    tens of seconds."""

    def __init__(self, formatter: str) -> None:
        self.formatter = formatter
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rqapigen: formatting with {self.formatter}: {done}/{total} modules")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
