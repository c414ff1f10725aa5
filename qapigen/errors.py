"""Errors raised for bad schemas.

Every problem with a schema surfaces as a :class:`QAPIError` whose ``str()``
is exactly the text QEMU's generator prints, so callers (the CLI, tests that
compare against QEMU's ``.err`` files) never have to reformat anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qapigen.frontend.source import SourceInfo


class QAPIError(Exception):
    """Any error in a schema, or in reading one."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg

    def __str__(self) -> str:
        return self.msg


class QAPISourceError(QAPIError):
    """An error tied to a place in a schema file.

    ``col`` is set only for syntax errors; QEMU reports a column there
    (tabs expanded to multiples of 8) and nowhere else.
    """

    def __init__(self, info: SourceInfo | None, msg: str, col: int | None = None) -> None:
        super().__init__(msg)
        self.info = info
        self.col = col

    def __str__(self) -> str:
        if self.info is None:
            return self.msg
        loc = str(self.info)
        if self.col is not None:
            loc += f":{self.col}"
        return f"{loc}: {self.msg}"


class UsageError(QAPIError):
    """A problem with how qapigen was asked to run (an option, the output
    folder, a template), not with the schema.  The command prints it as
    ``qapigen: error: MESSAGE``, the way it prints a bad command line."""


def printable(text: str) -> str:
    """*text* with every non-printable character but newline escaped.

    Messages quote schema text, and a byte order mark, a NUL or a stray
    escape sequence printed raw is invisible or garbles the terminal;
    ``\\ufeff`` shows what is there.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch == "\n" or ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
