"""Backup jobs: ``blockdev-backup``, ``drive-backup``, their transaction
actions, and the job commands (``JobCommands``, a mixin of ``Machine``).

The checks run in QEMU 7.2's order with its texts (spec B.4): first the
bitmap arguments (``do_backup_common``), then job creation
(``backup_job_create``: same node, compression, busy nodes, the bitmap's
successor, sizes, then the job id and the speed, the last one after the
job was already ``created``).

The job copies real bytes from the source node to the target node in
chunks of up to 1 MiB of contiguous to-be-copied clusters (64 KiB, or the
target's larger cluster size), as QEMU's block-copy does; the rate limit
is charged per chunk.  Writes to the source while the job runs first copy
the old data of clusters not yet copied (copy-before-write, through the
node's ``before_write`` hooks).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from qapigen import qmp
from qapigen.runtime.block import images
from qapigen.runtime.block.bitmaps import Bitmap
from qapigen.runtime.block.graph import Graph, Node
from qapigen.runtime.jobs import Job, JobManager, JobTxn, check_speed
from qapigen.runtime.transaction import Transaction, TxProps
from qapigen.support.errors import QMPError

M = qmp.MirrorSyncMode
B = qmp.BitmapSyncMode

#: QEMU's default backup cluster size (block-copy's minimum).
BACKUP_CLUSTER = 65536
#: block-copy's largest chunk when copying through a buffer.
MAX_CHUNK = 1 << 20


# -- the job ----------------------------------------------------------------------


@dataclass
class BackupPlan:
    """What one backup job copies, decided when the job is created."""

    sync: qmp.MirrorSyncMode  # after desugaring (incremental -> bitmap)
    bitmap: Bitmap | None
    bitmap_mode: qmp.BitmapSyncMode | None
    cluster: int


class BackupJob(Job):
    """One backup job (QEMU's ``backup`` job driver plus its block-copy
    state): ``todo`` is the copy bitmap, in clusters."""

    def __init__(
        self,
        manager: JobManager,
        job_id: str,
        source: Node,
        target: Node,
        plan: BackupPlan,
        *,
        auto_finalize: bool,
        auto_dismiss: bool,
        on_clean: Callable[[], None] | None = None,
        graph: Graph | None = None,
        cbw: Node | None = None,
    ) -> None:
        super().__init__(manager, job_id, auto_finalize=auto_finalize, auto_dismiss=auto_dismiss)
        self.graph = graph
        self.cbw = cbw
        self.source = source
        self.target = target
        self.plan = plan
        self.cluster = plan.cluster
        self.nclusters = -(-source.size // self.cluster)
        self.todo = self._initial_todo()
        self.progress_total = self._initial_len()
        self._on_clean = on_clean
        self._hooked = False
        self._last_copied = 0
        #: a drive-backup target file this job's command created
        self.created_file: str | None = None

    def _initial_todo(self) -> set[int]:
        plan = self.plan
        if plan.sync is M.BITMAP and plan.bitmap is not None:
            todo: set[int] = set()
            for offset, length in plan.bitmap.dirty_ranges():
                first = offset // self.cluster
                last = (offset + length - 1) // self.cluster
                todo.update(range(first, last + 1))
            return todo
        if plan.sync is M.TOP:
            return {
                c for c in range(self.nclusters)
                if self.source.allocated(c * self.cluster, self._cluster_len(c))
            }
        return set(range(self.nclusters))

    def _initial_len(self) -> int:
        if self.plan.sync is M.NONE or self.plan.sync is M.FULL:
            return self.source.size
        return sum(self._cluster_len(c) for c in self.todo)

    def has_work(self) -> bool:
        # sync=top first scans the allocation (QEMU yields there), so even
        # an empty scan ends after the reply; an empty bitmap does not.
        return self.plan.sync in (M.NONE, M.TOP) or bool(self.todo)

    def _cluster_len(self, index: int) -> int:
        return min(self.cluster, self.source.size - index * self.cluster)

    # -- copying -----------------------------------------------------------

    def _chunks(self) -> Iterator[tuple[int, int]]:
        """(first cluster, count) of each chunk still to copy, in order."""
        per_chunk = max(1, MAX_CHUNK // self.cluster)
        index = 0
        while index < self.nclusters:
            if index not in self.todo:
                index += 1
                continue
            first = index
            while index < self.nclusters and index in self.todo and index - first < per_chunk:
                index += 1
            yield first, index - first

    def _copy(self, first: int, count: int) -> bool:
        """Copy clusters [first, first+count) that are still to do; True
        when any of them held data (not zeroes)."""
        copied = 0
        had_data = False
        for index in range(first, first + count):
            if index not in self.todo:
                continue
            offset = index * self.cluster
            length = self._cluster_len(index)
            data = self.source.read(offset, length)
            if data.count(0) == length:
                self.target.write_zeroes(offset, length)
            else:
                self.target.write(offset, data)
                had_data = True
            self.todo.discard(index)
            copied += length
        self.progress_current += copied
        self._last_copied = copied
        return had_data

    def _before_write(self, offset: int, length: int) -> None:
        """Copy-before-write: save the old data of the clusters a write to
        the source is about to change."""
        if length <= 0 or self.deferred:
            return
        first = offset // self.cluster
        last = (offset + length - 1) // self.cluster
        for index in range(first, last + 1):
            if index in self.todo:
                self._copy(index, 1)

    def attach(self) -> None:
        if not self._hooked:
            self.source.before_write.append(self._before_write)
            self._hooked = True

    def detach(self) -> None:
        if self._hooked:
            self.source.before_write.remove(self._before_write)
            self._hooked = False

    async def run(self) -> None:
        if self.plan.sync is M.NONE:
            # Copy-before-write only, until cancelled.
            while not self.is_cancelled:
                await self.throttle()
                self.busy = False
                self._wake.clear()
                await self._wake.wait()
                self.busy = True
            return
        for first, count in self._chunks():
            await self.throttle()
            if self.is_cancelled:
                return
            had_data = self._copy(first, count)
            self.limit.delay_ns(self._last_copied)
            if had_data:
                # Real I/O yields; zero chunks are nearly free in QEMU
                # (block status), so a mostly empty disk finishes first.
                await asyncio.sleep(0)

    # -- finalisation (QEMU's backup_commit/abort/clean) -----------------------

    def _sync_bitmap(self, ret: int) -> None:
        bitmap = self.plan.bitmap
        if bitmap is None or bitmap.successor is None:
            return
        mode = self.plan.bitmap_mode
        sync = (ret == 0 or mode is B.ALWAYS) and mode is not B.NEVER
        if sync:
            bitmap.abdicate()
        else:
            bitmap.reclaim()
        if ret < 0 and mode is B.ALWAYS:
            for index in self.todo:
                bitmap.mark(index * self.cluster, self._cluster_len(index))

    def commit(self) -> None:
        self._sync_bitmap(0)

    def abort(self) -> None:
        self._sync_bitmap(self.ret or -1)

    def clean(self) -> None:
        self.detach()
        if self.cbw is not None and self.graph is not None:
            self.graph.remove_filter(self.cbw)
            self.cbw = None
        if self._on_clean is not None:
            self._on_clean()
            self._on_clean = None
        if self.created_file is not None and self.ret and self.manager.closing:
            # Shut down mid-copy: do not leave a half-written image behind
            # (QEMU would; see docs/serve.md).
            images.remove_file(self.created_file)
            self.created_file = None


def write_conflict(node: Node, command: str) -> str | None:
    """HMP ``qemu-io NODE "write ..."`` on a backup's source: QEMU 7.2
    refuses it, because the copy-before-write filter over the node does
    not share the write permission (writes through the device go through
    the filter instead, and get copied before they land)."""
    verb = command.split()[0] if command.split() else ""
    if verb not in ("write", "discard", "aio_write", "writev", "zone_append"):
        return None
    for hook in node.before_write:
        job = getattr(hook, "__self__", None)
        if isinstance(job, BackupJob) and job.source is node and job.cbw is not None:
            return (
                f"Permission conflict on node '{node.name}': permissions 'write' are both"
                f" required by an unnamed block device (uses node '{node.name}' as 'root'"
                f" child) and unshared by node '{job.cbw.name}' (uses node"
                f" '{node.name}' as 'file' child)."
            )
    return None


# -- creation -------------------------------------------------------------------------


def _blocked(jobs: JobManager, node: Node) -> bool:
    return any(
        isinstance(job, BackupJob) and job.target is node and job.status is not qmp.JobStatus.NULL
        for job in jobs.jobs
    )


def _supports_compression(node: Node) -> bool:
    return node.drv == "qcow2"


def _job_settings(args: qmp.BackupCommon) -> tuple[bool, bool, int]:
    auto_finalize = True if args.auto_finalize is None else args.auto_finalize
    auto_dismiss = True if args.auto_dismiss is None else args.auto_dismiss
    return auto_finalize, auto_dismiss, args.speed or 0


def check_bitmap_args(
    args: qmp.BackupCommon, source: Node
) -> tuple[qmp.MirrorSyncMode, Bitmap | None, qmp.BitmapSyncMode | None]:
    """QEMU 7.2's ``do_backup_common`` checks (spec B.4, steps 1-8)."""
    sync = args.sync
    mode = args.bitmap_mode
    if sync in (M.BITMAP, M.INCREMENTAL) and args.bitmap is None:
        raise QMPError(f"must provide a valid bitmap name for '{sync.value}' sync mode")
    if sync is M.INCREMENTAL:
        if mode is not None and mode is not B.ON_SUCCESS:
            raise QMPError(
                f"Bitmap sync mode must be 'on-success' when using sync mode '{sync.value}'"
            )
        sync, mode = M.BITMAP, B.ON_SUCCESS
    bitmap: Bitmap | None = None
    if args.bitmap is not None:
        bitmap = source.find_bitmap(args.bitmap)
        if bitmap is None:
            raise QMPError(f"Bitmap '{args.bitmap}' could not be found")
        if mode is None:
            raise QMPError("Bitmap sync mode must be given when providing a bitmap")
        bitmap.check(allow_ro=True)
        if sync is M.NONE:
            raise QMPError(f"sync mode '{sync.value}' does not produce meaningful bitmap outputs")
        if mode is B.NEVER and sync is not M.BITMAP:
            raise QMPError(
                f"Bitmap sync mode '{mode.value}' has no meaningful effect when combined"
                f" with sync mode '{sync.value}'"
            )
    if args.bitmap is None and mode is not None:
        raise QMPError("Cannot specify bitmap sync mode without a bitmap")
    return sync, bitmap, mode


def _keep_below_filter(target: Node, source: Node, cbw: Node) -> None:
    """QEMU does not re-point a parent of the source that the filter itself
    reaches (through its target child): that would make a loop.  So a
    drive-backup target with sync=none keeps the source as its backing."""
    seen: set[int] = set()
    todo = [target]
    while todo:
        node = todo.pop()
        if id(node) in seen or node is cbw:
            continue
        seen.add(id(node))
        if node.file is cbw:
            node.file = source
        if node.backing is cbw:
            node.backing = source
        todo.extend(node.children())


def create_backup_job(
    graph: Graph,
    jobs: JobManager,
    args: qmp.BackupCommon,
    source: Node,
    target: Node,
    txn: JobTxn | None,
    *,
    on_clean: Callable[[], None] | None = None,
    target_device: str = "",
) -> BackupJob:
    """Validate and create a backup job in status ``created`` (not started)."""
    sync, bitmap, mode = check_bitmap_args(args, source)
    if source is target:
        raise QMPError("Source and target cannot be the same")
    if args.compress and not _supports_compression(target):
        # QEMU names the target's BlockBackend here: "" for -blockdev nodes.
        raise QMPError(f"Compression is not supported for this drive {target_device}")
    for node in (source, target):
        if _blocked(jobs, node):
            raise QMPError(f"Node '{node.name}' is busy: block device is in use by block job: backup")
    if bitmap is not None:
        if mode is not B.NEVER:
            bitmap.check()
        bitmap.create_successor()
    cbw: Node | None = None
    try:
        if source.size != target.size:
            raise QMPError("Source and target image have different sizes")
        # QEMU now inserts its copy-before-write filter (an implicit node)
        cbw = graph.insert_filter(source, graph.next_implicit_name())
        _keep_below_filter(target, source, cbw)
        auto_finalize, auto_dismiss, speed = _job_settings(args)
        job_id = args.job_id if args.job_id is not None else ""
        target_cluster = target.cluster_size or 0
        plan = BackupPlan(sync, bitmap, mode, max(BACKUP_CLUSTER, target_cluster))
        jobs.check_id(job_id)
        job = BackupJob(
            jobs, job_id, source, target, plan,
            auto_finalize=auto_finalize, auto_dismiss=auto_dismiss, on_clean=on_clean,
            graph=graph, cbw=cbw,
        )
        jobs.register(job, txn, speed)
    except QMPError:
        if cbw is not None:
            graph.remove_filter(cbw)
        if bitmap is not None and bitmap.successor is not None:
            bitmap.reclaim()
        raise
    job.attach()
    return job


# -- drive-backup's target ----------------------------------------------------------


def _image_format(path: str) -> str:
    with open(path, "rb") as handle:
        return "qcow2" if handle.read(4) == b"QFI\xfb" else "raw"


def open_drive_target(graph: Graph, args: qmp.DriveBackup, source: Node) -> tuple[Node, list[Node]]:
    """Create (unless mode=existing) and open drive-backup's target as
    QEMU does: two implicit nodes (format over file).  Returns the format
    node and every node opened, for the caller to drop at clean."""
    mode = args.mode or qmp.NewImageMode.ABSOLUTE_PATHS
    fmt = args.format
    if fmt is None and mode is not qmp.NewImageMode.EXISTING:
        fmt = source.drv
    backing: Node | None = None
    if args.sync is M.TOP:
        backing = source.backing
    if args.sync is M.NONE:
        backing = source
    if mode is not qmp.NewImageMode.EXISTING:
        assert fmt is not None
        if fmt not in ("qcow2", "raw"):
            raise QMPError(f"Unknown file format '{fmt}'")
        try:
            if fmt == "qcow2":
                images.create_qcow2(
                    args.target, source.size,
                    backing_file=backing.filename() if backing is not None else None,
                    backing_format=backing.drv if backing is not None else None,
                )
            else:
                images.create_raw(args.target, source.size)
        except OSError as err:
            raise QMPError(f"Could not create '{args.target}': {os.strerror(err.errno or 0)}") from err
    if not os.path.exists(args.target):
        raise QMPError(f"Could not open '{args.target}': No such file or directory")
    if fmt is None:
        fmt = _image_format(args.target)
    if fmt not in ("qcow2", "raw"):
        raise QMPError(f"Unknown driver '{fmt}'")
    # QEMU opens drive-backup's target with discard=unmap (inherited by the
    # file child) and detect-zeroes=unmap.
    options = qmp.BlockdevOptions_from_wire(
        {"driver": fmt, "discard": "unmap", "detect-zeroes": "unmap",
         "file": {"driver": "file", "filename": args.target, "discard": "unmap"},
         **({"backing": None} if fmt == "qcow2" else {})}
    )
    before = list(graph.nodes)
    node = graph.open_blockdev(options, implicit=True)
    header = node.header
    if args.sync is M.NONE:
        # QEMU opens it without its backing file, then attaches the source.
        node.backing = source
    elif header is not None and header.backing_file:
        # QEMU names the target before it opens the backing chain the
        # header names, so the chain's nodes are newer.
        node.backing = graph.open_backing_file(header.backing_file, header.backing_format)
    opened = [n for n in graph.nodes if n not in before]
    return node, opened


# -- transaction actions ----------------------------------------------------------------


def _job_txn(props: TxProps) -> JobTxn | None:
    """The JobTxn shared by the backups of one grouped transaction (kept
    in the transaction's properties until the transaction is over)."""
    if not props.grouped:
        return None
    txn = props.extra.get("job_txn")
    if not isinstance(txn, JobTxn):
        txn = JobTxn()
        props.extra["job_txn"] = txn
    return txn


def _register_job_actions(tx: Transaction, holder: list[BackupJob]) -> None:
    """Commit starts the job; abort cancels it synchronously (a job that
    never started goes created -> aborting -> concluded -> null quietly
    and its sync bitmap is reclaimed)."""
    def commit() -> None:
        if holder:
            holder[0].start()

    def abort() -> None:
        if holder:
            holder[0].cancel_sync()

    def finished(committed: bool) -> None:
        if committed and holder:
            holder[0].finish_idle()

    tx.add(commit=commit, abort=abort)
    tx.finish_hooks.append(finished)


def prepare_blockdev_backup(
    machine: Any, data: qmp.BlockdevBackup, tx: Transaction, props: TxProps
) -> None:
    holder: list[BackupJob] = []
    _register_job_actions(tx, holder)
    holder.append(machine.backup_prepare_blockdev(data, _job_txn(props)))


def prepare_drive_backup(
    machine: Any, data: qmp.DriveBackup, tx: Transaction, props: TxProps
) -> None:
    holder: list[BackupJob] = []
    _register_job_actions(tx, holder)
    holder.append(machine.backup_prepare_drive(data, _job_txn(props)))


def register_actions(registry: dict[str, Any]) -> None:
    """Add the two backup actions to the transaction engine's registry."""
    registry["blockdev-backup"] = prepare_blockdev_backup
    registry["drive-backup"] = prepare_drive_backup


# -- the commands ----------------------------------------------------------------------------


class JobCommands:
    """The job and backup commands; ``Machine`` inherits them and must set
    ``self.graph`` and ``self.jobs`` (a :class:`JobManager`)."""

    graph: Graph
    jobs: JobManager

    # helpers used by the commands and the transaction actions

    def backup_prepare_blockdev(self, data: qmp.BlockdevBackup, txn: JobTxn | None) -> BackupJob:
        source = self.graph.lookup_bs(data.device, data.device)
        target = self.graph.lookup_bs(data.target, data.target)
        return create_backup_job(self.graph, self.jobs, data, source, target, txn)

    def backup_prepare_drive(self, data: qmp.DriveBackup, txn: JobTxn | None) -> BackupJob:
        source = self.graph.lookup_bs(data.device, data.device)
        if _blocked(self.jobs, source):
            raise QMPError(
                f"Node '{source.name}' is busy: block device is in use by block job: backup"
            )
        sync = data.sync
        if sync is M.TOP and source.backing is None:
            sync = M.FULL
        target, opened = open_drive_target(self.graph, data, source)
        graph = self.graph

        def drop() -> None:
            for node in reversed(opened):
                graph.remove_node(node)
                node.close()

        args = data
        if sync is not data.sync:
            args = qmp.DriveBackup.from_wire({**data.to_wire(), "sync": sync.value})
        try:
            job = create_backup_job(
                self.graph, self.jobs, args, source, target, txn, on_clean=drop
            )
        except QMPError:
            drop()
            raise
        if (data.mode or qmp.NewImageMode.ABSOLUTE_PATHS) is not qmp.NewImageMode.EXISTING:
            job.created_file = data.target
        return job

    # commands

    def blockdev_backup(self, arguments: qmp.BlockdevBackup) -> None:
        job = self.backup_prepare_blockdev(arguments, None)
        job.start()
        job.finish_idle()

    def drive_backup(self, arguments: qmp.DriveBackup) -> None:
        job = self.backup_prepare_drive(arguments, None)
        job.start()
        job.finish_idle()

    def job_pause(self, *, id: str) -> None:
        self.jobs.find(id).user_pause()

    def job_resume(self, *, id: str) -> None:
        self.jobs.find(id).user_resume()

    def job_cancel(self, *, id: str) -> None:
        job = self.jobs.find(id)
        job.apply_verb(qmp.JobVerb.CANCEL)
        job.cancel(force=True)

    def job_complete(self, *, id: str) -> None:
        self.jobs.find(id).complete()

    def job_dismiss(self, *, id: str) -> None:
        self.jobs.find(id).dismiss()

    def job_finalize(self, *, id: str) -> None:
        self.jobs.find(id).finalize()

    def query_jobs(self) -> list[qmp.JobInfo]:
        return self.jobs.query_jobs()

    def query_block_jobs(self) -> list[qmp.BlockJobInfo]:
        return self.jobs.query_block_jobs()

    def block_job_cancel(self, *, device: str, force: bool | None = None) -> None:
        job = self.jobs.find_block_job(device)
        if job.user_paused and not force:
            raise QMPError(f"The block job for device '{device}' is currently paused")
        job.apply_verb(qmp.JobVerb.CANCEL)
        job.cancel(force=bool(force))

    def block_job_set_speed(self, *, device: str, speed: int) -> None:
        self.jobs.find_block_job(device).set_speed(speed)


__all__ = [
    "BackupJob",
    "JobCommands",
    "check_bitmap_args",
    "check_speed",
    "create_backup_job",
    "register_actions",
]
