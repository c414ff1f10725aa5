"""Jobs as QEMU 7.2 runs them (spec C.1, C.2, C.5).

The logic follows QEMU's ``job.c`` step by step, because the observable
order of ``JOB_STATUS_CHANGE`` and ``BLOCK_JOB_*`` events falls out of it:

* every job belongs to a :class:`JobTxn`; a job created outside a grouped
  transaction gets a transaction of its own.  QEMU inserts jobs at the
  *head* of the transaction's list, so a group finalises its newest job
  first (7.2 verified: of ``[ja, jb]``, ``jb`` completes first);
* a job's work is an asyncio task (:meth:`Job.run`); when it ends the job
  is *completed*: on success it waits for its group, then every job goes
  ``pending`` together and finalises; on failure or cancel the whole group
  is aborted (the other jobs are force-cancelled) and every job finalises
  with ``abort``;
* completion events (``BLOCK_JOB_COMPLETED`` / ``BLOCK_JOB_CANCELLED``) are
  only emitted for jobs that started: a job created by a transaction that
  is then aborted goes ``created -> aborting -> concluded -> null`` quietly.

Drivers (the backup job) subclass :class:`Job` and override ``run`` and the
``prepare``/``commit``/``abort``/``clean`` finalisation hooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import time
import traceback
from collections.abc import Callable

from qapigen import qmp
from qapigen.support.errors import QMPError
from qapigen.support.events import WireEvent

S = qmp.JobStatus
V = qmp.JobVerb

#: Spec C.1: the statuses each status may change to.
TRANSITIONS: dict[qmp.JobStatus, frozenset[qmp.JobStatus]] = {
    S.UNDEFINED: frozenset({S.CREATED}),
    S.CREATED: frozenset({S.RUNNING, S.ABORTING, S.NULL}),
    S.RUNNING: frozenset({S.PAUSED, S.READY, S.WAITING, S.ABORTING}),
    S.PAUSED: frozenset({S.RUNNING}),
    S.READY: frozenset({S.STANDBY, S.WAITING, S.ABORTING}),
    S.STANDBY: frozenset({S.READY}),
    S.WAITING: frozenset({S.PENDING, S.ABORTING}),
    S.PENDING: frozenset({S.ABORTING, S.CONCLUDED}),
    S.ABORTING: frozenset({S.ABORTING, S.CONCLUDED}),
    S.CONCLUDED: frozenset({S.NULL}),
    S.NULL: frozenset(),
}

_ACTIVE = frozenset({S.CREATED, S.RUNNING, S.PAUSED, S.READY, S.STANDBY})

#: Spec C.1: the statuses in which each verb is accepted (7.2: complete
#: only in ready).
VERBS: dict[qmp.JobVerb, frozenset[qmp.JobStatus]] = {
    V.CANCEL: _ACTIVE | {S.WAITING, S.PENDING},
    V.PAUSE: _ACTIVE,
    V.RESUME: _ACTIVE,
    V.SET_SPEED: _ACTIVE,
    V.COMPLETE: frozenset({S.READY}),
    V.FINALIZE: frozenset({S.PENDING}),
    V.DISMISS: frozenset({S.CONCLUDED}),
}

#: Statuses in which a job's work is over (QEMU's job_is_completed).
_COMPLETED = frozenset({S.WAITING, S.PENDING, S.ABORTING, S.CONCLUDED, S.NULL})

ECANCELED = errno.ECANCELED


def id_wellformed(job_id: str) -> bool:
    """QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'."""
    if not job_id or not job_id[0].isascii() or not job_id[0].isalpha():
        return False
    return all(c.isascii() and (c.isalnum() or c in "-._") for c in job_id[1:])


def check_speed(speed: int) -> None:
    if speed < 0:
        raise QMPError("Parameter 'speed' expects a non-negative value")


class RateLimit:
    """QEMU's ratelimit.h: byte quotas per 100 ms slice.

    With ``speed=1`` the first chunk goes through at once (nothing was
    dispatched in the slice yet) and the next one waits about
    ``chunk / speed`` seconds, which is how tests keep a job running.
    """

    SLICE_NS = 100_000_000

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock = clock
        self.slice_quota = 0.0
        self.slice_start = 0
        self.slice_end = 0
        self.dispatched = 0

    def set_speed(self, speed: int) -> None:
        self.slice_quota = max(speed * self.SLICE_NS / 1e9, 1.0) if speed else 0.0

    def delay_ns(self, n: int) -> int:
        """Charge *n* bytes; return how long to wait before the next chunk."""
        if not self.slice_quota:
            return 0
        now = self._clock()
        if self.slice_end < now:
            self.slice_start = now
            self.slice_end = now + self.SLICE_NS
            self.dispatched = 0
        self.dispatched += n
        if self.dispatched < self.slice_quota:
            return 0
        slices = self.dispatched / self.slice_quota
        self.slice_end = self.slice_start + int(slices * self.SLICE_NS)
        return self.slice_end - now


class JobTxn:
    """A group of jobs that complete together (one per job outside grouped
    transactions).  ``jobs`` is in QEMU's list order: newest first."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.aborting = False

    def add(self, job: Job) -> None:
        self.jobs.insert(0, job)
        job.txn = self

    def remove(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        job.txn = None


class JobFailed(Exception):
    """Raised by :meth:`Job.run` when the job's work fails; ``errno`` is
    what QEMU would put in ``job->ret`` (negated)."""

    def __init__(self, err: int = errno.EIO) -> None:
        super().__init__(os.strerror(err))
        self.errno = err


class Job:
    """One job: its status, verbs and completion (QEMU's ``Job``)."""

    job_type = qmp.JobType.BACKUP
    #: QEMU's backup driver turns every cancel into a forced one (its
    #: ``cancel`` callback returns true), so ``block-job-cancel`` without
    #: ``force`` cancels a waiting or pending job too (7.2 verified).
    cancel_forces = True

    def __init__(
        self,
        manager: JobManager,
        job_id: str,
        *,
        auto_finalize: bool = True,
        auto_dismiss: bool = True,
    ) -> None:
        self.manager = manager
        self.id = job_id
        self.status = S.UNDEFINED
        self.auto_finalize = auto_finalize
        self.auto_dismiss = auto_dismiss
        self.txn: JobTxn | None = None
        self.speed = 0
        self.limit = RateLimit()
        self.progress_current = 0
        self.progress_total = 0
        self.ret = 0
        self.err: str | None = None
        self.cancelled = False
        self.force_cancel = False
        self.started = False
        #: the run task has ended (QEMU's deferred_to_main_loop)
        self.deferred = False
        self.busy = False
        self.user_paused = False
        self.pause_count = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()

    def __repr__(self) -> str:
        return f"Job({self.id!r}, {self.status.value})"

    # -- driver hooks ---------------------------------------------------------

    async def run(self) -> None:
        """The job's work; raise :class:`JobFailed` on an I/O error."""

    def prepare(self) -> int:
        return 0

    def commit(self) -> None:
        """Finalisation after success (whole group succeeded)."""

    def abort(self) -> None:
        """Finalisation after failure or cancel."""

    def clean(self) -> None:
        """Finalisation in either case, after commit or abort."""

    def on_cancel(self) -> None:
        """Called when a cancel is requested (QEMU's driver ``cancel``)."""

    # -- state ------------------------------------------------------------------

    def transition(self, new: qmp.JobStatus) -> None:
        if new not in TRANSITIONS[self.status]:
            raise AssertionError(f"job {self.id}: illegal transition {self.status.value} -> {new.value}")
        old, self.status = self.status, new
        if old is not new and self.id:
            self.manager.emit(qmp.JobStatusChange(id=self.id, status=new))

    def apply_verb(self, verb: qmp.JobVerb) -> None:
        if self.status not in VERBS[verb]:
            raise QMPError(
                f"Job '{self.id}' in state '{self.status.value}' cannot accept"
                f" command verb '{verb.value}'"
            )

    @property
    def completed(self) -> bool:
        return self.status in _COMPLETED

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled and self.force_cancel

    @property
    def paused(self) -> bool:
        return self.pause_count > 0

    def set_speed(self, speed: int) -> None:
        self.apply_verb(V.SET_SPEED)
        check_speed(speed)
        old, self.speed = self.speed, speed
        self.limit.set_speed(speed)
        if speed and speed <= old:
            return
        self._wake.set()

    # -- running ------------------------------------------------------------------

    def has_work(self) -> bool:
        """False when the job has nothing at all to do; QEMU then finishes
        it before the command that started it returns."""
        return True

    def start(self) -> None:
        """QEMU's job_start: ``running``, and the work begins as a task."""
        self.started = True
        self.busy = True
        self.transition(S.RUNNING)
        if self.has_work():
            self._task = asyncio.get_running_loop().create_task(self._co_entry())

    def finish_idle(self) -> None:
        """Complete a started job that had nothing to do.  Called once the
        starting command (or transaction) is done: QEMU's job coroutine
        returns at once and its completion runs in the drain that ends the
        command, before the reply."""
        if self.started and self._task is None and not self.deferred:
            self.deferred = True
            self._exit()

    async def _co_entry(self) -> None:
        try:
            await self.pause_point()
            if not self.is_cancelled:
                await self.run()
        except asyncio.CancelledError:
            return
        except JobFailed as failure:
            self.ret = -failure.errno
        except OSError as err:  # the host file failed: an I/O error, as in QEMU
            # on-*-error=report (the default): the error event, then abort
            self.manager.emit(qmp.BlockJobError(
                device=self.id, operation=qmp.IoOperationType.WRITE,
                action=qmp.BlockErrorAction.REPORT,
            ))
            self.ret = -(err.errno or errno.EIO)
        except Exception:  # a bug: fail the job rather than leave it running
            traceback.print_exc(file=sys.stderr)
            self.ret = -errno.EIO
        if self.deferred:
            return
        self.deferred = True
        self._task = None
        self._exit()

    async def pause_point(self) -> None:
        """Where a user pause takes effect (QEMU's job_pause_point)."""
        while self.pause_count > 0 and not self.is_cancelled:
            self.busy = False
            self._resumed.clear()
            if self.status is S.RUNNING:
                self.transition(S.PAUSED)
            await self._resumed.wait()
        if self.status is S.PAUSED:
            self.transition(S.RUNNING)
        self.busy = True

    async def throttle(self) -> None:
        """Sleep as long as the speed limit says before the next chunk (a
        speed change or a cancel wakes the job early)."""
        while not self.is_cancelled:
            delay = self.limit.delay_ns(0)
            if delay <= 0:
                break
            self.busy = False
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay / 1e9)
            self.busy = True
            await self.pause_point()
        await self.pause_point()

    def _stop_run(self) -> None:
        """End the work now, as QEMU's cancelled coroutine returns at its
        next yield; the caller then completes the job."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.deferred = True

    def _exit(self) -> None:
        """QEMU's job_exit (the bottom half after the work ended)."""
        self.busy = False
        self._completed()

    # -- completion (QEMU's job_completed and friends) ------------------------

    def _update_rc(self) -> None:
        if not self.ret and self.is_cancelled:
            self.ret = -ECANCELED
        if self.ret:
            if self.err is None:
                self.err = os.strerror(-self.ret)
            self.transition(S.ABORTING)

    def _completed(self) -> None:
        self._update_rc()
        if self.ret:
            self._txn_abort()
        else:
            self._txn_success()

    def _txn_success(self) -> None:
        self.transition(S.WAITING)
        txn = self._txn()
        if any(not job.completed for job in txn.jobs):
            return
        for job in list(txn.jobs):
            job.transition(S.PENDING)
            if not job.auto_finalize:
                job.manager.emit(qmp.BlockJobPending(type=job.job_type, id=job.id))
        if all(job.auto_finalize for job in txn.jobs):
            self._do_finalize()

    def _do_finalize(self) -> None:
        txn = self._txn()
        for job in list(txn.jobs):
            if job.ret == 0:
                job.ret = job.prepare()
                job._update_rc()
            if job.ret:
                self._txn_abort()
                return
        for job in list(txn.jobs):
            job._finalize_single()

    def _txn_abort(self) -> None:
        txn = self._txn()
        if txn.aborting:
            return
        txn.aborting = True
        for other in list(txn.jobs):
            if other is not self:
                other._cancel_async(force=True)
        while txn.jobs:
            other = txn.jobs[0]
            if not other.completed:
                other._finish_sync()
            other._finalize_single()

    def _finish_sync(self) -> None:
        """Wait for a cancelled job's work to end: in the model the work
        stops at once and the job completes (its own txn abort is a no-op
        because the group is already aborting)."""
        if self.started:
            self._stop_run()
            self._exit()
        else:
            self._completed()

    def _finalize_single(self) -> None:
        self._update_rc()
        if not self.ret:
            self.commit()
        else:
            self.abort()
        self.clean()
        if self.started:
            info = self.manager
            if self.is_cancelled:
                info.emit(
                    qmp.BlockJobCancelled(
                        type=self.job_type,
                        device=self.id,
                        len=self.progress_total,
                        offset=self.progress_current,
                        speed=self.speed,
                    )
                )
            else:
                info.emit(
                    qmp.BlockJobCompleted(
                        type=self.job_type,
                        device=self.id,
                        len=self.progress_total,
                        offset=self.progress_current,
                        speed=self.speed,
                        error=self.err if self.ret else None,
                    )
                )
        if self.txn is not None:
            self.txn.remove(self)
        self._conclude()

    def _conclude(self) -> None:
        self.transition(S.CONCLUDED)
        if self.auto_dismiss or not self.started:
            self._do_dismiss()

    def _do_dismiss(self) -> None:
        self.busy = False
        self.pause_count = 0
        self.user_paused = False
        self.deferred = True
        if self.txn is not None:
            self.txn.remove(self)
        self.transition(S.NULL)
        self.manager.forget(self)

    def _txn(self) -> JobTxn:
        if self.txn is None:
            self.txn = JobTxn()
            self.txn.add(self)
        return self.txn

    # -- cancel ---------------------------------------------------------------

    def _cancel_async(self, *, force: bool) -> None:
        self.on_cancel()
        force = force or self.cancel_forces
        if self.user_paused:
            self.user_paused = False
            self.pause_count = max(0, self.pause_count - 1)
        if force or not self.deferred:
            self.cancelled = True
            self.force_cancel |= force
        self._resumed.set()
        self._wake.set()

    def cancel(self, *, force: bool) -> None:
        """QEMU's job_cancel (after the verb check)."""
        if self.status is S.CONCLUDED:
            self._do_dismiss()
            return
        was_user_paused = self.user_paused and self.status is S.PAUSED
        self._cancel_async(force=force)
        if not self.started:
            self._completed()
        elif self.deferred:
            if self.is_cancelled:
                self._txn_abort()
        else:
            if was_user_paused:
                self.transition(S.RUNNING)
            # The work notices the cancel at its current yield (a rate-limit
            # sleep or between chunks) and the job completes before the
            # reply, as QEMU 7.2 does for a job that is not in the middle
            # of an I/O request.
            self._stop_run()
            self._exit()

    def cancel_sync(self) -> None:
        """QEMU's job_cancel_sync(force): used by an aborted transaction."""
        if self.status in (S.CONCLUDED, S.NULL):
            return
        self.cancel(force=True)
        if not self.completed and self.started:
            self._stop_run()
            self._exit()

    # -- user verbs ---------------------------------------------------------------

    def user_pause(self) -> None:
        self.apply_verb(V.PAUSE)
        if self.user_paused:
            raise QMPError("Job is already paused")
        self.user_paused = True
        self.pause_count += 1
        if self.started and not self.deferred and self.status is S.RUNNING:
            # The job reaches its pause point at once (it sleeps in the
            # rate limit or between chunks).
            self.busy = False
            self._resumed.clear()
            self._wake.set()
            self.transition(S.PAUSED)

    def user_resume(self) -> None:
        if not self.user_paused or self.pause_count <= 0:
            raise QMPError("Can't resume a job that was not paused")
        self.apply_verb(V.RESUME)
        self.user_paused = False
        self.pause_count -= 1
        if self.pause_count == 0:
            if self.status is S.PAUSED:
                self.transition(S.RUNNING)
            self._resumed.set()

    def finalize(self) -> None:
        self.apply_verb(V.FINALIZE)
        self._do_finalize()

    def dismiss(self) -> None:
        self.apply_verb(V.DISMISS)
        self._do_dismiss()

    def complete(self) -> None:
        self.apply_verb(V.COMPLETE)
        raise QMPError(f"The active block job '{self.id}' cannot be completed")

    # -- queries ------------------------------------------------------------------

    def job_info(self) -> qmp.JobInfo:
        return qmp.JobInfo(
            id=self.id,
            type=self.job_type,
            status=self.status,
            current_progress=self.progress_current,
            total_progress=self.progress_total,
            error=self.err if self.ret else None,
        )

    def block_job_info(self) -> qmp.BlockJobInfo:
        return qmp.BlockJobInfo(
            type=self.job_type.value,
            device=self.id,
            len=self.progress_total,
            offset=self.progress_current,
            busy=self.busy and not self.deferred,
            paused=self.paused,
            speed=self.speed,
            io_status=qmp.BlockDeviceIoStatus.OK,
            ready=False,
            status=self.status,
            auto_finalize=self.auto_finalize,
            auto_dismiss=self.auto_dismiss,
            error=self.err if self.ret else None,
        )


class JobManager:
    """Every job of the machine, by id, in creation order (query-jobs lists
    the newest first, as QEMU's job list does)."""

    def __init__(self, emit: Callable[[WireEvent], None]) -> None:
        self.emit = emit
        self.jobs: list[Job] = []
        #: set by :meth:`aclose`: jobs cancelled now are cancelled by shutdown
        self.closing = False

    def get(self, job_id: str) -> Job | None:
        for job in self.jobs:
            if job.id == job_id:
                return job
        return None

    def check_id(self, job_id: str) -> None:
        """QEMU's job_create checks, before the job exists."""
        if not id_wellformed(job_id):
            raise QMPError(f"Invalid job ID '{job_id}'")
        if self.get(job_id) is not None:
            raise QMPError(f"Job ID '{job_id}' already in use")

    def register(self, job: Job, txn: JobTxn | None, speed: int) -> None:
        """Make *job* known and ``created``; with a negative speed QEMU has
        already emitted ``created`` and drops the job again (``null``)."""
        self.check_id(job.id)
        self.jobs.append(job)
        job.transition(S.CREATED)
        (txn if txn is not None else JobTxn()).add(job)
        try:
            job.set_speed(speed)
        except QMPError:
            job._do_dismiss()
            raise

    def forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)

    def find(self, job_id: str) -> Job:
        """The job-* commands' lookup."""
        job = self.get(job_id)
        if job is None:
            raise QMPError("Job not found")
        return job

    def find_block_job(self, device: str) -> Job:
        """The block-job-* commands' lookup."""
        job = self.get(device)
        if job is None:
            raise QMPError(f"Block job '{device}' not found", "DeviceNotActive")
        return job

    def query_jobs(self) -> list[qmp.JobInfo]:
        return [job.job_info() for job in reversed(self.jobs)]

    def query_block_jobs(self) -> list[qmp.BlockJobInfo]:
        return [job.block_job_info() for job in reversed(self.jobs)]

    async def aclose(self) -> None:
        """Shut down: cancel every job and let it finalise (QEMU's
        job_cancel_sync_all at exit)."""
        self.closing = True
        for job in list(self.jobs):
            if job.status not in (S.CONCLUDED, S.NULL):
                job.cancel_sync()
