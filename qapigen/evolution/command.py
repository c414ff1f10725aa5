"""``qapigen diff OLD NEW``: the command-line glue.

Exit status: 1 when a breaking change was found (so a CI job can gate on
it), 0 otherwise, 2 when a schema cannot be read (one error line).
"""

from __future__ import annotations

import argparse
import sys

from qapigen.dialect import Dialect
from qapigen.errors import QAPIError, printable
from qapigen.evolution.compare import diff_schemas
from qapigen.evolution.detect import load_detected
from qapigen.evolution.report import render_json, render_text

EXIT_BREAKING = 1
EXIT_ERROR = 2


def run_diff(args: argparse.Namespace) -> int:
    """Compare ``args.old`` with ``args.new`` and print the changes."""
    try:
        old = load_detected(args.old, _dialect(args.old_dialect))
        new = load_detected(args.new, _dialect(args.new_dialect))
    except QAPIError as err:
        print(printable(str(err)), file=sys.stderr)
        return EXIT_ERROR
    changes = diff_schemas(old.schema, new.schema)
    render = render_json if args.format == "json" else render_text
    sys.stdout.write(render(changes, old, new))
    return EXIT_BREAKING if any(c.breaking for c in changes) else 0


def _dialect(value: str | None) -> Dialect | None:
    return Dialect(value) if value else None
