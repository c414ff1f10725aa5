"""Version drift through the typed client, both ways.

Clients generated from QEMU 3.1's schema (legacy dialect) and from 10.2's
talk to servers of other versions:

- the 3.1 client to real QEMU 7.2: a bitmap, a grouped backup
  transaction with 3.1's action classes, the job events, the queries;
- the 3.1 client to a server on bindings generated from 10.2 (a tiny
  asyncio server in this file: the 10.2 package's ``make_dispatcher`` and
  a ``Handlers`` subclass whose replies and events are 10.2 values);
- the 10.2 client to a server on 3.1 bindings (the same, with 3.1 values:
  the ``children`` and ``zone_append_bytes`` members of the issue's
  reports are missing there).

Every reply and event decodes (tolerantly) without an exception, and the
differences are reported: by ``check_schema()`` before use, and by
``drift.differences()`` on each decoded value.

The servers' values are built from the bindings' own introspection
(:func:`minimal_value`: every mandatory member, the first enum value),
then decoded *strictly* by the server's bindings, so they are exactly
what a server of that version may send.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect
from qapigen.support import drift
from qapigen.support.events import EventEmitter
from tests.conftest import CORPUS
from tests.runtime.conftest import require_qemu
from tests.runtime.serving import serving

SCHEMAS = {
    "drift31": (CORPUS / "qemu-3.1" / "qapi" / "qapi-schema.json", Dialect.LEGACY),
    "drift102": (CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json", Dialect.QEMU),
}


def _require_corpus() -> None:
    missing = [str(path) for path, _ in SCHEMAS.values() if not path.is_file()]
    if missing:
        message = f"QEMU's schemas are not at {', '.join(missing)} (CI provides ../shared)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """The 3.1 and 10.2 packages, generated and importable."""
    _require_corpus()
    out = tmp_path_factory.mktemp("drift-packages")
    for name, (schema, dialect) in SCHEMAS.items():
        generate(GenerateOptions(schema=schema, output=out, package=name, dialect=dialect,
                                 formatter="none", cache_dir=out / ".cache"))
    sys.path.insert(0, str(out))
    try:
        yield {name: importlib.import_module(name) for name in SCHEMAS}
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n.split(".")[0] in SCHEMAS]:
            del sys.modules[name]


# -- values a server of one version sends -----------------------------------------


def minimal_value(info: Mapping[str, Mapping[str, Any]], type_name: str,
                  **overrides: Any) -> Any:
    """A valid wire value of *type_name*: every mandatory member, the first
    enum value, the first branch; *overrides* replace top-level members."""
    entry = info[type_name]
    meta = entry["meta-type"]
    if meta == "builtin":
        return {"string": "x", "int": 0, "number": 0.0, "boolean": False, "null": None,
                "value": {}}[entry["json-type"]]
    if meta == "enum":
        return entry["values"][0]
    if meta == "array":
        return []
    if meta == "alternate":
        return minimal_value(info, entry["members"][0]["type"])
    value = {m["name"]: minimal_value(info, m["type"])
             for m in entry.get("members", []) if "default" not in m}
    if "tag" in entry:
        case = value[entry["tag"]]
        variant = next((v for v in entry["variants"] if v["case"] == case), None)
        if variant is not None:
            value.update(minimal_value(info, variant["type"]))
    value.update(overrides)
    return value


class Values:
    """Typed values of one package, from wire values the package accepts
    strictly."""

    def __init__(self, package: ModuleType) -> None:
        self.package = package
        self.info = {e["name"]: e for e in package.SCHEMA_INFO}

    def of(self, type_name: str, **overrides: Any) -> Any:
        return self.package.TYPES[type_name].from_wire(
            minimal_value(self.info, type_name, **overrides))

    def event(self, name: str, **overrides: Any) -> Any:
        cls = self.package.EVENTS[name]
        arg = self.info[name].get("arg-type")
        if not cls.HAS_DATA or arg is None:
            return cls()
        return cls.from_wire(minimal_value(self.info, arg, **overrides))


# -- a tiny server on generated bindings -----------------------------------------


@contextlib.asynccontextmanager
async def tiny_server(path: Path, package: ModuleType, handlers: Any,
                      version: tuple[int, int, int]) -> AsyncIterator[None]:
    """A QMP server on *path*: greeting, the package's dispatcher with
    *handlers*, and the events *handlers* emit (``handlers.emitter``)."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        major, minor, micro = version
        greeting = {"QMP": {"version": {"qemu": {"major": major, "minor": minor,
                                                 "micro": micro}, "package": ""},
                            "capabilities": ["oob"]}}
        writer.write(orjson.dumps(greeting) + b"\r\n")
        dispatcher = package.make_dispatcher(handlers, oob_offered=True)
        unsubscribe = handlers.emitter.subscribe(
            lambda message: writer.write(orjson.dumps(message) + b"\r\n"))
        try:
            while line := await reader.readline():
                reply = await dispatcher.dispatch_json_async(line)
                if reply is not None:
                    writer.write(reply + b"\r\n")
                await writer.drain()
        finally:
            unsubscribe()
            writer.close()

    server = await asyncio.start_unix_server(session, str(path))
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


def make_handlers(package: ModuleType, values: Values, events: list[Any],
                  **replies: Any) -> Any:
    """A ``Handlers`` subclass answering the commands in *replies* (method
    name -> value) and emitting *events* when ``stop`` runs."""

    class Server(package.Handlers):  # type: ignore[name-defined, misc]
        emitter = EventEmitter()

        def stop(self) -> None:
            for event in events:
                self.emitter.emit(event)

    for method, value in replies.items():
        setattr(Server, method, lambda self, *a, _value=value, **k: _value)
    return Server()


# -- the sessions ---------------------------------------------------------------


async def _collect(client: Any, count: int) -> list[Any]:
    listener = client.events()
    await client.stop()
    async with asyncio.timeout(10):
        return [await listener.get() for _ in range(count)]


def _diffs(value: Any) -> list[tuple[str, str]]:
    return [(d.kind, d.path) for d in drift.differences(value)]


def test_client_31_talks_to_a_server_on_102_bindings(
        packages: dict[str, ModuleType], tmp_path: Path) -> None:
    old, new = packages["drift31"], packages["drift102"]
    v102 = Values(new)
    events = [
        v102.event("JOB_STATUS_CHANGE", id="j0", status="running"),
        v102.event("BLOCK_IO_ERROR", device="vd0"),
        v102.event("BLOCK_EXPORT_DELETED", id="e0"),
    ]
    handlers = make_handlers(
        new, v102, events,
        query_version=v102.of("VersionInfo", qemu={"major": 10, "minor": 2, "micro": 0}),
        query_named_block_nodes=[v102.of("BlockDeviceInfo", **{"node-name": "disk0"})],
        query_jobs=[v102.of("JobInfo", id="j1", type="snapshot-load")],
    )

    async def session() -> dict[str, Any]:
        sock = tmp_path / "102.sock"
        async with tiny_server(sock, new, handlers, (10, 2, 0)), old.Client() as client:
            await client.connect(sock)
            report = await client.check_schema()
            nodes = await client.query_named_block_nodes()
            jobs = await client.query_jobs()
            return {"report": report, "version": await client.query_version(),
                    "nodes": nodes, "jobs": jobs, "events": await _collect(client, 3)}

    drift.reset_warnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen = asyncio.run(session())
    report = seen["report"]
    assert "cpu-add" in report.missing_commands
    assert "blockdev-reopen" in report.extra_commands
    assert "BLOCK_EXPORT_DELETED" in report.extra_events
    assert seen["version"].qemu == old.VersionTriple(major=10, minor=2, micro=0)
    node = seen["nodes"][0]
    assert isinstance(node, old.BlockDeviceInfo) and node.node_name == "disk0"
    assert ("extra", "children") in _diffs(node)
    job = seen["jobs"][0]
    assert job.id == "j1" and job.type == "snapshot-load"
    assert ("unknown-value", "type") in _diffs(job)
    status, io_error, unknown = seen["events"]
    assert isinstance(status, old.JobStatusChange)
    assert status.status is old.JobStatus.RUNNING
    assert isinstance(io_error, old.BlockIoError) and io_error.device == "vd0"
    assert ("extra", "qom-path") in _diffs(io_error)
    assert (unknown.NAME, unknown.data) == ("BLOCK_EXPORT_DELETED", {"id": "e0"})
    assert any(issubclass(w.category, drift.DriftWarning) for w in caught)


def test_client_102_talks_to_a_server_on_31_bindings(
        packages: dict[str, ModuleType], tmp_path: Path) -> None:
    old, new = packages["drift31"], packages["drift102"]
    v31 = Values(old)
    events = [v31.event("BLOCK_IO_ERROR", device="vd0", **{"node-name": "n0"})]
    handlers = make_handlers(
        old, v31, events,
        query_version=v31.of("VersionInfo", qemu={"major": 3, "minor": 1, "micro": 0}),
        query_named_block_nodes=[v31.of("BlockDeviceInfo", **{"node-name": "disk0"})],
        query_blockstats=[v31.of("BlockStats")],
    )

    async def session() -> dict[str, Any]:
        sock = tmp_path / "31.sock"
        async with tiny_server(sock, old, handlers, (3, 1, 0)), new.Client() as client:
            await client.connect(sock)
            report = await client.check_schema()
            with warnings.catch_warnings(record=True) as lacking:
                warnings.simplefilter("always")
                with pytest.raises(new.QMPError) as refused:
                    await client.blockdev_reopen(options=[])
            return {"report": report, "nodes": await client.query_named_block_nodes(),
                    "stats": await client.query_blockstats(), "refused": refused.value,
                    "lacking": [str(w.message) for w in lacking],
                    "events": await _collect(client, 1)}

    drift.reset_warnings()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        seen = asyncio.run(session())
    report = seen["report"]
    assert "blockdev-reopen" in report.missing_commands
    assert "query-named-block-nodes.flat" in report.missing_members
    assert "cpu-add" in report.extra_commands
    assert seen["lacking"] == ["the server's schema lacks the command 'blockdev-reopen'"]
    assert (seen["refused"].error_class, seen["refused"].desc) == (
        "CommandNotFound", "The command blockdev-reopen has not been found")
    node = seen["nodes"][0]
    assert node.node_name == "disk0" and node.children is None
    assert ("missing", "[0].children") in _diffs(seen["nodes"])
    assert ("missing", "[0].stats.zone_append_bytes") in _diffs(seen["stats"])
    (io_error,) = seen["events"]
    assert isinstance(io_error, new.BlockIoError) and io_error.device == "vd0"
    assert ("missing", "qom-path") in _diffs(io_error)


def _raw(tmp: Path) -> list[str]:
    argv: list[str] = []
    for name in ("src", "ta", "tb"):
        path = tmp / f"{name}.raw"
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "1M"], check=True)
        argv += ["-blockdev", f"driver=file,node-name={name}-file,filename={path}",
                 "-blockdev", f"driver=raw,node-name={name},file={name}-file"]
    return argv


def test_client_31_drives_qemu_72(packages: dict[str, ModuleType], tmp_path: Path) -> None:
    require_qemu()
    old = packages["drift31"]

    def backup(job: str, target: str) -> Any:
        return old.TransactionActionBlockdevBackup(data=old.BlockdevBackup(
            job_id=job, device="src", target=target, sync=old.MirrorSyncMode.FULL))

    async def session(sock: Path) -> dict[str, Any]:
        async with old.Client() as client:
            await client.connect(sock)
            report = await client.check_schema()
            await client.block_dirty_bitmap_add(node="src", name="b0")
            listener = client.events(old.JobStatusChange, old.BlockJobCompleted)
            await client.transaction([backup("ja", "ta"), backup("jb", "tb")],
                                     completion_mode=old.ActionCompletionMode.GROUPED)
            done: list[Any] = []
            gone: set[str] = set()
            async with asyncio.timeout(20):
                async for event in listener:
                    if isinstance(event, old.BlockJobCompleted):
                        done.append(event)
                    elif event.status is old.JobStatus.NULL:
                        gone.add(event.id)
                    if gone == {"ja", "jb"}:
                        break
            return {"report": report, "version": await client.query_version(),
                    "nodes": await client.query_named_block_nodes(),
                    "block_jobs": await client.query_block_jobs(), "done": done,
                    "jobs": await client.query_jobs()}

    drift.reset_warnings()
    with serving(tmp_path, _raw(tmp_path), peer="qemu") as served, \
            warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        seen = asyncio.run(session(served.sockets[0]))
    report = seen["report"]
    assert "cpu-add" in report.missing_commands and "query-cpus" in report.missing_commands
    assert "blockdev-reopen" in report.extra_commands
    assert (seen["version"].qemu.major, seen["version"].qemu.minor) == (7, 2)
    assert sorted(e.device for e in seen["done"]) == ["ja", "jb"]
    # 3.1's BlockDeviceInfo has no dirty-bitmaps (added in 4.2): kept in extra.
    i, src = next((i, n) for i, n in enumerate(seen["nodes"]) if n.node_name == "src")
    assert [b["name"] for b in src.extra["dirty-bitmaps"]] == ["b0"]
    assert ("extra", f"[{i}].dirty-bitmaps") in _diffs(seen["nodes"])
    assert seen["jobs"] == [] and seen["block_jobs"] == []
