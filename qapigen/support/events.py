"""QMP event messages.

A generated event class has ``NAME`` (the wire name) and ``to_wire()`` for
its data.  :func:`event_message` wraps it the way QEMU sends events: a
wall-clock timestamp split into seconds and microseconds, and no ``data``
member at all for an event without members.

An event with the ``deprecated`` or ``unstable`` feature also has
``SPECIAL`` (the two flags): under an output policy that hides it,
:class:`EventEmitter` does not send it at all, as QEMU does not; members
the policy hides are left out of the data of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from qapigen.support.policy import CompatPolicy, current_policy, policy_in_force


class WireEvent(Protocol):
    NAME: ClassVar[str]
    #: False for events without members: their messages carry no ``data``.
    HAS_DATA: ClassVar[bool]

    def to_wire(self) -> dict[str, object]: ...


def event_hidden(event: WireEvent, policy: CompatPolicy | None = None) -> bool:
    """Whether *policy* (default: the one in force) suppresses *event*."""
    special: tuple[bool, bool] | None = getattr(event, "SPECIAL", None)
    if special is None:
        return False
    return (policy or current_policy()).hides(*special)


def event_message(event: WireEvent, now: float | None = None) -> dict[str, Any]:
    """QEMU's message for *event*; its data is encoded under the output
    policy in force."""
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
    session, say), as QEMU broadcasts to every negotiated monitor.

    *compat* is the output policy (QEMU's ``-compat``) events are sent
    under; None means the policy in force where :meth:`emit` is called.
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, compat: CompatPolicy | None = None
    ) -> None:
        self._sinks: list[Callable[[dict[str, Any]], None]] = []
        self._clock = clock
        self._compat = compat

    def subscribe(self, sink: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Add *sink*; returns a function that removes it again."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def emit(self, event: WireEvent) -> dict[str, Any] | None:
        """Send *event* to every sink; returns the message, or None when
        the output policy suppresses the event."""
        policy = self._compat or current_policy()
        if event_hidden(event, policy):
            return None
        with policy_in_force(policy):
            message = event_message(event, self._clock())
        for sink in list(self._sinks):
            sink(message)
        return message
