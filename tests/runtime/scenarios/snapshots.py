"""Snapshot scenarios (spec B.4): external snapshots (new and existing
overlays) and internal snapshots, with their errors and rollback."""

from __future__ import annotations

from tests.runtime.harness import Image, Scenario, cmd
from tests.runtime.scenarios._block import (
    RAW_DISK,
    TWO_DISKS,
    act,
    add,
    device_write,
    nodes,
    qemu_io,
    transaction,
)


def snap(node: str, file: str, name: str | None = None, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {"node-name": node, "snapshot-file": file, **extra}
    if name is not None:
        data["snapshot-node-name"] = name
    return data


SCENARIOS = [
    Scenario(
        name="snapshot-sync-through-a-device",
        **RAW_DISK,
        steps=[
            add("disk0", "b0"),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/ov1.qcow2", "ov1")),
            device_write(0x33, "0", "64k"),
            device_write(0x34, "1M", "1"),
            cmd("query-block"),
            nodes(),
            nodes(flat=True),
            cmd("blockdev-snapshot-sync", arguments=snap("ov1", "{tmp}/ov2.qcow2", "ov2")),
            device_write(0x35, "3M", "4k"),
            add("ov2", "on-top"),
            cmd("query-block"),
        ],
        compare_files=["d0"],
    ),
    Scenario(
        name="snapshot-sync-errors",
        **RAW_DISK,
        steps=[
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/o.qcow2")),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/o.qcow2", "f0")),
            cmd("blockdev-snapshot-sync", arguments={"snapshot-file": "{tmp}/o.qcow2",
                                                     "snapshot-node-name": "o"}),
            cmd("blockdev-snapshot-sync", arguments=snap("nonode", "{tmp}/o.qcow2", "o")),
            cmd("blockdev-snapshot-sync", arguments={"device": "vd0", "snapshot-file": "{tmp}/o.qcow2"}),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/o.qcow2", "o", format="raw")),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/o.qcow2", "o",
                                                         format="bogus")),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/no/dir/o.qcow2", "o")),
            cmd("blockdev-snapshot-sync", arguments=snap("disk0", "{tmp}/missing.qcow2", "o",
                                                         mode="existing")),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="snapshot-sync-rolled-back",
        **RAW_DISK,
        steps=[
            add("disk0", "b0"),
            transaction(act("blockdev-snapshot-sync", **snap("disk0", "{tmp}/o.qcow2", "o")),
                        act("block-dirty-bitmap-add", node="o", name="new"),
                        act("abort")),
            nodes(),
            cmd("query-block"),
            device_write(0x22, "0", "1"),
            nodes(flat=True),
            transaction(act("blockdev-snapshot-sync", **snap("disk0", "{tmp}/o2.qcow2", "o2")),
                        act("block-dirty-bitmap-add", node="o2", name="new")),
            device_write(0x23, "2M", "1"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="snapshot-existing-overlay",
        images=[Image("d0", "raw", "16M", fill=[(0x11, 0, "1M")]), Image("ov", "qcow2", "16M"),
                Image("big", "qcow2", "64M")],
        blockdevs=["driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0"],
        devices=["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on"],
        negotiate=True,
        steps=[
            cmd("blockdev-add", driver="qcow2", file={"driver": "file", "filename": "{ov}"},
                backing=None, **{"node-name": "ov"}),
            cmd("blockdev-snapshot", node="disk0", overlay="nope"),
            cmd("blockdev-snapshot", node="nonode", overlay="ov"),
            cmd("blockdev-snapshot", node="disk0", overlay="f0"),
            transaction(act("blockdev-snapshot", node="disk0", overlay="ov"), act("abort")),
            cmd("query-block"),
            cmd("blockdev-snapshot", node="disk0", overlay="ov"),
            device_write(0x44, "64k", "64k"),
            cmd("query-block"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="snapshot-chain-on-qcow2",
        images=[Image("q", "qcow2", "64M", fill=[(0x22, "4M", "1M")])],
        blockdevs=["driver=file,node-name=fq,filename={q}", "driver=qcow2,node-name=q0,file=fq"],
        devices=["virtio-blk-pci,drive=q0,id=vd0,share-rw=on"],
        negotiate=True,
        steps=[
            add("q0", "b"),
            cmd("blockdev-snapshot-sync", arguments=snap("q0", "{tmp}/s1.qcow2", "s1")),
            device_write(0x31, "4M", "1"),
            device_write(0x32, "5M", "64k"),
            cmd("blockdev-snapshot-sync", arguments=snap("s1", "{tmp}/s2.qcow2", "s2")),
            device_write(0x33, "100k", "200k"),
            cmd("query-block"),
            nodes(),
        ],
    ),
    Scenario(
        name="snapshot-of-a-node-without-parents",
        **TWO_DISKS,
        steps=[
            cmd("blockdev-snapshot-sync", arguments=snap("q0", "{tmp}/o.qcow2", "o")),
            nodes(flat=True),
            qemu_io("q0", "write -P 0x55 0 64k"),
        ],
    ),
    Scenario(
        name="snapshot-internal-errors",
        **TWO_DISKS,
        steps=[
            cmd("blockdev-snapshot-internal-sync", device="disk0", name="s"),
            cmd("blockdev-snapshot-internal-sync", device="f0", name="s"),
            cmd("blockdev-snapshot-internal-sync", device="fq", name="s"),
            cmd("blockdev-snapshot-internal-sync", device="vd0", name="s"),
            cmd("blockdev-snapshot-internal-sync", device="nonode", name="s"),
            cmd("blockdev-snapshot-internal-sync", device="q0", name=""),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0", name="nothing"),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0", id="1"),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0"),
            cmd("blockdev-snapshot-delete-internal-sync", device="disk0", name="x"),
            transaction(act("blockdev-snapshot-internal-sync", device="disk0", name="s")),
        ],
    ),
    Scenario(
        name="snapshot-internal-create-write-delete",
        images=[Image("q", "qcow2", "64M", fill=[(0x22, "0", "1M")])],
        blockdevs=["driver=file,node-name=fq,filename={q}", "driver=qcow2,node-name=q0,file=fq"],
        devices=["virtio-blk-pci,drive=q0,id=vd0,share-rw=on"],
        negotiate=True,
        steps=[
            cmd("blockdev-snapshot-internal-sync", device="q0", name="s1"),
            device_write(0x33, "0", "1"),
            device_write(0x34, "900k", "200k"),
            transaction(act("blockdev-snapshot-internal-sync", device="q0", name="s2"),
                        act("blockdev-snapshot-internal-sync", device="q0", name="s3")),
            cmd("query-block"),
            transaction(act("blockdev-snapshot-internal-sync", device="q0", name="s4"),
                        act("blockdev-snapshot-internal-sync", device="q0", name="s1")),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0", id="2"),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0", id="1", name="s3"),
            cmd("blockdev-snapshot-delete-internal-sync", device="q0", name="s1"),
            device_write(0x35, "4M", "64k"),
            cmd("blockdev-snapshot-internal-sync", device="q0", name="s5"),
            nodes(),
        ],
    ),
]
