"""Event messages, exactly as the runtime will send them.

QEMU's event (spec A.6): ``{"timestamp": {"seconds": S, "microseconds": U},
"event": NAME, "data": {...}}`` in that key order, the timestamp the host's
wall clock, and no ``data`` at all for an event without members.  The
expected messages below are written out by hand from the schemas.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect
from qapigen.support.events import EventEmitter, event_message
from tests.conftest import CORPUS, REPO

STAMP = {"seconds": 1700000000, "microseconds": 123456}


class FakeEvent:
    NAME: ClassVar[str] = "FAKE_EVENT"
    HAS_DATA: ClassVar[bool] = True

    def __init__(self, data: dict[str, object] | None = None) -> None:
        self.data = {"a": 1} if data is None else data

    def to_wire(self) -> dict[str, object]:
        return self.data


class NoDataEvent:
    NAME: ClassVar[str] = "NO_DATA"
    HAS_DATA: ClassVar[bool] = False

    def to_wire(self) -> dict[str, object]:
        raise AssertionError("an event without members has no data to encode")


# -- event_message -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "seconds", "microseconds"),
    [
        (1700000000.123456, 1700000000, 123456),
        (1700000000, 1700000000, 0),
        (0, 0, 0),
        (0.0, 0, 0),
        (1.5, 1, 500000),
        (1700000000.000001, 1700000000, 1),
        (1700000000.999999, 1700000000, 999999),
        # Rounded to the nearest microsecond (a float clock value is never
        # exact), and a carry goes into the seconds: never 1000000 us.
        (1700000000.9999996, 1700000001, 0),
        (1700000000.0000004, 1700000000, 0),
        (1700000000.1234564, 1700000000, 123456),
        (1700000000.1234566, 1700000000, 123457),
        (59.9999999, 60, 0),
    ],
)
def test_timestamp_from_clock_value(now: float, seconds: int, microseconds: int) -> None:
    stamp = event_message(FakeEvent(), now)["timestamp"]
    assert stamp == {"seconds": seconds, "microseconds": microseconds}
    assert type(stamp["seconds"]) is int and type(stamp["microseconds"]) is int


def test_message_with_data_key_order_and_wire_text() -> None:
    message = event_message(FakeEvent({"b": "x", "a": [1]}), 1700000000.123456)
    assert message == {"timestamp": STAMP, "event": "FAKE_EVENT", "data": {"b": "x", "a": [1]}}
    assert list(message) == ["timestamp", "event", "data"]
    assert list(message["timestamp"]) == ["seconds", "microseconds"]
    assert json.dumps(message) == (
        '{"timestamp": {"seconds": 1700000000, "microseconds": 123456}, '
        '"event": "FAKE_EVENT", "data": {"b": "x", "a": [1]}}'
    )


def test_message_without_members_has_no_data() -> None:
    message = event_message(NoDataEvent(), 1700000000.123456)
    assert message == {"timestamp": STAMP, "event": "NO_DATA"}
    assert list(message) == ["timestamp", "event"]


def test_event_with_members_all_absent_still_has_data() -> None:
    """Only events *without members* lose ``data``; an event whose
    optional members are all absent sends ``"data": {}``."""
    message = event_message(FakeEvent({}), 5)
    assert message == {
        "timestamp": {"seconds": 5, "microseconds": 0}, "event": "FAKE_EVENT", "data": {},
    }  # fmt: skip


def test_without_a_clock_value_the_wall_clock_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1234.000567)
    assert event_message(FakeEvent())["timestamp"] == {"seconds": 1234, "microseconds": 567}


# -- EventEmitter --------------------------------------------------------------------


def test_emitter_broadcasts_one_message_to_every_sink() -> None:
    clock = iter([10.25, 11.5])
    emitter = EventEmitter(clock=lambda: next(clock))
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    emitter.subscribe(first.append)
    unsubscribe = emitter.subscribe(second.append)
    message = emitter.emit(FakeEvent())
    assert message == {
        "timestamp": {"seconds": 10, "microseconds": 250000}, "event": "FAKE_EVENT",
        "data": {"a": 1},
    }  # fmt: skip
    assert first == [message] and second == [message]
    unsubscribe()
    later = emitter.emit(NoDataEvent())
    assert later == {"timestamp": {"seconds": 11, "microseconds": 500000}, "event": "NO_DATA"}
    assert first == [message, later]
    assert second == [message]


def test_emitter_sink_added_while_emitting_waits_for_the_next_event() -> None:
    emitter = EventEmitter(clock=lambda: 1.0)
    late: list[dict[str, Any]] = []
    emitter.subscribe(lambda message: emitter.subscribe(late.append))
    emitter.emit(FakeEvent())
    assert late == []
    emitter.emit(FakeEvent())
    assert len(late) == 1


def test_emitter_defaults_to_the_wall_clock() -> None:
    emitter = EventEmitter()
    before = time.time()
    stamp = emitter.emit(FakeEvent())["timestamp"]
    after = time.time()
    sent = stamp["seconds"] + stamp["microseconds"] / 1e6
    assert before - 1e-6 <= sent <= after + 1e-6


def test_emitter_without_sinks_still_returns_the_message() -> None:
    assert EventEmitter(clock=lambda: 2.0).emit(NoDataEvent()) == {
        "timestamp": {"seconds": 2, "microseconds": 0}, "event": "NO_DATA",
    }  # fmt: skip


# -- generated event classes -----------------------------------------------------------


def _import(folder: Path, package: str) -> ModuleType:
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def qmp() -> ModuleType:
    """The committed package (generated/qmp)."""
    return _import(REPO / "generated", "qmp")


def _committed_events(qmp: ModuleType) -> list[tuple[Any, dict[str, Any]]]:
    t = qmp.TYPES
    return [
        (
            qmp.EVENTS["JOB_STATUS_CHANGE"](id="job0", status=t["JobStatus"].RUNNING),
            {"id": "job0", "status": "running"},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_COMPLETED"](
                type=t["JobType"].BACKUP, device="job0", len=65536, offset=65536, speed=0
            ),
            {"type": "backup", "device": "job0", "len": 65536, "offset": 65536, "speed": 0},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_COMPLETED"](
                type=t["JobType"].BACKUP, device="job0", len=65536, offset=512, speed=10,
                error="Input/output error",
            ),
            {"type": "backup", "device": "job0", "len": 65536, "offset": 512, "speed": 10,
             "error": "Input/output error"},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_CANCELLED"](
                type=t["JobType"].BACKUP, device="j", len=2, offset=1, speed=3
            ),
            {"type": "backup", "device": "j", "len": 2, "offset": 1, "speed": 3},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_ERROR"](
                device="j", operation=t["IoOperationType"].WRITE,
                action=t["BlockErrorAction"].REPORT,
            ),
            {"device": "j", "operation": "write", "action": "report"},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_READY"](
                type=t["JobType"].MIRROR, device="m", len=0, offset=0, speed=0
            ),
            {"type": "mirror", "device": "m", "len": 0, "offset": 0, "speed": 0},
        ),
        (
            qmp.EVENTS["BLOCK_JOB_PENDING"](type=t["JobType"].BACKUP, id="job0"),
            {"type": "backup", "id": "job0"},
        ),
        (
            qmp.EVENTS["SHUTDOWN"](guest=False, reason=t["ShutdownCause"].HOST_QMP_QUIT),
            {"guest": False, "reason": "host-qmp-quit"},
        ),
    ]  # fmt: skip


#: The committed events without members: QEMU sends them without ``data``.
MEMBERLESS_EVENTS = ("RESUME", "STOP")


def test_every_committed_event_class_is_covered(qmp: ModuleType) -> None:
    covered = {event.NAME for event, _ in _committed_events(qmp)} | set(MEMBERLESS_EVENTS)
    assert sorted(covered) == sorted(qmp.EVENTS)


def test_committed_memberless_events_on_the_wire(qmp: ModuleType) -> None:
    for name in MEMBERLESS_EVENTS:
        event = qmp.EVENTS[name]()
        assert event.HAS_DATA is False
        message = event_message(event, 1700000000.123456)
        assert message == {"timestamp": STAMP, "event": name}
        assert list(message) == ["timestamp", "event"]


def test_committed_events_on_the_wire(qmp: ModuleType) -> None:
    for event, data in _committed_events(qmp):
        assert event.HAS_DATA is True
        assert event.to_wire() == data
        message = event_message(event, 1700000000.123456)
        assert message == {"timestamp": STAMP, "event": event.NAME, "data": data}
        assert list(message) == ["timestamp", "event", "data"]
        # And back: what the runtime sends, a client decodes to the same event.
        assert type(event).from_wire(json.loads(json.dumps(data))) == event


@pytest.fixture(scope="module")
def qmp102(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """QEMU 10.2's whole schema, generated (no formatter) and imported."""
    if not CORPUS.is_dir():
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")
    out = tmp_path_factory.mktemp("events102")
    generate(
        GenerateOptions(
            schema=CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json", output=out,
            package="qmp_ev102", dialect=Dialect.QEMU, formatter="none",
            cache_dir=out / ".cache",
        )
    )  # fmt: skip
    yield _import(out, "qmp_ev102")
    for name in [m for m in sys.modules if m == "qmp_ev102" or m.startswith("qmp_ev102.")]:
        del sys.modules[name]


def test_events_of_qemu_10_2_on_the_wire(qmp102: ModuleType) -> None:
    t, events = qmp102.TYPES, qmp102.EVENTS
    cases: list[tuple[Any, dict[str, Any] | None]] = [
        (events["STOP"](), None),
        (events["RESUME"](), None),
        (
            events["SHUTDOWN"](guest=False, reason=t["ShutdownCause"].HOST_QMP_QUIT),
            {"guest": False, "reason": "host-qmp-quit"},
        ),
        (events["DEVICE_DELETED"](path="/machine/peripheral/nic0"),
         {"path": "/machine/peripheral/nic0"}),
        (
            events["DEVICE_DELETED"](device="nic0", path="/machine/peripheral/nic0"),
            {"device": "nic0", "path": "/machine/peripheral/nic0"},
        ),
        (
            events["BLOCK_JOB_COMPLETED"](
                type=t["JobType"].STREAM, device="drive0", len=1024, offset=1024, speed=0,
            ),
            {"type": "stream", "device": "drive0", "len": 1024, "offset": 1024, "speed": 0},
        ),
        (
            events["JOB_STATUS_CHANGE"](id="job1", status=t["JobStatus"].CONCLUDED),
            {"id": "job1", "status": "concluded"},
        ),
        (
            events["MIGRATION"](status=t["MigrationStatus"].COMPLETED),
            {"status": "completed"},
        ),
    ]  # fmt: skip
    for event, data in cases:
        message = event_message(event, 1700000000.123456)
        if data is None:
            assert event.HAS_DATA is False
            assert message == {"timestamp": STAMP, "event": event.NAME}
        else:
            assert event.HAS_DATA is True
            # Compared as JSON objects: to_wire puts optional members after
            # the required ones, where QEMU keeps schema order (DEVICE_DELETED
            # sends "device" first); member order is not significant in JSON.
            assert event.to_wire() == data
            assert message == {"timestamp": STAMP, "event": event.NAME, "data": data}
            assert list(message) == ["timestamp", "event", "data"]
