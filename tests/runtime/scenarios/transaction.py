"""Transaction scenarios (spec B.2, B.5): QEMU 7.2's order, grouped-mode
refusals, the first error winning, and rollback."""

from __future__ import annotations

from tests.runtime.harness import Image, Scenario, cmd
from tests.runtime.scenarios._block import (
    RAW_DISK,
    TWO_DISKS,
    act,
    add,
    device_write,
    nodes,
    transaction,
)

_BACKUP_DISKS = {
    "images": [Image("d0", "raw", "16M", fill=[(0x11, 0, "16M")]), Image("t0", "raw", "16M")],
    "blockdevs": ["driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0",
                  "driver=file,node-name=ft,filename={t0}", "driver=raw,node-name=t0,file=ft"],
    "devices": ["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on"],
    "negotiate": True,
}

SCENARIOS = [
    Scenario(
        name="transaction-empty-and-abort",
        **RAW_DISK,
        steps=[
            transaction(),
            transaction(act("abort")),
            transaction(act("abort"), grouped=True),
            transaction(act("block-dirty-bitmap-add", node="disk0", name="a"), act("abort")),
            cmd("transaction", arguments={"actions": [], "properties": {}}),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-grouped-refused-per-action",
        **TWO_DISKS,
        steps=[
            add("disk0", "b"),
            transaction(act("block-dirty-bitmap-add", node="disk0", name="g"), grouped=True),
            transaction(act("block-dirty-bitmap-clear", node="disk0", name="b"), grouped=True),
            transaction(act("block-dirty-bitmap-disable", node="disk0", name="b"), grouped=True),
            transaction(act("block-dirty-bitmap-merge", node="disk0", target="b", bitmaps=["b"]),
                        grouped=True),
            transaction(act("block-dirty-bitmap-remove", node="disk0", name="b"), grouped=True),
            transaction(act("blockdev-snapshot-internal-sync", device="q0", name="s"),
                        grouped=True),
            transaction(act("blockdev-snapshot-sync", node_name="disk0",
                            snapshot_file="{tmp}/o.qcow2", snapshot_node_name="o"), grouped=True),
            transaction(act("blockdev-snapshot", node="disk0", overlay="q0"), grouped=True),
            transaction(act("block-dirty-bitmap-add", node="nonode", name="g"), grouped=True),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-grouped-backup-rolled-back-by-a-bitmap-action",
        **_BACKUP_DISKS,
        steps=[
            add("disk0", "b"),
            transaction(act("blockdev-backup", device="disk0", target="t0", sync="full",
                            job_id="j0"),
                        act("block-dirty-bitmap-add", node="disk0", name="new"),
                        grouped=True),
            cmd("query-jobs"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-first-error-wins",
        **RAW_DISK,
        steps=[
            add("disk0", "a"),
            transaction(act("block-dirty-bitmap-add", node="disk0", name="a"),
                        act("block-dirty-bitmap-add", node="nonode", name="x"),
                        act("abort")),
            transaction(act("block-dirty-bitmap-clear", node="disk0", name="zz"),
                        act("block-dirty-bitmap-add", node="disk0", name="a")),
            transaction(act("block-dirty-bitmap-disable", node="disk0", name="a"),
                        act("block-dirty-bitmap-disable", node="disk0", name="missing")),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-everything-rolled-back",
        **TWO_DISKS,
        steps=[
            add("disk0", "a"),
            add("disk0", "b", granularity=512, disabled=True),
            add("disk0", "gone"),
            device_write(0x22, "0", "64k"),
            nodes(),
            cmd("query-block"),
            transaction(
                act("block-dirty-bitmap-add", node="disk0", name="new"),
                act("block-dirty-bitmap-clear", node="disk0", name="a"),
                act("block-dirty-bitmap-merge", node="disk0", target="a", bitmaps=["b"]),
                act("block-dirty-bitmap-enable", node="disk0", name="b"),
                act("block-dirty-bitmap-disable", node="disk0", name="a"),
                act("block-dirty-bitmap-remove", node="disk0", name="gone"),
                act("blockdev-snapshot-sync", node_name="disk0", snapshot_file="{tmp}/o.qcow2",
                    snapshot_node_name="o"),
                act("block-dirty-bitmap-add", node="o", name="on-overlay"),
                act("abort"),
            ),
            nodes(),
            cmd("query-block"),
            device_write(0x23, "1M", "1"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-later-actions-see-earlier-ones",
        **RAW_DISK,
        steps=[
            add("disk0", "src"),
            device_write(0x22, "3M", "1"),
            transaction(act("block-dirty-bitmap-add", node="disk0", name="dst", disabled=True),
                        act("block-dirty-bitmap-merge", node="disk0", target="dst",
                            bitmaps=["src"]),
                        act("block-dirty-bitmap-clear", node="disk0", name="src"),
                        act("block-dirty-bitmap-add", node="disk0", name="tmp"),
                        act("block-dirty-bitmap-remove", node="disk0", name="tmp")),
            nodes(flat=True),
            transaction(act("blockdev-snapshot-sync", node_name="disk0",
                            snapshot_file="{tmp}/o.qcow2", snapshot_node_name="o"),
                        act("block-dirty-bitmap-add", node="o", name="top"),
                        act("block-dirty-bitmap-merge", node="o", target="top",
                            bitmaps=[{"node": "disk0", "name": "dst"}])),
            device_write(0x23, "5M", "1"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="transaction-argument-errors",
        **RAW_DISK,
        steps=[
            cmd("transaction", arguments={"actions": [{"type": "bogus", "data": {}}]}),
            cmd("transaction", arguments={"actions": [{"data": {}}]}),
            cmd("transaction", arguments={"actions": [{"type": "abort"}]}),
            cmd("transaction", arguments={"actions": [
                {"type": "block-dirty-bitmap-add", "data": {"node": "disk0"}}]}),
            cmd("transaction", arguments={"actions": [
                {"type": "block-dirty-bitmap-add",
                 "data": {"node": "disk0", "name": "a", "granularity": "x"}}]}),
            cmd("transaction", arguments={"actions": [
                {"type": "block-dirty-bitmap-add",
                 "data": {"node": "disk0", "name": "a", "granularity": 4294967296}}]}),
            cmd("transaction", arguments={"actions": [], "properties": {"completion-mode": "x"}}),
            cmd("transaction", arguments={"actions": [
                {"type": "block-dirty-bitmap-merge",
                 "data": {"node": "disk0", "target": "a", "bitmaps": [1]}}]}),
            cmd("transaction", arguments={"actions": {}}),
            nodes(flat=True),
        ],
    ),
]
