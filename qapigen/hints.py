"""Hints added to a schema error: what the user may have meant.

The legacy hint.  Schemas of QEMU 5.2 and older fail under the default
(10.2) dialect in many ways: simple unions, string ``'if'``, old pragma
names, doc comments written before the 10.2 rules (``Features:``
sections, ``Note:``/``Example:`` tags, lines over 70 columns).  Listing
those error texts would miss the next one QEMU adds, so the rule is decided
by the dialects themselves: the hint is given when the legacy dialect gets
further through the same schema than the default one did.  It does when it
accepts the schema, or fails at a later point: in a later stage (parsing,
then expression checks, then building the IR) or, within one stage, later
in the order files and lines are read.  A schema with a plain mistake fails
at the same point under both dialects (or sooner under legacy, which knows
none of 10.2's additions), and gets no hint.
"""

from __future__ import annotations

from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError, QAPISourceError

LEGACY_HINT = "(schemas from QEMU 5.2 or older: try --dialect legacy)"

#: How far a load got: (stages passed, lines along the include chain).
Point = tuple[int, tuple[int, ...]]


def legacy_hint(schema: str, doc_comments: DocComments) -> str | None:
    """The hint for a *schema* that failed under the default dialect, if
    the legacy dialect gets further through it."""
    try:
        default = failure_point(schema, Dialect.QEMU, doc_comments)
        if default is None:
            return None
        legacy = failure_point(schema, Dialect.LEGACY, doc_comments)
    except Exception:  # a hint is optional: never trade the error for a crash
        return None
    if legacy is None or legacy > default:
        return LEGACY_HINT
    return None


def failure_point(schema: str, dialect: Dialect, doc_comments: DocComments) -> Point | None:
    """Where loading *schema* stops, or None when it loads.

    The same stages as :func:`qapigen.load_schema`, run one by one to
    know which one failed.
    """
    from qapigen.frontend.checks import check_exprs
    from qapigen.frontend.parser import parse_schema
    from qapigen.ir.schema import build_schema

    stage = 0
    try:
        parsed = parse_schema(schema, dialect, doc_comments)
        stage = 1
        exprs = check_exprs(parsed.exprs, dialect)
        stage = 2
        build_schema(exprs, parsed.docs, dialect, fname=schema)
    except QAPISourceError as err:
        lines: list[int] = []
        info = err.info
        while info is not None:
            lines.append(info.line)
            info = info.parent
        return stage, tuple(reversed(lines))
    except QAPIError:
        return stage, ()
    return None
