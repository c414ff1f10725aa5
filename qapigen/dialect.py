"""The two schema languages qapigen understands."""

from __future__ import annotations

import enum


class Dialect(enum.Enum):
    """Which QEMU release's rules a schema is read and checked by.

    ``QEMU`` is the language of QEMU 10.2.  ``LEGACY`` is the language QEMU
    spoke from 2.9 through 5.2 (simple unions, string or list ``'if'``,
    old pragma names), checked as QEMU 3.1 checked it.
    """

    QEMU = "qemu"
    LEGACY = "legacy"


class DocComments(enum.Enum):
    """Whether ``##`` blocks are documentation (QEMU >= 2.9) or plain
    comments (as QEMU 2.5-2.8 read them).

    With the legacy dialect, ``IGNORE`` also means "a 2.5-2.8 schema": the
    command-returns and name-case exception lists those releases kept in
    their generator apply (see ``qapigen.frontend.legacy_exceptions``).
    """

    PARSE = "parse"
    IGNORE = "ignore"
