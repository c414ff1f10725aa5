"""Loading a schema without being told its dialect.

``qapigen diff`` compares schemas of different QEMU releases, so each
side is read in the language it was written in.  The dialects themselves
decide: a schema is read as QEMU 10.2 writes them, and when that dialect
refuses it, as QEMU 2.9-5.2 did (``legacy``), and then as 2.5-2.8 did
(``legacy`` with ``##`` blocks as plain comments).  The first that
accepts it wins.  When none does, the error shown is that of the dialect
that got furthest through the file, measured as the CLI's legacy hint
measures it (:func:`qapigen.hints.failure_point`), so a plain mistake is
reported in the language the schema is evidently written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qapigen.api import load_schema
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError

if TYPE_CHECKING:
    from qapigen.ir.schema import Schema

#: What is tried, in order.
ATTEMPTS: tuple[tuple[Dialect, DocComments], ...] = (
    (Dialect.QEMU, DocComments.PARSE),
    (Dialect.LEGACY, DocComments.PARSE),
    (Dialect.LEGACY, DocComments.IGNORE),
)


@dataclass(frozen=True)
class Detected:
    """A schema and the language it was read in."""

    schema: Schema
    dialect: Dialect
    doc_comments: DocComments

    def describe(self) -> str:
        """``qemu``, ``legacy``, or ``legacy, doc comments ignored``."""
        if self.doc_comments is DocComments.IGNORE:
            return f"{self.dialect.value}, doc comments ignored"
        return self.dialect.value


def load_detected(path: str, dialect: Dialect | None = None) -> Detected:
    """Load *path* in its own dialect (or in *dialect*, if given, still
    trying both ways of reading doc comments).

    Raises the :class:`QAPIError` of the attempt that got furthest.
    """
    attempts = [a for a in ATTEMPTS if dialect is None or a[0] is dialect]
    if dialect is Dialect.QEMU:
        attempts.append((Dialect.QEMU, DocComments.IGNORE))
    errors: list[QAPIError] = []
    for attempt_dialect, docs in attempts:
        try:
            return Detected(load_schema(path, attempt_dialect, docs), attempt_dialect, docs)
        except QAPIError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    from qapigen.hints import failure_point

    points = [failure_point(path, d, docs) or (99, ()) for d, docs in attempts]
    raise errors[points.index(max(points))]
