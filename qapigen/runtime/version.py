"""The version ``qapigen serve`` reports: the QEMU release it behaves like.

Kept apart from the machine so that the server can greet a client before
the generated package and the machine are imported (the greeting carries
the same object as ``query-version``; a test checks they agree).
"""

from __future__ import annotations

#: The release serve identifies as (spec A.2).
QEMU_VERSION = (7, 2, 22)


#: This distribution's version, as in pyproject.toml (a test keeps them
#: equal).  Kept here because ``importlib.metadata`` costs tens of
#: milliseconds, and the greeting carries it.
QAPIGEN_VERSION = "0.1.0"


def package() -> str:
    """The ``package`` string of ``query-version``."""
    return f"qapigen serve {QAPIGEN_VERSION}"


def version_wire() -> dict[str, object]:
    """``query-version``'s return value on the wire (QAPI member order)."""
    major, minor, micro = QEMU_VERSION
    return {"qemu": {"major": major, "minor": minor, "micro": micro}, "package": package()}


def greeting_line(version: object) -> bytes:
    """The QMP greeting as QEMU 7.2 sends it, with *version* (the wire form
    of ``query-version``): ``oob`` offered, CRLF at the end."""
    from qapigen.runtime.qjson import dumps

    message = {"QMP": {"version": version, "capabilities": ["oob"]}}
    return (dumps(message) + "\r\n").encode("ascii")
