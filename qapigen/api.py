"""The front end's one entry point: schema file in, checked IR out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qapigen.dialect import Dialect, DocComments

if TYPE_CHECKING:
    from qapigen.ir.schema import Schema


def load_schema(
    path: str,
    dialect: Dialect | str = Dialect.QEMU,
    doc_comments: DocComments | str = DocComments.PARSE,
) -> Schema:
    """Parse, check and build the IR of the schema whose main file is *path*.

    Raises :class:`qapigen.QAPIError` for every problem with the schema or
    with reading it; ``str()`` of the error is QEMU's message.
    """
    from qapigen.frontend.checks import check_exprs
    from qapigen.frontend.parser import parse_schema
    from qapigen.ir.schema import build_schema

    dialect = Dialect(dialect)
    doc_comments = DocComments(doc_comments)
    parsed = parse_schema(path, dialect, doc_comments)
    exprs = check_exprs(parsed.exprs, dialect)
    return build_schema(exprs, parsed.docs, dialect, fname=path)
