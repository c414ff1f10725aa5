"""Version drift: bindings of one QEMU decoding what another QEMU sends.

``from_wire(value, tolerant=True)`` / ``from_json(text, tolerant=True)``
on the packages generated from QEMU 10.2's and 3.1's schemas: unknown
members (``extra``), missing mandatory members (``missing``), unknown enum
values and union tags, a warning once per (type, name), ``to_wire``
giving back what was read, and strict decoding unchanged.  The two cases
seen in the field are reproduced (a 5.x-era QEMU's replies, hand-written
here), and a session recorded from a real QEMU 7.2
(``tests/drift/qemu-7.2-session.json``, ``tests/drift/record_qemu72.py``)
is decoded by both packages.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from qapigen.backends.python import naming
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect
from qapigen.support import drift
from qapigen.support.drift import Difference, DriftWarning, UnknownBranch, UnknownValue
from qapigen.support.errors import QMPError
from tests.conftest import CORPUS

SESSION = Path(__file__).parent / "drift" / "qemu-7.2-session.json"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, ModuleType]]:
    """The 10.2 and 3.1 schemas generated as ``drift102`` and ``drift31``."""
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"QEMU's QAPI corpus is not at {CORPUS}")
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")
    out = tmp_path_factory.mktemp("drift")
    for release, package, dialect in (
        ("qemu-10.2", "drift102", Dialect.QEMU), ("qemu-3.1", "drift31", Dialect.LEGACY)
    ):
        generate(GenerateOptions(
            schema=CORPUS / release / "qapi" / "qapi-schema.json", output=out, package=package,
            dialect=dialect, formatter="none", cache_dir=out / ".cache",
        ))
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("drift102"), importlib.import_module("drift31")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def q(packages: tuple[ModuleType, ModuleType]) -> ModuleType:
    return packages[0]


@pytest.fixture
def q31(packages: tuple[ModuleType, ModuleType]) -> ModuleType:
    return packages[1]


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    drift.reset_warnings()


def tolerantly(decode: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The decoded value and the texts of the DriftWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = decode()
    assert all(w.category is DriftWarning for w in caught)
    return value, [str(w.message) for w in caught]


# -- structs ---------------------------------------------------------------------------


def test_unknown_member_is_kept_in_extra_and_encoded_again(q: ModuleType) -> None:
    wire = {"node": "n", "name": "b", "granularity": 65536, "shiny": {"a": [1]}}
    value, said = tolerantly(lambda: q.BlockDirtyBitmapAdd.from_wire(wire, tolerant=True))
    assert isinstance(value, q.BlockDirtyBitmapAdd)
    assert (value.node, value.name, value.granularity, value.persistent) == ("n", "b", 65536, None)
    assert value.extra == {"shiny": {"a": [1]}}
    assert value.missing == ()
    assert said == [
        "BlockDirtyBitmapAdd: member 'shiny' is unknown to the bindings; kept in .extra"
    ]
    assert list(value.to_wire().items()) == [
        ("node", "n"), ("name", "b"), ("granularity", 65536), ("shiny", {"a": [1]}),
    ]
    assert drift.differences(value) == [Difference("extra", "shiny", {"a": [1]})]
    assert repr(value) == (
        "BlockDirtyBitmapAdd(node='n', name='b', granularity=65536, persistent=None,"
        " disabled=None)"
    )


def test_drift_survives_copy_and_pickle(q: ModuleType) -> None:
    wire = {"node": "n", "name": "b", "shiny": [1]}
    value, _ = tolerantly(lambda: q.BlockDirtyBitmapAdd.from_wire(wire, tolerant=True))
    for clone in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert type(clone) is type(value) and clone == value
        assert (clone.extra, clone.missing, clone.to_wire()) == ({"shiny": [1]}, (), wire)
    assert copy.deepcopy(value).extra is not value.extra
    # replace() builds from the declared members only.
    other = dataclasses.replace(value, name="c")
    assert (other.name, other.extra, other.to_wire()) == ("c", {}, {"node": "n", "name": "c"})
    assert value != q.BlockDirtyBitmapAdd(node="n", name="b")  # not the same class


def test_missing_member_is_none_listed_and_not_invented(q: ModuleType) -> None:
    value, said = tolerantly(
        lambda: q.BlockDirtyBitmapAdd.from_wire({"name": "b", "disabled": True}, tolerant=True)
    )
    assert (value.node, value.name, value.disabled) == (None, "b", True)
    assert value.missing == ("node",)
    assert value.extra == {}
    assert value.to_wire() == {"name": "b", "disabled": True}
    assert drift.differences(value) == [Difference("missing", "node", None)]
    assert said == [
        "BlockDirtyBitmapAdd: member 'node' is missing (an older server?); it is None,"
        " and listed in .missing"
    ]


def test_a_value_without_drift_is_the_strict_value(q: ModuleType) -> None:
    wire = {"node": "n", "name": "b"}
    value, said = tolerantly(lambda: q.BlockDirtyBitmapAdd.from_wire(wire, tolerant=True))
    assert type(value) is q.BlockDirtyBitmapAdd
    assert value == q.BlockDirtyBitmapAdd.from_wire(wire)
    assert (value.extra, value.missing, said) == ({}, (), [])
    assert drift.differences(value) == []


def test_strict_decoding_is_unchanged(q: ModuleType) -> None:
    with pytest.raises(QMPError) as caught:
        q.BlockDirtyBitmapAdd.from_wire({"node": "n", "name": "b", "shiny": 1})
    assert caught.value.desc == "Parameter 'shiny' is unexpected"
    with pytest.raises(QMPError) as caught:
        q.BlockDirtyBitmapAdd.from_wire({"name": "b"})
    assert caught.value.desc == "Parameter 'node' is missing"
    with pytest.raises(QMPError) as caught:
        q.MirrorSyncMode.from_wire("sideways")
    assert caught.value.desc == "Parameter 'null' does not accept value 'sideways'"
    with pytest.raises(QMPError) as caught:
        q.BlockDirtyBitmapAdd.from_json(b'{"node": "n", "name": "b", "shiny": 1}')
    assert caught.value.desc == "Parameter 'shiny' is unexpected"


def test_a_wrong_type_still_raises_in_tolerant_mode(q: ModuleType) -> None:
    with pytest.raises(QMPError) as caught:
        q.BlockDirtyBitmapAdd.from_wire({"node": 1, "name": "b", "shiny": 1}, tolerant=True)
    assert caught.value.desc == "Invalid parameter type for 'node', expected: string"
    with pytest.raises(QMPError) as caught, warnings.catch_warnings(record=True):
        q.TYPES["BlockDeviceInfoList"].from_wire([{"ro": "yes"}], tolerant=True)
    assert caught.value.desc == "Invalid parameter type for '[0].ro', expected: boolean"


def test_drift_in_nested_lists_has_qemu_paths(q: ModuleType) -> None:
    wire = {"actions": [
        {"type": "abort", "data": {}},
        {"type": "block-dirty-bitmap-clear", "data": {"node": "n", "name": "b", "new": 2}},
        {"type": "block-dirty-bitmap-merge",
         "data": {"node": "n", "target": "t", "bitmaps": ["x", {"node": "m"}]}},
    ]}
    value, said = tolerantly(lambda: q.TransactionArguments.from_wire(wire, tolerant=True))
    assert drift.differences(value) == [
        Difference("extra", "actions[1].data.new", 2),
        Difference("missing", "actions[2].data.bitmaps[1].name", None),
    ]
    clear = value.actions[1]
    assert clear.type is q.TransactionActionKind.BLOCK_DIRTY_BITMAP_CLEAR
    assert (clear.data.node, clear.data.name, clear.data.extra) == ("n", "b", {"new": 2})
    merge = value.actions[2].data.bitmaps
    assert merge[0] == "x" and isinstance(merge[1], q.BlockDirtyBitmap)
    assert (merge[1].node, merge[1].name, merge[1].missing) == ("m", None, ("name",))
    assert value.to_wire() == wire
    assert len(said) == 2


# -- enums, unions, alternates -----------------------------------------------------------


def test_unknown_enum_value_is_a_raw_string(q: ModuleType) -> None:
    value, said = tolerantly(lambda: q.MirrorSyncMode.from_wire("sideways", tolerant=True))
    assert type(value) is UnknownValue
    assert value == "sideways" and value.value == "sideways" and value.to_wire() == "sideways"
    assert repr(value) == "UnknownValue('sideways')"
    assert value is not q.MirrorSyncMode.FULL and value != q.MirrorSyncMode.FULL
    assert json.dumps(value) == '"sideways"'
    assert said == ["MirrorSyncMode: value 'sideways' is unknown to the bindings; kept as UnknownValue"]
    assert q.MirrorSyncMode.from_wire("full", tolerant=True) is q.MirrorSyncMode.FULL
    assert q.MirrorSyncMode.from_json(b'"top"', tolerant=True) is q.MirrorSyncMode.TOP


def test_unknown_enum_value_inside_an_object(q: ModuleType) -> None:
    wire = {"id": "job0", "type": "backup", "status": "hibernating", "current-progress": 1,
            "total-progress": 2}
    value, said = tolerantly(lambda: q.JobInfo.from_wire(wire, tolerant=True))
    assert value.status == "hibernating" and isinstance(value.status, UnknownValue)
    assert value.type is q.JobType.BACKUP
    assert type(value) is q.JobInfo  # no extra or missing member: the class itself
    assert value.to_wire() == wire
    assert drift.differences([value]) == [Difference("unknown-value", "[0].status", "hibernating")]
    assert said == ["JobStatus: value 'hibernating' is unknown to the bindings; kept as UnknownValue"]


def test_union_with_an_unknown_tag_decodes_to_its_base(q: ModuleType) -> None:
    wire = {"type": "teleport", "data": {"where": "moon"}}
    value, said = tolerantly(lambda: q.TransactionAction_from_wire(wire, tolerant=True))
    assert type(value).__name__ == "TransactionActionBase"
    assert isinstance(value, q.TransactionActionBase)
    assert value.type == "teleport" and isinstance(value.type, UnknownValue)
    assert value.extra == {"data": {"where": "moon"}}
    assert value.to_wire() == wire
    assert said == [
        "TransactionActionKind: value 'teleport' is unknown to the bindings; kept as UnknownValue"
    ]
    assert drift.differences(value) == [
        Difference("unknown-value", "type", "teleport"),
        Difference("extra", "data", {"where": "moon"}),
    ]
    # The codec and from_json take the same way.
    assert q.TYPES["TransactionAction"].from_wire(wire, tolerant=True).extra == value.extra
    assert q.TYPES["TransactionAction"].from_json(json.dumps(wire), tolerant=True).type == "teleport"


def test_union_branch_with_drift(q: ModuleType) -> None:
    wire = {"driver": "null-co", "node-name": "n0", "size": 1024, "shiny": True}
    value, _ = tolerantly(lambda: q.BlockdevOptions_from_wire(wire, tolerant=True))
    assert isinstance(value, q.BlockdevOptionsNullCo)
    assert value.driver is q.BlockdevDriver.NULL_CO
    assert (value.node_name, value.size, value.extra) == ("n0", 1024, {"shiny": True})
    assert list(value.to_wire()) == ["driver", "node-name", "size", "shiny"]
    assert value.to_wire() == wire


def test_legacy_simple_union_with_an_unknown_tag(q31: ModuleType) -> None:
    wire = {"type": "rbd", "data": {"encryption-format": "luks"}}
    value, said = tolerantly(lambda: q31.ImageInfoSpecific_from_wire(wire, tolerant=True))
    assert value == UnknownBranch(
        union="ImageInfoSpecific", tag_member="type", tag=UnknownValue("rbd"),
        extra={"data": {"encryption-format": "luks"}},
    )
    assert value.to_wire() == wire
    assert drift.differences(value) == [
        Difference("unknown-value", "type", "rbd"),
        Difference("extra", "data", {"encryption-format": "luks"}),
    ]
    assert said == [
        "ImageInfoSpecificKind: value 'rbd' is unknown to the bindings; kept as UnknownValue"
    ]


def test_flat_union_branch_passes_drift_to_the_inner_union(q: ModuleType) -> None:
    wire = {"transport": "socket", "type": "inet", "host": "h", "port": "1", "shiny": 1}
    value, _ = tolerantly(lambda: q.MigrationAddress_from_wire(wire, tolerant=True))
    assert isinstance(value, q.MigrationAddressSocket)
    assert isinstance(value.socket, q.SocketAddressInet)
    assert (value.socket.host, value.socket.extra) == ("h", {"shiny": 1})
    assert value.to_wire() == wire
    assert drift.differences(value) == [Difference("extra", "shiny", 1)]


def test_alternate_branches_decode_tolerantly(q: ModuleType) -> None:
    codec = q.TYPES["BlockDirtyBitmapOrStr"]
    assert codec.from_wire("b", tolerant=True) == "b"
    value, _ = tolerantly(lambda: q.BlockDirtyBitmapOrStr_from_wire(
        {"node": "n", "name": "b", "shiny": 1}, tolerant=True))
    assert isinstance(value, q.BlockDirtyBitmap) and value.extra == {"shiny": 1}
    assert q.BlockDirtyBitmapOrStr_to_wire(value) == {"node": "n", "name": "b", "shiny": 1}
    with pytest.raises(QMPError) as caught:
        codec.from_wire(1, tolerant=True)
    assert caught.value.desc == "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"


# -- events ------------------------------------------------------------------------------


def test_events_decode_tolerantly(q: ModuleType, q31: ModuleType) -> None:
    data = {"id": "job0", "status": "hibernating"}
    event, said = tolerantly(lambda: q.EVENTS["JOB_STATUS_CHANGE"].from_wire(data, tolerant=True))
    assert isinstance(event, q.JobStatusChange) and event.status == "hibernating"
    assert event.to_wire() == data
    shutdown, said = tolerantly(lambda: q31.Shutdown.from_wire(
        {"guest": False, "reason": "host-qmp-quit"}, tolerant=True))
    assert (shutdown.guest, shutdown.extra) == (False, {"reason": "host-qmp-quit"})
    assert shutdown.to_wire() == {"guest": False, "reason": "host-qmp-quit"}
    assert said == ["SHUTDOWN: member 'reason' is unknown to the bindings; kept in .extra"]
    stop, said = tolerantly(lambda: q.Stop.from_wire({"why": 1}, tolerant=True))
    assert (stop.extra, stop.to_wire()) == ({"why": 1}, {"why": 1})
    old, said = tolerantly(lambda: q.BlockJobCompleted.from_json(
        b'{"type": "backup", "device": "j", "len": 1, "offset": 1}', tolerant=True))
    assert (old.speed, old.missing) == (None, ("speed",))


# -- warnings, fast path -------------------------------------------------------------------


def test_warns_once_per_type_and_name(q: ModuleType) -> None:
    wire = [{"node": "n", "name": "b", "shiny": 1, "new": 2}, {"node": "n", "name": "c", "shiny": 3}]

    def decode() -> list[Any]:
        return [q.BlockDirtyBitmapAdd.from_wire(x, tolerant=True) for x in wire]

    _, said = tolerantly(decode)
    _, again = tolerantly(decode)
    assert said == [
        "BlockDirtyBitmapAdd: member 'shiny' is unknown to the bindings; kept in .extra",
        "BlockDirtyBitmapAdd: member 'new' is unknown to the bindings; kept in .extra",
    ]
    assert again == []
    drift.reset_warnings()
    assert len(tolerantly(decode)[1]) == 2
    # The warning names the line that decoded, not qapigen's internals.
    drift.reset_warnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        q.TransactionArguments.from_wire(
            {"actions": [{"type": "abort", "data": {"z": 1}}]}, tolerant=True)
    assert {(Path(w.filename).name, w.category) for w in caught} == {
        ("test_drift.py", DriftWarning)
    }


def test_from_json_steps_aside_for_drift(q: ModuleType) -> None:
    text = b'{"node": "n", "name": "b", "granularity": 512}'
    for _ in range(3):  # the fast path is built on the second use
        assert type(q.BlockDirtyBitmapAdd.from_json(text, tolerant=True)) is q.BlockDirtyBitmapAdd
    value, _ = tolerantly(lambda: q.BlockDirtyBitmapAdd.from_json(
        b'{"node": "n", "name": "b", "granularity": 512, "shiny": []}', tolerant=True))
    assert value.extra == {"shiny": []}
    with pytest.raises(QMPError) as caught:
        q.BlockDirtyBitmapAdd.from_json(b'{"node": "n"', tolerant=True)
    assert caught.value.desc.startswith("JSON parse error")


def test_extra_and_missing_are_reserved_member_names() -> None:
    assert naming.attribute_name("extra") == "extra_"
    assert naming.attribute_name("missing") == "missing_"
    assert naming.global_name("extra") == "extra"  # types and modules may use them


# -- the cases seen in the field: 10.2 bindings, a 5.x-era QEMU -----------------------------

NODE_5X: dict[str, Any] = {
    "iops_rd": 0, "detect_zeroes": "off", "image": {
        "virtual-size": 1073741824, "filename": "/var/lib/images/vm.qcow2",
        "cluster-size": 65536, "format": "qcow2", "actual-size": 200704, "dirty-flag": False,
        "format-specific": {"type": "qcow2", "data": {
            "compat": "1.1", "lazy-refcounts": False, "refcount-bits": 16, "corrupt": False}},
    },
    "iops_wr": 0, "ro": False, "node-name": "disk0-format", "backing_file_depth": 0,
    "drv": "qcow2", "iops": 0, "bps_wr": 0, "write_threshold": 0, "encrypted": False,
    "bps": 0, "bps_rd": 0, "cache": {"no-flush": False, "direct": False, "writeback": True},
    "file": "/var/lib/images/vm.qcow2",
}

STATS_5X: dict[str, Any] = {
    "device": "drive0", "node-name": "disk0-format", "qdev": "/machine/peripheral/vd0",
    "stats": {
        "flush_total_time_ns": 0, "wr_highest_offset": 0, "wr_total_time_ns": 0,
        "failed_wr_operations": 0, "failed_rd_operations": 0, "wr_merged": 0,
        "wr_bytes": 0, "timed_stats": [], "failed_unmap_operations": 0,
        "failed_flush_operations": 0, "account_invalid": True, "rd_total_time_ns": 0,
        "invalid_unmap_operations": 0, "flush_operations": 0, "wr_operations": 0,
        "unmap_bytes": 0, "rd_merged": 0, "rd_bytes": 512, "unmap_total_time_ns": 0,
        "invalid_flush_operations": 0, "account_failed": True, "rd_operations": 1,
        "invalid_wr_operations": 0, "unmap_merged": 0, "invalid_rd_operations": 0,
        "unmap_operations": 0,
    },
}

ZONE_APPEND = [
    "zone_append_bytes", "zone_append_operations", "zone_append_total_time_ns",
    "zone_append_merged", "failed_zone_append_operations", "invalid_zone_append_operations",
]


def test_query_named_block_nodes_of_a_5x_qemu(q: ModuleType) -> None:
    codec = q.TYPES[q.COMMANDS["query-named-block-nodes"].ret_type]
    with pytest.raises(QMPError) as caught:
        codec.from_wire([NODE_5X])
    assert caught.value.desc == "Parameter '[0].children' is missing"
    [node], said = tolerantly(lambda: codec.from_wire([NODE_5X], tolerant=True))
    assert node.missing == ("children", "active")
    assert (node.children, node.active) == (None, None)
    assert (node.node_name, node.ro, node.detect_zeroes) == (
        "disk0-format", False, q.BlockdevDetectZeroesOptions.OFF)
    assert node.image.format_specific.data.refcount_bits == 16
    # 5.0 had no qcow2 compression type yet; 10.2 holds it mandatory.
    assert node.image.format_specific.data.missing == ("compression-type",)
    assert drift.differences([node]) == [
        Difference("missing", "[0].children", None), Difference("missing", "[0].active", None),
        Difference("missing", "[0].image.format-specific.data.compression-type", None),
    ]
    assert len(said) == 3
    assert codec.to_wire([node]) == [NODE_5X]
    # from_json: the fast path refuses the text, the tolerant exact path takes it.
    assert codec.from_json(json.dumps([NODE_5X]), tolerant=True)[0].missing == ("children", "active")


def test_query_blockstats_of_a_5x_qemu(q: ModuleType) -> None:
    codec = q.TYPES[q.COMMANDS["query-blockstats"].ret_type]
    with pytest.raises(QMPError) as caught:
        codec.from_wire([STATS_5X])
    assert caught.value.desc == "Parameter '[0].stats.zone_append_bytes' is missing"
    [stats], _ = tolerantly(lambda: codec.from_wire([STATS_5X], tolerant=True))
    assert type(stats) is q.BlockStats
    assert stats.stats.missing == tuple(ZONE_APPEND)
    assert (stats.stats.rd_bytes, stats.stats.zone_append_bytes) == (512, None)
    assert drift.differences([stats]) == [
        Difference("missing", f"[0].stats.{name}", None) for name in ZONE_APPEND
    ]
    assert codec.to_wire([stats]) == [STATS_5X]


# -- a session recorded from QEMU 7.2 ------------------------------------------------------


def _session() -> dict[str, Any]:
    session: dict[str, Any] = json.loads(SESSION.read_text())
    return session


def _decode_session(pkg: ModuleType) -> tuple[dict[str, list[Difference]], list[str]]:
    """Decode every reply and event; the differences by command/event."""
    session = _session()
    found: dict[str, list[Difference]] = {}

    def run() -> None:
        for command, reply in session["replies"].items():
            codec = pkg.TYPES[pkg.COMMANDS[command].ret_type]
            value = codec.from_json(json.dumps(reply), tolerant=True)
            assert codec.to_wire(value) == reply, command  # nothing lost, nothing invented
            found[command] = drift.differences(value)
        for i, message in enumerate(session["events"]):
            cls = pkg.EVENTS[message["event"]]
            event = cls.from_wire(copy.deepcopy(message.get("data", {})), tolerant=True)
            assert event.to_wire() == message.get("data", {})
            found[f"{i}:{message['event']}"] = drift.differences(event)

    _, said = tolerantly(run)
    return found, said


def test_recorded_session_is_qemu_72() -> None:
    session = _session()
    assert session["qemu"] == {"major": 7, "minor": 2, "micro": 22}
    assert [e["event"] for e in session["events"]].count("JOB_STATUS_CHANGE") == 8
    assert set(session["replies"]) == {
        "query-version", "query-commands", "query-named-block-nodes", "query-block",
        "query-blockstats", "query-jobs", "query-block-jobs",
    }


def test_bindings_of_10_2_read_qemu_72(q: ModuleType) -> None:
    found, said = _decode_session(q)
    for clean in ("query-version", "query-commands", "query-jobs", "query-block-jobs"):
        assert found[clean] == [], clean
    assert found["query-named-block-nodes"] == [
        Difference("missing", f"[{i}].{name}", None)
        for i in range(7) for name in ("children", "active")
    ]
    assert found["query-block"] == [
        Difference("missing", "[0].inserted.children", None),
        Difference("missing", "[0].inserted.active", None),
    ]
    assert found["query-blockstats"][:6] == [
        Difference("missing", f"[0].stats.{name}", None) for name in ZONE_APPEND
    ]
    assert {d.kind for d in found["query-blockstats"]} == {"missing"}
    assert [k for k, v in found.items() if v and ":" in k] == []  # every event as 10.2 knows it
    assert said == [
        "BlockDeviceInfo: member 'children' is missing (an older server?); it is None,"
        " and listed in .missing",
        "BlockDeviceInfo: member 'active' is missing (an older server?); it is None,"
        " and listed in .missing",
    ] + [
        f"BlockDeviceStats: member '{name}' is missing (an older server?); it is None,"
        " and listed in .missing" for name in ZONE_APPEND
    ]


def test_bindings_of_3_1_read_qemu_72(q31: ModuleType) -> None:
    found, said = _decode_session(q31)
    for clean in ("query-version", "query-commands", "query-jobs", "query-block-jobs"):
        assert found[clean] == [], clean
    # Seven nodes: the backup filter, target (qcow2, file), the backing
    # image (qcow2, file) and the disk (qcow2 with a bitmap, file).
    qcow2 = "format-specific.data"
    assert [(d.kind, d.path) for d in found["query-named-block-nodes"]] == [
        ("missing", "[0].encryption_key_missing"),
        ("extra", f"[0].image.backing-image.backing-image.{qcow2}.compression-type"),
        ("extra", f"[0].image.backing-image.backing-image.{qcow2}.extended-l2"),
        ("extra", f"[0].image.backing-image.{qcow2}.compression-type"),
        ("extra", f"[0].image.backing-image.{qcow2}.extended-l2"),
        ("extra", "[0].dirty-bitmaps"),
        ("missing", "[1].encryption_key_missing"),
        ("extra", f"[1].image.{qcow2}.compression-type"),
        ("extra", f"[1].image.{qcow2}.extended-l2"),
        ("missing", "[2].encryption_key_missing"),
        ("missing", "[3].encryption_key_missing"),
        ("extra", f"[3].image.{qcow2}.compression-type"),
        ("extra", f"[3].image.{qcow2}.extended-l2"),
        ("missing", "[4].encryption_key_missing"),
        ("missing", "[5].encryption_key_missing"),
        ("extra", f"[5].image.backing-image.{qcow2}.compression-type"),
        ("extra", f"[5].image.backing-image.{qcow2}.extended-l2"),
        ("extra", f"[5].image.{qcow2}.compression-type"),
        ("extra", f"[5].image.{qcow2}.extended-l2"),
        ("extra", "[5].dirty-bitmaps"),
        ("missing", "[6].encryption_key_missing"),
    ]
    assert found["query-blockstats"][0] == Difference("extra", "[0].stats.unmap_operations", 0)
    shutdown = [v for k, v in found.items() if k.endswith(":SHUTDOWN")]
    assert shutdown == [[Difference("extra", "reason", "host-qmp-quit")]]
    assert said[:4] == [
        "BlockDeviceInfo: member 'encryption_key_missing' is missing (an older server?);"
        " it is None, and listed in .missing",
        "ImageInfoSpecificQCow2: member 'compression-type' is unknown to the bindings;"
        " kept in .extra",
        "ImageInfoSpecificQCow2: member 'extended-l2' is unknown to the bindings; kept in .extra",
        "BlockDeviceInfo: member 'dirty-bitmaps' is unknown to the bindings; kept in .extra",
    ]
    assert "SHUTDOWN: member 'reason' is unknown to the bindings; kept in .extra" in said


def test_tolerant_api_type_checks(tmp_path: Path) -> None:
    """User code of the tolerant API passes mypy --strict, with the types
    the docs promise (against the committed package ``generated/qmp``)."""
    repo = Path(__file__).resolve().parent.parent
    user = tmp_path / "user_code.py"
    user.write_text(textwrap.dedent(
        """
        from collections.abc import Mapping
        from typing import Any, assert_type

        import qmp
        from qapigen.support import Difference, DriftWarning, UnknownValue, differences

        node = qmp.BlockDirtyBitmapAdd.from_json(b"{}", tolerant=True)
        assert_type(node, qmp.BlockDirtyBitmapAdd)
        assert_type(node.extra, Mapping[str, object])
        assert_type(node.missing, tuple[str, ...])
        action = qmp.TransactionAction_from_wire({}, tolerant=True)
        assert_type(action, qmp.TransactionAction)
        assert_type(qmp.MirrorSyncMode.from_wire("x", tolerant=True), qmp.MirrorSyncMode)
        assert_type(qmp.TYPES["str"].from_json(b'"x"', tolerant=True), Any)
        found: list[Difference] = differences(node)
        unknown: str = UnknownValue("x")
        category: type[Warning] = DriftWarning
        """
    ))
    env = dict(os.environ, MYPYPATH=os.pathsep.join([str(repo), str(repo / "generated")]))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "c"), str(user)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout
