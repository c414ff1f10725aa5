"""The transaction engine and the actions (spec B.2, B.4, E): QEMU 7.2's
order, texts and grouped-mode refusals, and rollback that leaves every
observable thing as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qapigen import qmp
from qapigen.runtime.transaction import Transaction, TxProps
from qapigen.support.errors import QMPError
from tests.runtime.machine_util import Rig, action

M = 1 << 20


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    machine = Rig(tmp_path)
    yield machine
    machine.close()


# -- the engine ------------------------------------------------------------------------


def _recording_steps(log: list[str], fail_at: int | None) -> list[tuple[str, object]]:
    steps = []
    for index in range(3):
        def prepare(tx: Transaction, index: int = index) -> None:
            tx.add(commit=lambda: log.append(f"commit{index}"),
                   abort=lambda: log.append(f"abort{index}"),
                   clean=lambda: log.append(f"clean{index}"))
            log.append(f"prepare{index}")
            if index == fail_at:
                raise QMPError(f"failed {index}")
        steps.append((f"kind{index}", prepare))
    return steps


def test_success_commits_then_cleans_in_list_order() -> None:
    log: list[str] = []
    finished: list[bool] = []
    tx = Transaction()
    tx.finish_hooks.append(finished.append)
    tx.run(_recording_steps(log, None))  # type: ignore[arg-type]
    assert log == ["prepare0", "prepare1", "prepare2", "commit0", "commit1", "commit2",
                   "clean0", "clean1", "clean2"]
    assert finished == [True]


def test_failure_aborts_in_reverse_including_the_failed_action_then_cleans_forward() -> None:
    log: list[str] = []
    finished: list[bool] = []
    tx = Transaction()
    tx.finish_hooks.append(finished.append)
    with pytest.raises(QMPError) as info:
        tx.run(_recording_steps(log, 1))  # type: ignore[arg-type]
    assert info.value.desc == "failed 1"
    assert log == ["prepare0", "prepare1", "abort1", "abort0", "clean0", "clean1"]
    assert finished == [False]


def test_grouped_text_has_a_capital_t() -> None:
    tx = Transaction(TxProps(completion_mode=qmp.ActionCompletionMode.GROUPED))
    with pytest.raises(QMPError) as info:
        tx.check_grouped("block-dirty-bitmap-add")
    assert info.value.desc == (
        "Action 'block-dirty-bitmap-add' does not support Transaction property "
        "completion-mode = grouped")


# -- through the Machine ------------------------------------------------------------------


def test_empty_transaction(rig: Rig) -> None:
    assert rig.ok("transaction", actions=[]) == {}


def test_abort_action(rig: Rig) -> None:
    assert rig.error("transaction", actions=[action("abort")]) == (
        "Transaction aborted using Abort action")
    grouped = {"completion-mode": "grouped"}
    assert rig.error("transaction", actions=[action("abort")], properties=grouped) == (
        "Transaction aborted using Abort action")


def test_grouped_mode_is_refused_by_the_first_bitmap_or_snapshot_action(rig: Rig) -> None:
    grouped = {"completion-mode": "grouped"}
    before = rig.observable()
    for kind, data in [
        ("block-dirty-bitmap-add", {"node": "raw0", "name": "g"}),
        ("block-dirty-bitmap-clear", {"node": "raw0", "name": "zz"}),
        ("block-dirty-bitmap-disable", {"node": "raw0", "name": "zz"}),
        ("block-dirty-bitmap-merge", {"node": "raw0", "target": "zz", "bitmaps": []}),
        ("block-dirty-bitmap-remove", {"node": "raw0", "name": "zz"}),
        ("blockdev-snapshot-internal-sync", {"device": "disk0", "name": "s"}),
        ("blockdev-snapshot", {"node": "raw0", "overlay": "zz"}),
        ("blockdev-snapshot-sync", {"node-name": "raw0", "snapshot-file": "x"}),
    ]:
        desc = rig.error("transaction", actions=[{"type": kind, "data": data}],
                         properties=grouped)
        assert desc == (f"Action '{kind}' does not support Transaction property "
                        "completion-mode = grouped")
    assert rig.observable() == before


def test_failed_transaction_leaves_everything_as_it_was(rig: Rig, tmp_path: Path) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b0")
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b1", granularity=512, disabled=True)
    rig.ok("block-dirty-bitmap-add", node="raw0", name="gone")
    rig.write("raw0", 0x11, "0", "64k")
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="keep")
    before = rig.observable()
    overlay = str(tmp_path / "ov.qcow2")
    desc = rig.error("transaction", actions=[
        action("block-dirty-bitmap-add", node="raw0", name="new"),
        action("block-dirty-bitmap-clear", node="raw0", name="b0"),
        action("block-dirty-bitmap-merge", node="raw0", target="b0", bitmaps=["b1"]),
        action("block-dirty-bitmap-enable", node="raw0", name="b1"),
        action("block-dirty-bitmap-disable", node="raw0", name="b0"),
        action("block-dirty-bitmap-remove", node="raw0", name="gone"),
        {"type": "blockdev-snapshot-sync", "data": {
            "node-name": "raw0", "snapshot-file": overlay, "snapshot-node-name": "ov"}},
        action("block-dirty-bitmap-add", node="ov", name="on-overlay"),
        action("abort"),
    ])
    assert desc == "Transaction aborted using Abort action"
    assert rig.observable() == before
    assert not os.path.exists(overlay)


def test_aborted_internal_snapshot_is_deleted_again(rig: Rig, tmp_path: Path) -> None:
    """As on QEMU, the snapshot is written into the image and deleted on
    abort: the list is as before, the file stays consistent (it may have
    grown, as QEMU's does)."""
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="keep")
    rig.error("transaction", actions=[
        action("blockdev-snapshot-internal-sync", device="disk0", name="s2"),
        action("abort"),
    ])
    disk0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "disk0")
    assert [(s["id"], s["name"]) for s in disk0["image"]["snapshots"]] == [("1", "keep")]
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="next")
    disk0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "disk0")
    assert [s["id"] for s in disk0["image"]["snapshots"]] == ["1", "2"]  # largest id + 1


def test_clear_then_merge_into_the_same_bitmap_is_restored(rig: Rig) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="x")
    rig.ok("block-dirty-bitmap-add", node="raw0", name="y")
    rig.write("raw0", 0x11, "0", "1")
    rig.write("raw0", 0x11, "2M", "1")
    rig.error("transaction", actions=[
        action("block-dirty-bitmap-clear", node="raw0", name="x"),
        action("block-dirty-bitmap-merge", node="raw0", target="x", bitmaps=["y"]),
        action("block-dirty-bitmap-clear", node="raw0", name="missing"),
    ])
    assert {b["name"]: b["count"] for b in rig.bitmaps("raw0")} == {"x": 131072, "y": 131072}


def test_later_actions_see_earlier_changes(rig: Rig) -> None:
    rig.ok("transaction", actions=[
        action("block-dirty-bitmap-add", node="raw0", name="n1"),
        action("block-dirty-bitmap-remove", node="raw0", name="n1"),
    ])
    assert rig.bitmaps("raw0") == []
    rig.ok("block-dirty-bitmap-add", node="raw0", name="n1")
    assert rig.error("transaction", actions=[
        action("block-dirty-bitmap-remove", node="raw0", name="n1"),
        action("block-dirty-bitmap-remove", node="raw0", name="n1"),
    ]) == "Bitmap 'n1' is currently in use by another operation and cannot be used"
    assert rig.error("transaction", actions=[
        action("block-dirty-bitmap-remove", node="raw0", name="n1"),
        action("block-dirty-bitmap-add", node="raw0", name="n1"),
    ]) == "Bitmap already exists: n1"
    assert [(b["name"], b["busy"]) for b in rig.bitmaps("raw0")] == [("n1", False)]


def test_merge_texts_and_cross_node_merge(rig: Rig) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="t")
    rig.ok("block-dirty-bitmap-add", node="disk0", name="q")
    rig.ok("block-dirty-bitmap-add", node="f1", name="same-size", granularity=512)
    rig.write("raw0", 0x1, "0", "1")
    assert rig.error("block-dirty-bitmap-merge", node="raw0", target="zz", bitmaps=[]) == (
        "Dirty bitmap 'zz' not found")
    assert rig.error("block-dirty-bitmap-merge", node="raw0", target="t", bitmaps=["zz"]) == (
        "Dirty bitmap 'zz' not found")
    assert rig.error("block-dirty-bitmap-merge", node="raw0", target="t",
                     bitmaps=[{"node": "nonode", "name": "x"}]) == "Node 'nonode' not found"
    assert rig.error("block-dirty-bitmap-merge", node="raw0", target="t",
                     bitmaps=[{"node": "disk0", "name": "q"}]) == (
        "Bitmaps are of different sizes (destination size is 16777216, source size is "
        "67108864) and can't be merged")
    rig.ok("block-dirty-bitmap-merge", node="f1", target="same-size",
           bitmaps=[{"node": "raw0", "name": "t"}])
    assert rig.bitmaps("f1")[0]["count"] == 65536


def test_spec_e_crashes_are_answered(rig: Rig) -> None:
    # E.1: QEMU 7.2 crashes in the enable action's abort after a failed lookup.
    assert rig.error("transaction", actions=[
        action("block-dirty-bitmap-enable", node="raw0", name="zzz")]) == (
        "Dirty bitmap 'zzz' not found")
    # E.2: QEMU 7.2 crashes on a merge without sources; 10.2 answers {}.
    rig.ok("block-dirty-bitmap-add", node="raw0", name="t")
    assert rig.ok("block-dirty-bitmap-merge", node="raw0", target="t", bitmaps=[]) == {}
    assert rig.ok("transaction", actions=[
        action("block-dirty-bitmap-merge", node="raw0", target="t", bitmaps=[])]) == {}


def test_enable_and_disable_restore_on_abort(rig: Rig) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="on")
    rig.ok("block-dirty-bitmap-add", node="raw0", name="off", disabled=True)
    rig.error("transaction", actions=[
        action("block-dirty-bitmap-disable", node="raw0", name="on"),
        action("block-dirty-bitmap-enable", node="raw0", name="off"),
        action("block-dirty-bitmap-enable", node="raw0", name="off"),
        action("abort"),
    ])
    assert [(b["name"], b["recording"]) for b in rig.bitmaps("raw0")] == [
        ("off", False), ("on", True)]


def test_legacy_x_commands_answer_as_72_by_default(rig: Rig) -> None:
    reply = rig("x-block-dirty-bitmap-enable", node="raw0", name="b")
    assert reply["error"] == {"class": "CommandNotFound",
                              "desc": "The command x-block-dirty-bitmap-enable has not been found"}
    assert rig.error("transaction", actions=[
        action("x-block-dirty-bitmap-disable", node="raw0", name="b")]) == (
        "Parameter 'type' does not accept value 'x-block-dirty-bitmap-disable'")
    names = {c["name"] for c in rig.ok("query-commands")}
    assert "x-block-dirty-bitmap-merge" not in names and "block-dirty-bitmap-merge" in names


def test_legacy_switch_maps_x_actions_onto_the_same_code(tmp_path: Path) -> None:
    rig = Rig(tmp_path, legacy=True)
    try:
        rig.ok("block-dirty-bitmap-add", node="raw0", name="a")
        rig.ok("block-dirty-bitmap-add", node="raw0", name="b", disabled=True)
        rig.write("raw0", 0x1, "0", "1")
        rig.ok("x-block-dirty-bitmap-enable", node="raw0", name="b")
        rig.ok("transaction", actions=[
            {"type": "x-block-dirty-bitmap-merge",
             "data": {"node": "raw0", "dst_name": "b", "src_name": "a"}},
            action("x-block-dirty-bitmap-disable", node="raw0", name="a"),
        ])
        assert [(b["name"], b["count"], b["recording"]) for b in rig.bitmaps("raw0")] == [
            ("b", 65536, True), ("a", 65536, False)]
    finally:
        rig.close()


def test_external_snapshot_of_a_bare_node_is_dropped_at_clean(rig: Rig, tmp_path: Path) -> None:
    """Spec E.7: no parent holds the overlay, so it goes again; the old
    node stays read-only."""
    rig.ok("blockdev-snapshot-sync", **{
        "node-name": "disk0", "snapshot-file": str(tmp_path / "o.qcow2"),
        "snapshot-node-name": "o"})
    nodes = {n["node-name"]: n["ro"] for n in rig.ok("query-named-block-nodes")}
    assert "o" not in nodes and nodes["disk0"] is True


def test_blockdev_snapshot_with_an_existing_overlay(rig: Rig, tmp_path: Path) -> None:
    from qapigen.runtime.block.images import create_qcow2

    create_qcow2(str(tmp_path / "ov.qcow2"), 16 * M)
    rig.ok("blockdev-add", driver="qcow2", **{"node-name": "ov"},
           file={"driver": "file", "filename": str(tmp_path / "ov.qcow2")}, backing=None)
    assert rig.error("blockdev-snapshot", node="raw0", overlay="nope") == (
        "Cannot find device='nope' nor node-name='nope'")
    assert rig.error("blockdev-snapshot", node="raw0", overlay="f0") == (
        "The overlay is already in use")  # disk0 reads it
    rig.ok("blockdev-add", driver="file", filename=str(tmp_path / "r0.raw"),
           **{"node-name": "lone", "read-only": True})
    assert rig.error("blockdev-snapshot", node="raw0", overlay="lone") == (
        "The overlay does not support backing images")
    rig.ok("blockdev-del", **{"node-name": "lone"})
    before = rig.observable()
    rig.error("transaction", actions=[
        action("blockdev-snapshot", node="raw0", overlay="ov"), action("abort")])
    assert rig.observable() == before
    rig.ok("blockdev-snapshot", node="raw0", overlay="ov")
    assert rig.ok("query-block")[0]["inserted"]["node-name"] == "ov"
    assert rig.error("blockdev-snapshot", node="disk0", overlay="ov") == (
        "The overlay is already in use")


def test_a_fresh_transaction_is_individual_with_no_kind_yet() -> None:
    """The defaults a handler sees before the first step runs (mutmut:
    ``Transaction.__init__`` 3, 7, 8)."""
    tx = Transaction()
    assert tx.props == TxProps()
    assert tx.props.completion_mode is qmp.ActionCompletionMode.INDIVIDUAL
    assert tx.props.extra == {}
    assert tx.kind == ""
    grouped = Transaction(TxProps(qmp.ActionCompletionMode.GROUPED))
    with pytest.raises(QMPError) as info:
        grouped.check_grouped()
    assert info.value.desc == (
        "Action '' does not support Transaction property completion-mode = grouped")
