"""Backup jobs (qapigen/runtime/backup.py) on real raw files, no QEMU.

Bytes copied, bitmaps across a backup (spec C.4, per bitmap-mode, on
success and on cancel), validation texts in QEMU 7.2's order, the
transaction actions' abort, copy-before-write and drive-backup targets.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from qapigen import qmp
from qapigen.runtime.backup import BackupJob, JobCommands, prepare_blockdev_backup, write_conflict
from qapigen.runtime.block.bitmaps import Bitmap
from qapigen.runtime.block.graph import Graph, Node
from qapigen.runtime.jobs import JobManager
from qapigen.runtime.transaction import Transaction, TxProps
from qapigen.support.errors import QMPError

MiB = 1 << 20
SIZE = 4 * MiB
G = 65536


class Box(JobCommands):
    """The job commands over a graph of raw nodes, events recorded."""

    def __init__(self, tmp: Path, disks: dict[str, bytes | int]) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.graph = Graph()
        self.jobs = JobManager(lambda e: self.events.append((e.NAME, e.to_wire())))
        self.tmp = tmp
        for name, content in disks.items():
            path = tmp / f"{name}.raw"
            data = content if isinstance(content, bytes) else bytes(content)
            path.write_bytes(data)
            self.graph.open_blockdev(qmp.BlockdevOptions_from_wire({
                "driver": "raw", "node-name": name,
                "file": {"driver": "file", "filename": str(path)},
            }))

    def node(self, name: str) -> Node:
        node = self.graph.find(name)
        assert node is not None
        return node

    def file(self, name: str) -> bytes:
        return (self.tmp / f"{name}.raw").read_bytes()

    def add_bitmap(self, node: str, name: str, *, enabled: bool = True) -> Bitmap:
        target = self.node(node)
        bitmap = Bitmap(name, G, target.size, target.bitmaps, enabled=enabled)
        target.bitmaps.insert(0, bitmap)
        return bitmap

    def backup(self, **args: Any) -> None:
        wire = {"device": "disk0", "target": "t0", "sync": "full", "job-id": "j", **args}
        self.blockdev_backup(qmp.BlockdevBackup.from_wire(wire))

    def statuses(self, job_id: str = "j") -> list[str]:
        return [d["status"] for n, d in self.events if n == "JOB_STATUS_CHANGE" and d["id"] == job_id]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [d for n, d in self.events if n == name]


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(body())


async def until_gone(box: Box, job_id: str = "j") -> None:
    for _ in range(2000):
        if box.jobs.get(job_id) is None:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"job {job_id} still there: {box.jobs.get(job_id)}")


def pattern_disk() -> bytes:
    return b"".join(bytes([i % 251 + 1]) * G for i in range(SIZE // G))


def disks(**extra: bytes | int) -> dict[str, bytes | int]:
    return {"disk0": pattern_disk(), "t0": SIZE, "t1": SIZE, **extra}


# -- bytes ------------------------------------------------------------------------------


def test_full_backup_copies_every_byte(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        box.backup()
        await until_gone(box)
        assert box.file("t0") == box.file("disk0")
        assert box.statuses() == ["created", "running", "waiting", "pending", "concluded", "null"]
        assert box.named("BLOCK_JOB_COMPLETED") == [
            {"type": "backup", "device": "j", "len": SIZE, "offset": SIZE, "speed": 0}
        ]
    run(body)


def test_incremental_copies_dirty_granules_and_rebuilds(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        bitmap = box.add_bitmap("disk0", "b0")
        box.backup()
        await until_gone(box)
        full = box.file("t0")
        disk = box.node("disk0")
        disk.write(G + 100, b"\xaa" * 10)
        disk.write(3 * MiB - 1, b"\xbb" * 2)  # straddles two granules
        assert bitmap.count() == 3 * G
        box.backup(target="t1", sync="incremental", bitmap="b0", **{"job-id": "i"})
        assert bitmap.busy and bitmap.recording and not bitmap.enabled
        await until_gone(box, "i")
        inc = box.file("t1")
        dirty = [1, 3 * MiB // G - 1, 3 * MiB // G]
        rebuilt = bytearray(full)
        for index in dirty:
            rebuilt[index * G:(index + 1) * G] = inc[index * G:(index + 1) * G]
        assert bytes(rebuilt) == box.file("disk0")
        untouched = bytearray(inc)
        for index in dirty:
            untouched[index * G:(index + 1) * G] = bytes(G)
        assert bytes(untouched) == bytes(SIZE)
        assert box.named("BLOCK_JOB_COMPLETED")[-1]["len"] == 3 * G
        assert (bitmap.count(), bitmap.busy, bitmap.enabled) == (0, False, True)
        assert [b.name for b in disk.bitmaps] == ["b0"]
    run(body)


def test_disabled_bitmap_stays_disabled(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        bitmap = box.add_bitmap("disk0", "b0", enabled=False)
        bitmap.mark(0, 1)
        box.backup(sync="incremental", bitmap="b0")
        await until_gone(box)
        assert (bitmap.count(), bitmap.recording, bitmap.busy) == (0, False, False)
    run(body)


# -- bitmap modes (spec C.4) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "cancel", "expected"),
    [
        # success: abdicate keeps only the write made during the job
        ("on-success", False, 1),
        ("always", False, 1),
        # success with never, and every cancel but always: reclaim, 32 + 1
        ("never", False, 33),
        ("on-success", True, 33),
        ("never", True, 33),
        # cancel with always: abdicate, then the 16 granules not yet copied
        ("always", True, 17),
    ],
)
def test_bitmap_outcome_per_mode(tmp_path: Path, mode: str, cancel: bool, expected: int) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        bitmap = box.add_bitmap("disk0", "b0")
        bitmap.mark(0, 2 * MiB)  # 32 granules: the first chunk copies 16, then speed=1 waits
        box.backup(sync="bitmap", bitmap="b0", **{"bitmap-mode": mode}, speed=1)
        successor = bitmap.successor
        assert successor is not None and successor.name is None and successor.enabled
        listed = box.node("disk0").bitmaps
        assert successor in listed and [b for b in listed if b.name] == [bitmap]
        await asyncio.sleep(0.05)
        box.node("disk0").write(3 * MiB, b"\x01")  # goes to the successor
        assert successor.count() == G
        if cancel:
            box.job_cancel(id="j")
            assert box.named("BLOCK_JOB_CANCELLED")[0]["offset"] == MiB
        else:
            box.block_job_set_speed(device="j", speed=0)
            await until_gone(box)
            assert box.named("BLOCK_JOB_COMPLETED")[0]["len"] == 2 * MiB
        assert bitmap.count() // G == expected
        assert (bitmap.busy, bitmap.successor, bitmap.enabled) == (False, None, True)
        assert box.node("disk0").bitmaps == [bitmap]
    run(body)


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"sync": "incremental"}, "must provide a valid bitmap name for 'incremental' sync mode"),
        ({"sync": "bitmap"}, "must provide a valid bitmap name for 'bitmap' sync mode"),
        ({"sync": "incremental", "bitmap": "zz", "bitmap-mode": "never"},
         "Bitmap sync mode must be 'on-success' when using sync mode 'incremental'"),
        ({"sync": "incremental", "bitmap": "zz"}, "Bitmap 'zz' could not be found"),
        ({"sync": "bitmap", "bitmap": "b0"}, "Bitmap sync mode must be given when providing a bitmap"),
        ({"sync": "none", "bitmap": "b0", "bitmap-mode": "always"},
         "sync mode 'none' does not produce meaningful bitmap outputs"),
        ({"bitmap": "b0", "bitmap-mode": "never"},
         "Bitmap sync mode 'never' has no meaningful effect when combined with sync mode 'full'"),
        ({"bitmap-mode": "never"}, "Cannot specify bitmap sync mode without a bitmap"),
        ({"target": "disk0", "job-id": "bad id"}, "Source and target cannot be the same"),
        ({"compress": True}, "Compression is not supported for this drive "),
        ({"target": "small", "job-id": "bad id"}, "Source and target image have different sizes"),
        ({"job-id": "bad id", "speed": -1}, "Invalid job ID 'bad id'"),
        ({"job-id": None}, "Invalid job ID ''"),
        ({"speed": -1}, "Parameter 'speed' expects a non-negative value"),
        ({"target": "nowhere"}, "Cannot find device='nowhere' nor node-name='nowhere'"),
    ],
)
def test_validation_texts(tmp_path: Path, args: dict[str, Any], text: str) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks(small=MiB))
        bitmap = box.add_bitmap("disk0", "b0")
        wire = {"device": "disk0", "target": "t0", "sync": "full", "job-id": "j", **args}
        if wire["job-id"] is None:
            del wire["job-id"]
        with pytest.raises(QMPError) as err:
            box.blockdev_backup(qmp.BlockdevBackup.from_wire(wire))
        assert err.value.desc == text
        assert (bitmap.busy, bitmap.successor, box.jobs.jobs) == (False, None, [])
        assert box.node("disk0").before_write == []
    run(body)


def test_busy_bitmap_refuses_a_second_backup(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        bitmap = box.add_bitmap("disk0", "b0")
        bitmap.mark(0, 2 * MiB)
        box.backup(sync="incremental", bitmap="b0", speed=1)
        with pytest.raises(QMPError) as err:
            box.backup(target="t1", sync="incremental", bitmap="b0", **{"job-id": "k"})
        assert err.value.desc == (
            "Bitmap 'b0' is currently in use by another operation and cannot be used"
        )
        with pytest.raises(QMPError) as err:
            box.backup(device="t1", target="t0", **{"job-id": "k"})
        assert err.value.desc == "Node 't0' is busy: block device is in use by block job: backup"
        box.job_cancel(id="j")
        assert bitmap.count() == 2 * MiB and not bitmap.busy
    run(body)


# -- copy-before-write -----------------------------------------------------------------------


def test_writes_during_the_job_copy_old_data_first(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        original = box.file("disk0")
        box.backup(speed=1)
        await asyncio.sleep(0.05)
        disk = box.node("disk0")
        job = box.jobs.jobs[0]
        assert isinstance(job, BackupJob) and job.cbw is not None
        cbw_name = job.cbw.name
        assert cbw_name.startswith("#block")
        assert write_conflict(disk, "write -P 0x1 0 1") == (
            "Permission conflict on node 'disk0': permissions 'write' are both required by an"
            " unnamed block device (uses node 'disk0' as 'root' child) and unshared by node"
            f" '{cbw_name}' (uses node 'disk0' as 'file' child)."
        )
        assert write_conflict(disk, "read 0 1") is None
        assert write_conflict(box.node("t0"), "write 0 1") is None
        disk.write(3 * MiB, b"\xee" * G)
        info = box.query_block_jobs()[0]
        assert (info.offset, info.len, info.busy, info.speed) == (MiB + G, SIZE, False, 1)
        box.block_job_set_speed(device="j", speed=0)
        await until_gone(box)
        assert box.file("t0") == original
        assert write_conflict(disk, "write 0 1") is None
    run(body)


def test_sync_none_copies_only_overwritten_data(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        original = box.file("disk0")
        box.backup(sync="none")
        await asyncio.sleep(0.01)
        box.node("disk0").write(MiB, b"\x01" * 4096)
        box.job_cancel(id="j")
        target = box.file("t0")
        assert target[MiB:MiB + G] == original[MiB:MiB + G]
        assert target[:MiB] == bytes(MiB) and target[MiB + G:] == bytes(SIZE - MiB - G)
        assert box.named("BLOCK_JOB_CANCELLED") == [
            {"type": "backup", "device": "j", "len": SIZE, "offset": G, "speed": 0}
        ]
    run(body)


# -- transaction actions ----------------------------------------------------------------------


def test_aborted_transaction_drops_the_job_quietly(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        bitmap = box.add_bitmap("disk0", "b0")
        bitmap.mark(0, G)
        data = qmp.BlockdevBackup.from_wire({
            "device": "disk0", "target": "t0", "sync": "incremental", "bitmap": "b0", "job-id": "a",
        })

        def fail(tx: Transaction) -> None:
            raise QMPError("Transaction aborted using Abort action")

        tx = Transaction(TxProps(qmp.ActionCompletionMode.GROUPED))
        with pytest.raises(QMPError):
            tx.run([
                ("blockdev-backup", lambda t: prepare_blockdev_backup(box, data, t, t.props)),
                ("abort", fail),
            ])
        assert box.statuses("a") == ["created", "aborting", "concluded", "null"]
        assert [n for n, _ in box.events if n != "JOB_STATUS_CHANGE"] == []
        assert (bitmap.count(), bitmap.busy, bitmap.enabled) == (G, False, True)
        assert box.jobs.jobs == [] and box.node("disk0").before_write == []
    run(body)


def test_grouped_transaction_shares_one_job_txn(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks(disk1=SIZE))
        tx = Transaction(TxProps(qmp.ActionCompletionMode.GROUPED))
        steps = []
        for job_id, device, target in (("a", "disk0", "t0"), ("b", "disk1", "t1")):
            data = qmp.BlockdevBackup.from_wire(
                {"device": device, "target": target, "sync": "full", "job-id": job_id})
            steps.append(("blockdev-backup",
                          lambda t, d=data: prepare_blockdev_backup(box, d, t, t.props)))
        tx.run(steps)
        a, b = box.jobs.get("a"), box.jobs.get("b")
        assert a is not None and b is not None and a.txn is b.txn and a.txn is not None
        assert a.txn.jobs == [b, a]
        await until_gone(box, "a")
        await until_gone(box, "b")
        assert box.file("t0") == box.file("disk0")
    run(body)


# -- drive-backup -------------------------------------------------------------------------------


def test_drive_backup_creates_a_raw_target(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        target = tmp_path / "new.raw"
        nodes_before = list(box.graph.nodes)
        box.drive_backup(qmp.DriveBackup.from_wire({
            "device": "disk0", "target": str(target), "sync": "top", "job-id": "d",
        }))
        # the target (format over file) and the copy-before-write filter, newest last
        added = [n for n in box.graph.nodes if n not in nodes_before]
        assert [n.drv for n in added] == ["file", "raw", "copy-before-write"]
        assert added[2].file is box.node("disk0") and added[2].size == SIZE
        await until_gone(box, "d")
        assert target.read_bytes() == box.file("disk0")
        assert box.graph.nodes == nodes_before
        with pytest.raises(QMPError) as err:
            box.drive_backup(qmp.DriveBackup.from_wire({
                "device": "disk0", "target": str(tmp_path / "missing.raw"), "sync": "full",
                "mode": "existing", "format": "raw", "job-id": "e",
            }))
        assert err.value.desc == f"Could not open '{tmp_path / 'missing.raw'}': No such file or directory"
        with pytest.raises(QMPError) as err:
            box.drive_backup(qmp.DriveBackup.from_wire({
                "device": "disk0", "target": str(tmp_path / "x.img"), "sync": "full",
                "format": "vmdk", "job-id": "e",
            }))
        assert err.value.desc == "Unknown file format 'vmdk'"
        assert not os.path.exists(tmp_path / "x.img")
    run(body)


def test_shutdown_removes_an_unfinished_drive_backup_target(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        kept, dropped = tmp_path / "kept.raw", tmp_path / "dropped.raw"
        for path, job_id in ((kept, "k"), (dropped, "d")):
            box.drive_backup(qmp.DriveBackup.from_wire({
                "device": "disk0", "target": str(path), "sync": "full", "job-id": job_id,
                "speed": 1,
            }))
        await asyncio.sleep(0.05)
        box.job_cancel(id="k")  # a user's cancel leaves the file, as QEMU does
        assert kept.exists() and dropped.exists()
        await box.jobs.aclose()
        assert kept.exists() and not dropped.exists()
        assert box.statuses("d")[-3:] == ["aborting", "concluded", "null"]
    run(body)


def test_nothing_to_copy_finishes_before_the_command_returns(tmp_path: Path) -> None:
    async def body() -> None:
        box = Box(tmp_path, disks())
        box.add_bitmap("disk0", "b0")
        box.backup(sync="incremental", bitmap="b0")
        assert box.statuses() == ["created", "running", "waiting", "pending", "concluded", "null"]
        assert box.named("BLOCK_JOB_COMPLETED") == [
            {"type": "backup", "device": "j", "len": 0, "offset": 0, "speed": 0}
        ]
        # sync=top scans first, so it ends after the command (raw: all allocated)
        box.backup(sync="top", **{"job-id": "t"})
        assert box.statuses("t") == ["created", "running"]
        await until_gone(box, "t")
    run(body)
