"""The error a QMP command reports to its client."""

from __future__ import annotations

from typing import Final

#: The error classes QMP knows (the same set in QEMU 3.1 and 10.2).
ERROR_CLASSES: Final = (
    "GenericError",
    "CommandNotFound",
    "DeviceNotActive",
    "DeviceNotFound",
    "KVMMissingCap",
)


class QMPError(Exception):
    """Raised by validators and command handlers; the dispatcher turns it
    into ``{"error": {"class": ..., "desc": ...}}``."""

    def __init__(self, desc: str, error_class: str = "GenericError") -> None:
        super().__init__(desc)
        if error_class not in ERROR_CLASSES:
            raise ValueError(f"unknown QMP error class {error_class!r}")
        self.desc = desc
        self.error_class = error_class

    def to_wire(self) -> dict[str, object]:
        return {"class": self.error_class, "desc": self.desc}
