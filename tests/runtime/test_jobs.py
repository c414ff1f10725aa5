"""The job state machine (qapigen/runtime/jobs.py), driven directly.

A fake job driver whose work the test controls stands in for the backup
job, so each path's event order (spec C.1, C.2, C.5) is asserted exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from qapigen import qmp
from qapigen.runtime.jobs import (
    TRANSITIONS,
    VERBS,
    Job,
    JobFailed,
    JobManager,
    JobTxn,
    RateLimit,
    id_wellformed,
)
from qapigen.support.errors import QMPError

S = qmp.JobStatus


def run(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro())


class Recorder:
    """Collects events as compact tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def __call__(self, event: Any) -> None:
        data = event.to_wire()
        if event.NAME == "JOB_STATUS_CHANGE":
            self.events.append((data["id"], data["status"]))
        elif event.NAME == "BLOCK_JOB_PENDING":
            self.events.append((data["id"], "PENDING-EVENT"))
        elif event.NAME == "BLOCK_JOB_ERROR":
            self.events.append((data["device"], "ERROR", data["operation"], data["action"]))
        else:
            extra = (data["error"],) if "error" in data else ()
            self.events.append(
                (data["device"], event.NAME, str(data["len"]), str(data["offset"]),
                 str(data["speed"]), *extra)
            )

    def take(self) -> list[tuple[str, ...]]:
        out, self.events = self.events, []
        return out


class FakeJob(Job):
    """Work that ends when the test says: ``finish()`` or ``fail()``."""

    def __init__(self, manager: JobManager, job_id: str, **kwargs: Any) -> None:
        super().__init__(manager, job_id, **kwargs)
        self.progress_total = 100
        self.gate = asyncio.Event()
        self.failure: int | None = None
        self.calls: list[str] = []

    async def run(self) -> None:
        await self.gate.wait()
        self.progress_current = self.progress_total
        if self.failure is not None:
            raise JobFailed(self.failure)

    def finish(self) -> None:
        self.gate.set()

    def fail(self, err: int = 5) -> None:
        self.failure = err
        self.gate.set()

    def commit(self) -> None:
        self.calls.append("commit")

    def abort(self) -> None:
        self.calls.append("abort")

    def clean(self) -> None:
        self.calls.append("clean")


def make(
    rec: Recorder, job_id: str = "j0", txn: JobTxn | None = None, speed: int = 0,
    manager: JobManager | None = None, **kwargs: Any,
) -> tuple[JobManager, FakeJob]:
    manager = manager or JobManager(rec)
    job = FakeJob(manager, job_id, **kwargs)
    manager.register(job, txn, speed)
    return manager, job


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


# -- tables and texts ----------------------------------------------------------------


def test_transition_table_is_spec_c1() -> None:
    table = {k.value: sorted(v.value for v in vs) for k, vs in TRANSITIONS.items()}
    assert table == {
        "undefined": ["created"],
        "created": ["aborting", "null", "running"],
        "running": ["aborting", "paused", "ready", "waiting"],
        "paused": ["running"],
        "ready": ["aborting", "standby", "waiting"],
        "standby": ["ready"],
        "waiting": ["aborting", "pending"],
        "pending": ["aborting", "concluded"],
        "aborting": ["aborting", "concluded"],
        "concluded": ["null"],
        "null": [],
    }


def test_verb_table_is_spec_c1() -> None:
    active = ["created", "paused", "ready", "running", "standby"]
    table = {k.value: sorted(v.value for v in vs) for k, vs in VERBS.items()}
    assert table == {
        "cancel": sorted([*active, "pending", "waiting"]),
        "pause": active,
        "resume": active,
        "set-speed": active,
        "complete": ["ready"],
        "finalize": ["pending"],
        "dismiss": ["concluded"],
    }


def test_verb_violation_text() -> None:
    rec = Recorder()
    _, job = make(rec, "j4")
    job.status = S.PENDING
    with pytest.raises(QMPError) as err:
        job.apply_verb(qmp.JobVerb.DISMISS)
    assert err.value.desc == "Job 'j4' in state 'pending' cannot accept command verb 'dismiss'"


def test_illegal_transition_is_a_bug() -> None:
    rec = Recorder()
    _, job = make(rec)
    with pytest.raises(AssertionError):
        job.transition(S.CONCLUDED)


def test_same_status_emits_nothing_and_no_id_emits_nothing() -> None:
    rec = Recorder()
    manager, job = make(rec)
    job.transition(S.ABORTING)
    job.transition(S.ABORTING)
    anon = FakeJob(manager, "")
    anon.transition(S.CREATED)
    assert rec.take() == [("j0", "created"), ("j0", "aborting")]


@pytest.mark.parametrize(
    ("job_id", "ok"),
    [("j0", True), ("a.b-c_d", True), ("", False), ("0abc", False), ("bad id", False),
     ("é", False), ("-x", False)],
)
def test_id_wellformed(job_id: str, ok: bool) -> None:
    assert id_wellformed(job_id) is ok


def test_job_id_errors() -> None:
    rec = Recorder()
    manager, _ = make(rec, "j0")
    for job_id, text in [("", "Invalid job ID ''"), ("bad id", "Invalid job ID 'bad id'"),
                         ("j0", "Job ID 'j0' already in use")]:
        with pytest.raises(QMPError) as err:
            manager.check_id(job_id)
        assert err.value.desc == text


def test_negative_speed_created_then_null() -> None:
    rec = Recorder()
    manager = JobManager(rec)
    with pytest.raises(QMPError) as err:
        make(rec, "js", speed=-1, manager=manager)
    assert err.value.desc == "Parameter 'speed' expects a non-negative value"
    assert rec.take() == [("js", "created"), ("js", "null")]
    assert manager.jobs == []


def test_lookup_errors() -> None:
    manager = JobManager(Recorder())
    with pytest.raises(QMPError) as err:
        manager.find("x")
    assert (err.value.desc, err.value.error_class) == ("Job not found", "GenericError")
    with pytest.raises(QMPError) as err:
        manager.find_block_job("x")
    assert (err.value.desc, err.value.error_class) == ("Block job 'x' not found", "DeviceNotActive")


# -- single jobs ---------------------------------------------------------------------


def test_success_event_order() -> None:
    async def body() -> None:
        rec = Recorder()
        manager, job = make(rec)
        job.start()
        await settle()
        assert manager.query_jobs()[0].status is S.RUNNING
        job.finish()
        await settle()
        assert rec.take() == [
            ("j0", "created"), ("j0", "running"), ("j0", "waiting"), ("j0", "pending"),
            ("j0", "BLOCK_JOB_COMPLETED", "100", "100", "0"),
            ("j0", "concluded"), ("j0", "null"),
        ]
        assert job.calls == ["commit", "clean"]
        assert manager.jobs == []
    run(body)


def test_auto_finalize_false_waits_for_finalize() -> None:
    async def body() -> None:
        rec = Recorder()
        _manager, job = make(rec, auto_finalize=False)
        job.start()
        job.finish()
        await settle()
        assert rec.take()[-3:] == [("j0", "waiting"), ("j0", "pending"), ("j0", "PENDING-EVENT")]
        with pytest.raises(QMPError):
            job.dismiss()
        job.finalize()
        assert rec.take() == [
            ("j0", "BLOCK_JOB_COMPLETED", "100", "100", "0"), ("j0", "concluded"), ("j0", "null"),
        ]
    run(body)


def test_auto_dismiss_false_stays_concluded() -> None:
    async def body() -> None:
        rec = Recorder()
        manager, job = make(rec, auto_dismiss=False)
        job.start()
        job.finish()
        await settle()
        assert rec.take()[-1] == ("j0", "concluded")
        info = manager.query_jobs()
        assert [(i.id, i.status, i.current_progress, i.total_progress) for i in info] == [
            ("j0", S.CONCLUDED, 100, 100)
        ]
        with pytest.raises(QMPError) as err:
            job.apply_verb(qmp.JobVerb.CANCEL)
        assert err.value.desc == "Job 'j0' in state 'concluded' cannot accept command verb 'cancel'"
        job.dismiss()
        assert rec.take() == [("j0", "null")]
        assert manager.query_jobs() == []
    run(body)


def test_cancel_running_completes_before_returning() -> None:
    async def body() -> None:
        rec = Recorder()
        _manager, job = make(rec)
        job.start()
        await settle()
        rec.take()
        job.cancel(force=True)
        assert rec.take() == [
            ("j0", "aborting"), ("j0", "BLOCK_JOB_CANCELLED", "100", "0", "0"),
            ("j0", "concluded"), ("j0", "null"),
        ]
        assert job.calls == ["abort", "clean"]
    run(body)


def test_failure_reports_error() -> None:
    async def body() -> None:
        rec = Recorder()
        _, job = make(rec)
        job.start()
        job.fail()
        await settle()
        assert rec.take()[2:] == [
            ("j0", "aborting"),
            ("j0", "BLOCK_JOB_COMPLETED", "100", "100", "0", "Input/output error"),
            ("j0", "concluded"), ("j0", "null"),
        ]
    run(body)


def test_never_started_cancel_is_quiet() -> None:
    async def body() -> None:
        rec = Recorder()
        _, job = make(rec)
        job.cancel_sync()
        assert rec.take() == [("j0", "created"), ("j0", "aborting"), ("j0", "concluded"),
                              ("j0", "null")]
        assert job.calls == ["abort", "clean"]
    run(body)


def test_pause_resume_texts_and_events() -> None:
    async def body() -> None:
        rec = Recorder()
        manager, job = make(rec)
        job.start()
        await settle()
        rec.take()
        with pytest.raises(QMPError) as err:
            job.user_resume()
        assert err.value.desc == "Can't resume a job that was not paused"
        job.user_pause()
        assert manager.query_block_jobs()[0].paused is True
        with pytest.raises(QMPError) as err:
            job.user_pause()
        assert err.value.desc == "Job is already paused"
        job.user_resume()
        assert rec.take() == [("j0", "paused"), ("j0", "running")]
        job.user_pause()
        job.cancel(force=True)
        assert rec.take()[:3] == [("j0", "paused"), ("j0", "running"), ("j0", "aborting")]
    run(body)


# -- groups (spec C.5) -----------------------------------------------------------------


def test_grouped_success_waits_then_finalises_newest_first() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, a = make(rec, "ja", txn)
        _, b = make(rec, "jb", txn, manager=manager)
        a.start()
        b.start()
        b.finish()
        await settle()
        a.finish()
        await settle()
        assert rec.take()[4:] == [
            ("jb", "waiting"), ("ja", "waiting"), ("jb", "pending"), ("ja", "pending"),
            ("jb", "BLOCK_JOB_COMPLETED", "100", "100", "0"), ("jb", "concluded"), ("jb", "null"),
            ("ja", "BLOCK_JOB_COMPLETED", "100", "100", "0"), ("ja", "concluded"), ("ja", "null"),
        ]
    run(body)


def test_grouped_one_auto_finalize_false_holds_the_group() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, a = make(rec, "ja", txn, auto_finalize=False)
        _, b = make(rec, "jb", txn, manager=manager)
        a.start()
        b.start()
        a.finish()
        b.finish()
        await settle()
        assert rec.take()[-1] == ("ja", "PENDING-EVENT")
        b.finalize()
        assert [e[:2] for e in rec.take()] == [
            ("jb", "BLOCK_JOB_COMPLETED"), ("jb", "concluded"), ("jb", "null"),
            ("ja", "BLOCK_JOB_COMPLETED"), ("ja", "concluded"), ("ja", "null"),
        ]
    run(body)


def test_grouped_cancel_of_running_job_cancels_the_waiting_one() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, b = make(rec, "jb", txn)
        _, a = make(rec, "ja", txn, manager=manager)
        b.start()
        a.start()
        b.finish()
        await settle()
        rec.take()
        a.cancel(force=True)
        assert [e[:2] for e in rec.take()] == [
            ("ja", "aborting"), ("ja", "BLOCK_JOB_CANCELLED"), ("ja", "concluded"), ("ja", "null"),
            ("jb", "aborting"), ("jb", "BLOCK_JOB_CANCELLED"), ("jb", "concluded"), ("jb", "null"),
        ]
        assert b.calls == ["abort", "clean"]
    run(body)


def test_grouped_cancel_of_older_running_job() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, b = make(rec, "jb", txn)
        _, a = make(rec, "ja", txn, manager=manager)
        b.start()
        a.start()
        await settle()
        rec.take()
        b.cancel(force=True)
        assert [e[:2] for e in rec.take()] == [
            ("jb", "aborting"), ("ja", "aborting"),
            ("ja", "BLOCK_JOB_CANCELLED"), ("ja", "concluded"), ("ja", "null"),
            ("jb", "BLOCK_JOB_CANCELLED"), ("jb", "concluded"), ("jb", "null"),
        ]
    run(body)


def test_grouped_failure_force_cancels_the_others() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, a = make(rec, "ja", txn)
        _, b = make(rec, "jb", txn, manager=manager)
        a.start()
        b.start()
        await settle()
        rec.take()
        a.fail()
        await settle()
        assert rec.take() == [
            ("ja", "aborting"), ("jb", "aborting"),
            ("jb", "BLOCK_JOB_CANCELLED", "100", "0", "0"), ("jb", "concluded"), ("jb", "null"),
            ("ja", "BLOCK_JOB_COMPLETED", "100", "100", "0", "Input/output error"),
            ("ja", "concluded"), ("ja", "null"),
        ]
        assert a.calls == b.calls == ["abort", "clean"]
    run(body)


def test_grouped_never_started_jobs_abort_quietly() -> None:
    async def body() -> None:
        rec = Recorder()
        txn = JobTxn()
        manager, a = make(rec, "ja", txn)
        _, b = make(rec, "jb", txn, manager=manager)
        b.cancel_sync()
        a.cancel_sync()
        assert rec.take()[2:] == [
            ("jb", "aborting"), ("jb", "concluded"), ("jb", "null"),
            ("ja", "aborting"), ("ja", "concluded"), ("ja", "null"),
        ]
    run(body)


# -- rate limit ------------------------------------------------------------------------


def test_rate_limit_first_chunk_free_then_waits() -> None:
    now = [0]
    limit = RateLimit(clock=lambda: now[0])
    limit.set_speed(1)
    assert limit.delay_ns(0) == 0
    limit.delay_ns(1 << 20)
    assert limit.delay_ns(0) == (1 << 20) * RateLimit.SLICE_NS
    fast = RateLimit(clock=lambda: now[0])
    fast.set_speed(10 << 20)  # 1 MiB per 100 ms slice
    assert fast.delay_ns(512 << 10) == 0
    assert fast.delay_ns(512 << 10) == RateLimit.SLICE_NS
    unlimited = RateLimit(clock=lambda: now[0])
    assert unlimited.delay_ns(1 << 30) == 0


def test_cancelled_job_kept_concluded_is_not_busy() -> None:
    async def body() -> None:
        rec = Recorder()
        manager, job = make(rec, auto_dismiss=False)
        job.start()
        await settle()
        job.cancel(force=True)
        await settle()
        info = manager.query_block_jobs()[0]
        assert (info.status, info.busy, info.paused, info.offset, info.error) == (
            S.CONCLUDED, False, False, 0, "Operation canceled")
        assert manager.query_jobs()[0].error == "Operation canceled"
    run(body)


class BrokenJob(FakeJob):
    async def run(self) -> None:
        raise OSError(28, "No space left on device")


def test_host_error_fails_the_job() -> None:
    async def body() -> None:
        rec = Recorder()
        manager = JobManager(rec)
        job = BrokenJob(manager, "jx")
        manager.register(job, None, 0)
        job.start()
        await settle()
        assert rec.take()[2:5] == [
            ("jx", "ERROR", "write", "report"),
            ("jx", "aborting"),
            ("jx", "BLOCK_JOB_COMPLETED", "100", "0", "0", "No space left on device"),
        ]
        assert manager.jobs == []
    run(body)
