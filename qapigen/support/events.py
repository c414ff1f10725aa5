"""QMP event messages.

A generated event class has ``NAME`` (the wire name) and ``to_wire()`` for
its data.  :func:`event_message` wraps it the way QEMU sends events: a
wall-clock timestamp split into seconds and microseconds, and no ``data``
member at all for an event without members.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol


class WireEvent(Protocol):
    NAME: ClassVar[str]
    #: False for events without members: their messages carry no ``data``.
    HAS_DATA: ClassVar[bool]

    def to_wire(self) -> dict[str, object]: ...


def event_message(event: WireEvent, now: float | None = None) -> dict[str, Any]:
    stamp = time.time() if now is None else now
    seconds, micro = divmod(round(stamp * 1_000_000), 1_000_000)
    message: dict[str, Any] = {
        "timestamp": {"seconds": seconds, "microseconds": micro},
        "event": event.NAME,
    }
    if event.HAS_DATA:
        message["data"] = event.to_wire()
    return message


class EventEmitter:
    """Fans event messages out to every subscribed sink (one per QMP
    session, say), as QEMU broadcasts to every negotiated monitor."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._sinks: list[Callable[[dict[str, Any]], None]] = []
        self._clock = clock

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Add *sink*; returns a function that removes it again."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def emit(self, event: WireEvent) -> dict[str, Any]:
        message = event_message(event, self._clock())
        for sink in list(self._sinks):
            sink(message)
        return message
