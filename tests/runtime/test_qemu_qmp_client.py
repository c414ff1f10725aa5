"""A real QMP client, ``qemu.qmp`` from PyPI, used as its users use it,
against ``qapigen serve``: connect (greeting and negotiation are the
library's), run a transaction that starts a backup, receive the job events."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.serving import serving

try:
    import qemu.qmp as qmp_lib
except ImportError:  # pragma: no cover - the test extra installs it
    if os.environ.get("CI"):
        raise
    pytest.skip("qemu.qmp is not installed (pip install -e '.[test]')", allow_module_level=True)

MiB = 1 << 20


def _images(tmp: Path) -> list[str]:
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(tmp / "src.raw"), "4M"],
                   check=True)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 1M", str(tmp / "src.raw")],
                   check=True, capture_output=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(tmp / "dst.raw"), "4M"],
                   check=True)
    return [
        "-blockdev", f"driver=file,node-name=src-file,filename={tmp / 'src.raw'}",
        "-blockdev", "driver=raw,node-name=src,file=src-file",
        "-blockdev", f"driver=file,node-name=dst-file,filename={tmp / 'dst.raw'}",
        "-blockdev", "driver=raw,node-name=dst,file=dst-file",
    ]


async def _session(socket_path: Path) -> dict[str, Any]:
    client = qmp_lib.QMPClient("qapigen-test")
    await client.connect(str(socket_path))
    seen: dict[str, Any] = {"greeting": client.greeting._raw}
    try:
        seen["version"] = await client.execute("query-version")
        with pytest.raises(qmp_lib.ExecuteError) as bad:
            await client.execute("block-dirty-bitmap-add", {"node": "nope", "name": "b0"})
        seen["error"] = (bad.value.error_class, str(bad.value))
        events: list[tuple[str, Any]] = []
        listener = qmp_lib.EventListener()
        with client.listen(listener):
            seen["transaction"] = await client.execute("transaction", {"actions": [
                {"type": "block-dirty-bitmap-add", "data": {"node": "src", "name": "b0"}},
                {"type": "blockdev-backup",
                 "data": {"device": "src", "target": "dst", "sync": "full", "job-id": "j0"}},
            ]})
            async with asyncio.timeout(15):
                async for event in listener:
                    events.append((event["event"], event.get("data")))
                    if event["event"] == "JOB_STATUS_CHANGE" and event["data"] == {
                            "id": "j0", "status": "null"}:
                        break
        seen["events"] = events
        seen["nodes"] = await client.execute("query-named-block-nodes", {"flat": True})
    finally:
        await client.disconnect()
    return seen


def test_qemu_qmp_client_negotiates_runs_a_transaction_and_gets_job_events(
        tmp_path: Path, qemu_tools: None) -> None:
    argv = _images(tmp_path)
    with serving(tmp_path, argv) as served:
        seen = asyncio.run(_session(served.sockets[0]))
        assert served.terminate() == 0
    assert seen["greeting"]["QMP"]["capabilities"] == ["oob"]
    assert seen["version"]["qemu"] == {"major": 7, "minor": 2, "micro": 22}
    assert seen["error"] == ("GenericError", "Cannot find device='nope' nor node-name='nope'")
    assert seen["transaction"] == {}
    statuses = [data["status"] for name, data in seen["events"] if name == "JOB_STATUS_CHANGE"]
    statuses = [s for s in statuses if s != "paused"]
    assert statuses[:2] == ["created", "running"]
    assert statuses[-4:] == ["waiting", "pending", "concluded", "null"]
    completed = [data for name, data in seen["events"] if name == "BLOCK_JOB_COMPLETED"]
    assert completed == [{"device": "j0", "len": 4 * MiB, "offset": 4 * MiB, "speed": 0,
                          "type": "backup"}]
    src = next(n for n in seen["nodes"] if n["node-name"] == "src")
    assert [b["name"] for b in src["dirty-bitmaps"]] == ["b0"]
    assert (tmp_path / "dst.raw").read_bytes() == (tmp_path / "src.raw").read_bytes()
    assert "Traceback" not in served.stderr()
    assert not served.sockets[0].exists()
