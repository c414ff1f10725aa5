"""The generated typed client against both peers, real QEMU 7.2 and
``qapigen serve``, in one test: negotiate, add a bitmap, run a grouped
backup transaction of two ``blockdev-backup`` actions, collect the typed
job events until both jobs are gone, query the bitmaps.  Both peers must
give the same typed results."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from qapigen import qmp
from qapigen.support.client import CommandError, SchemaDriftWarning
from tests.runtime.conftest import require_qemu
from tests.runtime.harness import PEERS
from tests.runtime.serving import serving

MiB = 1 << 20


def _images(tmp: Path) -> list[str]:
    argv: list[str] = []
    for name, fill in (("src", "0x5a"), ("ta", None), ("tb", None)):
        path = tmp / f"{name}.raw"
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "4M"], check=True)
        if fill:
            subprocess.run(["qemu-io", "-f", "raw", "-c", f"write -P {fill} 0 1M", str(path)],
                           check=True, capture_output=True)
        argv += ["-blockdev", f"driver=file,node-name={name}-file,filename={path}",
                 "-blockdev", f"driver=raw,node-name={name},file={name}-file"]
    return argv


def _backup(job: str, target: str) -> qmp.TransactionActionBlockdevBackup:
    return qmp.TransactionActionBlockdevBackup(data=qmp.BlockdevBackup(
        job_id=job, device="src", target=target, sync=qmp.MirrorSyncMode.FULL))


def _without_pauses(statuses: list[qmp.JobStatus]) -> list[qmp.JobStatus]:
    """The statuses without QEMU's transient paused -> running pairs (a
    drained job pauses for a moment; the harness drops them too)."""
    out: list[qmp.JobStatus] = []
    for status in statuses:
        if status is qmp.JobStatus.PAUSED:
            continue
        if not (out and out[-1] is status is qmp.JobStatus.RUNNING):
            out.append(status)
    return out


async def _session(socket: Path) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with qmp.Client() as client:
        await client.connect(socket)
        seen["capabilities"] = (client.capabilities, client.enabled)
        seen["version"] = (await client.query_version()).qemu
        await client.block_dirty_bitmap_add(node="src", name="b0", granularity=65536)
        with pytest.raises(qmp.QMPError) as bad:
            await client.block_dirty_bitmap_add(node="src", name="b0")
        seen["error"] = (type(bad.value), bad.value.error_class, bad.value.desc)
        events = client.events(qmp.JobStatusChange, qmp.BlockJobCompleted)
        await client.transaction([_backup("ja", "ta"), _backup("jb", "tb")],
                                 completion_mode=qmp.ActionCompletionMode.GROUPED)
        statuses: dict[str, list[qmp.JobStatus]] = {"ja": [], "jb": []}
        completed: list[qmp.BlockJobCompleted] = []
        async with asyncio.timeout(20):
            async for event in events:
                if isinstance(event, qmp.JobStatusChange):
                    statuses[event.id].append(event.status)
                else:
                    completed.append(event)
                if all(s[-1:] == [qmp.JobStatus.NULL] for s in statuses.values()):
                    break
        events.close()
        seen["statuses"] = {job: _without_pauses(st) for job, st in statuses.items()}
        seen["completed"] = sorted(completed, key=lambda e: e.device)
        nodes = await client.query_named_block_nodes(flat=True)
        seen["bitmaps"] = {n.node_name: n.dirty_bitmaps for n in nodes if n.dirty_bitmaps}
        seen["jobs"] = await client.query_jobs()
    return seen


@pytest.mark.parametrize("peer", PEERS)
def test_typed_client_bitmap_grouped_backup_events_and_query(
        peer: str, tmp_path: Path, qemu_tools: None) -> None:
    if peer == "qemu":
        require_qemu()
    with serving(tmp_path, _images(tmp_path), peer=peer) as served:
        seen = asyncio.run(_session(served.sockets[0]))
    assert seen["capabilities"] == (["oob"], ["oob"])
    assert seen["version"] == qmp.VersionTriple(major=7, minor=2, micro=seen["version"].micro)
    assert seen["error"] == (qmp.CommandError, "GenericError",
                             "Bitmap already exists: b0")
    life = [qmp.JobStatus.CREATED, qmp.JobStatus.RUNNING, qmp.JobStatus.WAITING,
            qmp.JobStatus.PENDING, qmp.JobStatus.CONCLUDED, qmp.JobStatus.NULL]
    assert seen["statuses"] == {"ja": life, "jb": life}
    assert seen["completed"] == [
        qmp.BlockJobCompleted(type=qmp.JobType.BACKUP, device=job, len=4 * MiB,
                              offset=4 * MiB, speed=0)
        for job in ("ja", "jb")
    ]
    assert seen["bitmaps"] == {"src": [qmp.BlockDirtyInfo(
        name="b0", count=0, granularity=65536, recording=True, busy=False,
        persistent=False)]}
    assert seen["jobs"] == []
    assert (tmp_path / "ta.raw").read_bytes() == (tmp_path / "src.raw").read_bytes()
    assert (tmp_path / "tb.raw").read_bytes() == (tmp_path / "src.raw").read_bytes()


def test_same_typed_results_on_both_peers(tmp_path: Path, qemu_tools: None) -> None:
    """The whole session, compared between the peers value for value."""
    require_qemu()
    results = []
    for peer in PEERS:
        folder = tmp_path / peer
        folder.mkdir()
        with serving(folder, _images(folder), peer=peer) as served:
            results.append(asyncio.run(_session(served.sockets[0])))
    assert results[0] == results[1]


async def _drift_session(socket: Path) -> tuple[Any, list[str]]:
    async with qmp.Client() as client:
        await client.connect(socket, oob=False)
        report = await client.check_schema()
        # The schema check names what this server lacks; using it warns once.
        client._absent = frozenset({"query-version"})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await client.query_version()
            await client.query_version()
        return (report, client.enabled), [str(w.message) for w in caught]


def test_schema_check_against_serve_and_the_warning(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        (report, enabled), warned = asyncio.run(_drift_session(served.sockets[0]))
    assert report.ok and report.lines() == []
    assert enabled == []
    assert warned == ["the server's schema lacks the command 'query-version'"]


def test_error_reply_keeps_an_unknown_error_class() -> None:
    err = CommandError("boom", "NewClass", "x")
    assert (err.error_class, err.desc, err.command, str(err)) == ("NewClass", "boom", "x",
                                                                  "NewClass: boom")
    assert isinstance(err, qmp.QMPError)
    assert issubclass(SchemaDriftWarning, UserWarning)


def test_sync_client_for_scripts(tmp_path: Path) -> None:
    with serving(tmp_path) as served, \
            qmp.SyncClient(qmp.Client).connect(served.sockets[0]) as sync:
        version = sync.query_version()
        sync.stop()
        event = sync.wait_event(qmp.Stop, timeout=10)
        with pytest.raises(qmp.QMPError) as bad:
            sync.execute("nope")
        status = sync.query_status()
    assert isinstance(version, qmp.VersionInfo) and version.qemu.major == 7
    assert event == qmp.Stop()
    assert (bad.value.error_class, bad.value.desc) == ("CommandNotFound",
                                                       "The command nope has not been found")
    assert status.status is qmp.RunState.PAUSED


def test_command_methods_leave_the_client_machinery_alone(tmp_path: Path) -> None:
    """Commands named like the base class's methods get a ``_``."""
    from qapigen.backends.python.generate import GenerateOptions, generate
    from qapigen.support.client import ClientBase

    schema = tmp_path / "s.json"
    schema.write_text("\n".join(
        f"{{ 'command': '{name}' }}" for name in ("connect", "events", "execute", "close",
                                                  "check-schema", "transaction")))
    generate(GenerateOptions(schema=schema, output=tmp_path, package="clash",
                             formatter="none", cache_dir=tmp_path / ".cache"))
    sys.path.insert(0, str(tmp_path))
    try:
        client = importlib.import_module("clash.client").Client
    finally:
        sys.path.remove(str(tmp_path))
    for name in ("connect", "events", "execute", "close", "check_schema"):
        assert getattr(client, name) is getattr(ClientBase, name)
        assert callable(getattr(client, name + "_"))
    # A `transaction` without QEMU's shape is a plain command method.
    assert client.transaction.__code__.co_varnames[:1] == ("self",)


def test_connect_over_tcp_without_oob(tmp_path: Path) -> None:
    """``connect((host, port))``, and ``oob=False`` enables nothing."""
    import socket as socket_module

    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tcp = ["-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off"]

    async def session() -> tuple[Any, ...]:
        async with qmp.Client() as client:
            for _ in range(200):  # the unix socket answers first; tcp may lag
                try:
                    await client.connect(("127.0.0.1", port), oob=False)
                    break
                except ConnectionRefusedError:
                    await asyncio.sleep(0.02)
            return (client.capabilities, client.enabled,
                    (await client.query_version()).qemu.major)

    with serving(tmp_path, tcp):
        assert asyncio.run(session()) == (["oob"], [], 7)
