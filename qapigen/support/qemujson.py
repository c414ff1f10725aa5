"""QEMU's JSON parser, for the texts orjson refuses.  (stub)"""

from __future__ import annotations

from typing import Any

from qapigen.support.errors import QMPError


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    raise QMPError("JSON parse error, expecting value")
