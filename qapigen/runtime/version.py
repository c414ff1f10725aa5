"""The version ``qapigen serve`` reports: the QEMU release it behaves like.

Kept apart from the machine so that the server can greet a client before
the generated package and the machine are imported (the greeting carries
the same object as ``query-version``; a test checks they agree).
"""

from __future__ import annotations

from functools import lru_cache

#: The release serve identifies as (spec A.2).
QEMU_VERSION = (7, 2, 22)


@lru_cache(maxsize=1)
def package() -> str:
    """The ``package`` string of ``query-version`` (looked up once)."""
    try:
        from importlib.metadata import version

        return f"qapigen serve {version('qapigen')}"
    except Exception:  # not installed as a distribution
        return "qapigen serve"


def version_wire() -> dict[str, object]:
    """``query-version``'s return value on the wire (QAPI member order)."""
    major, minor, micro = QEMU_VERSION
    return {"qemu": {"major": major, "minor": minor, "micro": micro}, "package": package()}
