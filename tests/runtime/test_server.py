"""The QMP server's own floor: QEMU's JSON stream rules, QEMU's JSON
output, and the server's behaviour with a stub machine (no block layer)."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest

from qapigen import qmp
from qapigen.runtime.jsonstream import (
    _NOT_FAST,
    MAX_NESTING,
    JSONStreamError,
    JSONStreamParser,
    fast_parse,
    sanitize_utf8,
)
from qapigen.runtime.options import QMPEndpoint
from qapigen.runtime.qjson import dumps, qdict_order, tdb_hash
from qapigen.runtime.server import QMPServer
from qapigen.runtime.version import version_wire

# -- the JSON stream ----------------------------------------------------------------


def feed_all(data: bytes, chunk: int | None = None) -> list[Any]:
    parser = JSONStreamParser()
    if chunk is None:
        return parser.feed(data)
    out: list[Any] = []
    for i in range(0, len(data), chunk):
        out += parser.feed(data[i:i + chunk])
    return out


def err(detail: str) -> JSONStreamError:
    return JSONStreamError(f"JSON parse error, {detail}")


STREAM_CASES: list[tuple[bytes, list[Any]]] = [
    (b'{"execute": "x"}\n', [{"execute": "x"}]),
    (b'{"a": 1}{"b": 2} [3]\n', [{"a": 1}, {"b": 2}, [3]]),
    (b'{\n"a":\r\n 1\n}\n', [{"a": 1}]),
    (b"{'a': 'it\\'s \"q\"'}\n", [{"a": "it's \"q\""}]),
    (b"\n\n  \t\r\n", []),
    (b"tru\n", [err("invalid keyword 'tru'")]),
    (b"}\n", [err("expecting value")]),
    (b'{"a" 1}\n', [err("missing : in object pair")]),
    (b'{"a": 1 "b": 2}\n', [err("expected separator in dict")]),
    (b"[1 2]\n", [err("expected separator in list")]),
    (b"{1: 2}\n", [err("key is not a string in object")]),
    (b'{"a": 1,}\n', [err("expecting value")]),
    (b'{"a": 1, "a": 2}\n', [err("duplicate key")]),
    (b'"\\x"\n', [err("invalid escape sequence in string")]),
    (b'"\\uD800"\n', [err("\\uD800 is not a valid Unicode character")]),
    (b'"\\uFFFE"\n', [err("\\uFFFE is not a valid Unicode character")]),
    (b'"\xff"\n', [err("stray '\"\ufffd'")]),
    (b'"\xc3("\n', [err("invalid UTF-8 sequence in string")]),
    (b'"\xc0\x80"\n', ["\0"]),
    (b'"\\ud83d\\ude00"\n', ["\U0001F600"]),
    (b"@ 1\n", [err("stray '@'")]),  # recovery skips to a newline or structural char
    (b"@,1\n", [err("stray '@'"), err("expecting value"), 1]),
    (b"01\n", [err("stray '01'")]),
    (b"1.x\n", [err("stray '1.x'")]),
    (b"0e1\n", [0, err("invalid keyword 'e'"), 1]),
    (b"-0 1e400 18446744073709551616 18446744073709551615\n",
     [0, float("inf"), 1.8446744073709552e19, 18446744073709551615]),
    (b'{"a": [1, {"b": null}], "c": true}\n', [{"a": [1, {"b": None}], "c": True}]),
    (b"[}\n", [err("expecting value")]),
    (b'"abc\x01"\n', [err("stray '\"abc\x01'")]),
    (b'{"a": @@, "b": 1}\n', [err("stray '@'"), err("expecting value"), "b",
                              err("expecting value"), 1, err("expecting value")]),
    (b"[" * (MAX_NESTING + 1) + b"\n", [JSONStreamError("JSON nesting depth limit exceeded")]),
    (b"a" * 2000 + b"\n", [err("invalid keyword '" + "a" * 1006)]),
]


@pytest.mark.parametrize(("data", "expected"), STREAM_CASES,
                         ids=[repr(d[:30]) for d, _ in STREAM_CASES])
def test_stream(data: bytes, expected: list[Any]) -> None:
    assert feed_all(data) == expected
    assert feed_all(data, chunk=1) == expected  # byte by byte: the same texts


def test_objects_iterate_in_qdict_order() -> None:
    (value,) = feed_all(b'{"id": 1, "execute": "x", "arguments": {}}\n')
    assert list(value) == list(qdict_order(("id", "execute", "arguments")))
    (slow,) = feed_all(b"{'id': 1, 'execute': 'x', 'arguments': {}}\n")
    assert list(slow) == list(value)


def test_flush_ends_the_last_token() -> None:
    parser = JSONStreamParser()
    assert parser.feed(b'{"a": 12') == []
    assert parser.flush() == [err("premature EOI")]
    parser = JSONStreamParser()
    assert parser.feed(b"12") == []
    assert parser.flush() == [12]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(1 << 70), 1 << 70)
    if kind == 2:
        return rng.choice([0.5, -1e-300, 1.25e10, 3.0])
    if kind in (3, 4):
        return "".join(rng.choice("ab\"\\/\n\té€\x7f😀 0e") for _ in range(rng.randrange(6)))
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.randrange(9)}": _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_fast_path_agrees_with_the_token_path() -> None:
    rng = random.Random(7)
    fast_used = 0
    for _ in range(2000):
        value = _random_value(rng)
        line = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode() + b"\n"
        slow = JSONStreamParser()._feed(line)
        fast = fast_parse(line)
        if fast is not _NOT_FAST:
            fast_used += 1
            assert [fast] == slow, line
    assert fast_used > 1000


def test_sanitize_utf8_as_qemu_writer() -> None:
    assert sanitize_utf8(b"a\xc3\xa9\xff\xe2\x82x\xef\xbf\xbe\xc0\x80") == "aé\ufffd\ufffdx\ufffd\0"


# -- QEMU's JSON output -------------------------------------------------------------


def test_qdict_order_examples() -> None:
    assert dumps({"return": {}, "id": 1}) == '{"return": {}, "id": 1}'
    assert dumps({"error": {"class": "GenericError", "desc": "x"}, "id": 1}) == \
        '{"id": 1, "error": {"class": "GenericError", "desc": "x"}}'
    # micro and minor share a bucket: the one inserted last comes first.
    assert dumps({"major": 7, "minor": 2, "micro": 22}) == \
        '{"micro": 22, "minor": 2, "major": 7}'
    assert dumps({"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}) == \
        '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}'
    assert tdb_hash("id") % 512 == 486


def test_escaping_and_numbers() -> None:
    assert dumps(["é€😀", "\x7f\x01\"\\/\n", 1.0, 0.1, 1e400, -0.0, 2**64 - 1]) == (
        '["\\u00E9\\u20AC\\uD83D\\uDE00", "\\u007F\\u0001\\"\\\\/\\n", 1, '
        '0.10000000000000001, inf, -0, 18446744073709551615]')


# -- the server with a stub machine ---------------------------------------------------


class StubMachine(qmp.Handlers):
    """Just enough of a machine: query-version, a buggy command, quit."""

    def __init__(self, server: QMPServer) -> None:
        self.server = server
        self.closed: list[str] = []
        self.bug = False

    def query_version(self) -> qmp.VersionInfo:
        if self.bug:
            raise RuntimeError("boom")
        return qmp.VersionInfo(qemu=qmp.VersionTriple(major=7, minor=2, micro=22),
                               package="stub")

    def quit(self) -> None:
        self.server.request_shutdown()

    def stop(self) -> None:
        self.server.emit(qmp.Stop())

    async def aclose(self, reason: str) -> None:
        self.closed.append(reason)
        self.server.emit(qmp.Shutdown(guest=False, reason=qmp.ShutdownCause(reason)))


async def _with_server(tmp: Path, body: Any, log: Path | None = None) -> StubMachine:
    path = tmp / "s.sock"
    server = QMPServer([QMPEndpoint("unix", path=str(path))], log_path=log)
    await server.bind()
    server.greet(version_wire())
    machine = StubMachine(server)
    server.attach(machine, lambda: qmp.make_dispatcher(machine, oob_offered=True))
    try:
        await body(path, machine)
    finally:
        await server.close()
    assert not path.exists()
    return machine


async def _client(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_unix_connection(str(path))
    greeting = await reader.readline()
    assert greeting.endswith(b"]}}\r\n")
    return reader, writer


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
               data: bytes, lines: int = 1) -> list[str]:
    writer.write(data)
    return [(await asyncio.wait_for(reader.readline(), 10)).decode() for _ in range(lines)]


def test_handler_bug_is_a_generic_error_with_the_traceback_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def body(path: Path, machine: StubMachine) -> None:
        reader, writer = await _client(path)
        await _ask(reader, writer, b'{"execute": "qmp_capabilities"}\n')
        machine.bug = True
        reply = await _ask(reader, writer, b'{"execute": "query-version", "id": "x"}\n')
        assert reply == ['{"id": "x", "error": {"class": "GenericError", '
                         '"desc": "Internal error: RuntimeError: boom"}}\r\n']
        machine.bug = False
        reply = await _ask(reader, writer, b'{"execute": "query-version", "id": 2}\n')
        assert reply[0].startswith('{"return": {"qemu": ')
        writer.close()

    asyncio.run(_with_server(tmp_path, body))
    err = capsys.readouterr().err
    assert "qapigen serve: internal error in command 'query-version':" in err
    assert "Traceback (most recent call last):" in err
    assert "RuntimeError: boom" in err


def test_quit_sends_shutdown_before_its_reply_and_events_skip_unnegotiated(
        tmp_path: Path) -> None:
    async def body(path: Path, machine: StubMachine) -> None:
        r0, w0 = await _client(path)
        r1, w1 = await _client(path)
        r2, _ = await _client(path)
        await _ask(r0, w0, b'{"execute": "qmp_capabilities"}\n')
        await _ask(r1, w1, b'{"execute": "qmp_capabilities"}\n')
        assert [json.loads(x)["event"] for x in await _ask(r1, w1, b'{"execute": "stop"}\n')] \
            == ["STOP"]
        assert json.loads(await r1.readline()) == {"return": {}}
        assert json.loads(await r0.readline())["event"] == "STOP"
        lines = await _ask(r0, w0, b'{"execute": "quit", "id": 9}\n', lines=2)
        assert [sorted(json.loads(x)) for x in lines] == [
            ["data", "event", "timestamp"], ["id", "return"]]
        assert json.loads(lines[0])["data"] == {"guest": False, "reason": "host-qmp-quit"}
        assert json.loads(await r1.readline())["event"] == "SHUTDOWN"
        assert await r2.read() == b""  # never negotiated: no events, then closed

    machine = asyncio.run(_with_server(tmp_path, body))
    assert machine.closed == ["host-qmp-quit"]


def test_qmp_log(tmp_path: Path) -> None:
    log = tmp_path / "qmp.jsonl"

    async def body(path: Path, machine: StubMachine) -> None:
        reader, writer = await _client(path)
        await _ask(reader, writer, b'{"execute": "qmp_capabilities"}\n')
        await _ask(reader, writer, b'tru\n{"execute": "query-version", "id": 1}\n', lines=2)
        writer.close()

    asyncio.run(_with_server(tmp_path, body, log=log))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["direction"], e["client"]) for e in entries] == [
        ("out", 0), ("in", 0), ("out", 0), ("in", 0), ("out", 0), ("in", 0), ("out", 0)]
    assert entries[0]["message"]["QMP"]["capabilities"] == ["oob"]
    assert entries[1]["message"] == {"execute": "qmp_capabilities"}
    assert entries[3] == {**entries[3], "error": "JSON parse error, invalid keyword 'tru'"}
    assert entries[5]["message"] == {"id": 1, "execute": "query-version"}
    assert entries[6]["message"]["id"] == 1
    assert all(isinstance(e["timestamp"], float) for e in entries)


def test_greeting_version_is_the_machines_query_version(tmp_path: Path) -> None:
    from qapigen.runtime.machine import Machine
    from qapigen.runtime.options import parse_argv

    async def build() -> dict[str, Any]:
        config = parse_argv(["-qmp", f"unix:{tmp_path}/x.sock,server=on,wait=off"])
        machine = Machine(config, lambda event: None, lambda: None)
        wire = machine.query_version().to_wire()
        await machine.aclose("host-qmp-quit")
        return wire  # type: ignore[no-any-return]

    assert asyncio.run(build()) == version_wire()


# -- binding and greeting before the event loop ----------------------------------------


def test_early_greeter_greets_and_hands_connections_over(tmp_path: Path) -> None:
    import socket

    from qapigen.runtime import early

    path = tmp_path / "e.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # a socket file left behind is replaced, as QEMU does
    stale.close()
    (listener,) = early.bind([QMPEndpoint("unix", path=str(path))])
    greeter = early.Greeter([listener], b"hello\r\n")
    greeter.start()
    clients = [socket.socket(socket.AF_UNIX) for _ in range(3)]
    for client in clients:
        client.settimeout(10)
        client.connect(str(path))
        assert client.recv(100) == b"hello\r\n"
    accepted = greeter.stop()
    assert [index for _, index in accepted] == [0, 0, 0]
    for conn, _ in accepted:
        conn.close()
    for client in clients:
        client.close()
    early.close([listener], [QMPEndpoint("unix", path=str(path))])
    assert not path.exists()


def test_early_bind_refuses_to_replace_a_regular_file(tmp_path: Path) -> None:
    from qapigen.runtime import early

    path = tmp_path / "not-a-socket"
    path.write_text("keep me")
    with pytest.raises(early.BindError) as err:
        early.bind([QMPEndpoint("unix", path=str(path))])
    assert str(err.value) == f"Failed to bind socket to {path}: Address already in use"
    assert path.read_text() == "keep me"


def test_serve_listens_on_tcp_and_storage_daemon_monitors(tmp_path: Path) -> None:
    """End to end: `-qmp tcp:...` and `--chardev socket,... --monitor` work."""
    import socket
    import subprocess
    import sys
    import time

    from tests.runtime.harness import peer_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sock = tmp_path / "mon.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "qapigen", "serve",
         "-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off",
         "--chardev", f"socket,id=m0,path={sock},server=on,wait=off", "--monitor", "chardev=m0"],
        cwd=tmp_path, env=peer_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        clients: list[socket.socket] = []
        for family, address in ((socket.AF_INET, ("127.0.0.1", port)),
                                (socket.AF_UNIX, str(sock))):
            deadline = time.monotonic() + 30
            while True:
                client = socket.socket(family)
                try:
                    client.connect(address)
                    break
                except OSError:
                    client.close()
                    assert time.monotonic() < deadline and process.poll() is None
                    time.sleep(0.01)
            client.settimeout(30)
            clients.append(client)
        for client in clients:
            lines = client.makefile("rb")
            assert json.loads(lines.readline())["QMP"]["capabilities"] == ["oob"]
            client.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "query-version"}\n')
            assert json.loads(lines.readline()) == {"return": {}}
            assert json.loads(lines.readline())["return"]["qemu"]["major"] == 7
        clients[0].sendall(b'{"execute": "quit"}\n')
        assert process.wait(30) == 0
        assert not sock.exists()
        assert process.stderr is not None and process.stderr.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_size_and_count_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """QEMU's limits (64 MiB of tokens, 2 Mi tokens per text), scaled down:
    the text is dropped with the limit's error (the token that crossed the
    limit too), and lexing goes on after it."""
    from qapigen.runtime import jsonstream

    def tokens_only(data: bytes) -> list[Any]:
        parser = JSONStreamParser()
        return parser._feed(data)  # the token path; the fast path takes short lines

    monkeypatch.setattr(jsonstream, "MAX_TOKEN_COUNT", 5)
    assert tokens_only(b"[1, 2, 3]\n") == [JSONStreamError("JSON token count limit exceeded"),
                                            err("expecting value")]
    monkeypatch.setattr(jsonstream, "MAX_TOKEN_COUNT", 2 << 20)
    monkeypatch.setattr(jsonstream, "MAX_TOKEN_SIZE", 16)
    # Tokens of one text add up: the one that crosses the limit ends it.
    assert tokens_only(b'["abcdef", "ghijkl"]\n') == [
        JSONStreamError("JSON token size limit exceeded"), err("expecting value")]
    # A single token longer than the limit is cut by the lexer after
    # limit + 1 bytes; the rest of it is lexed as new input.
    assert tokens_only(b'"' + b"x" * 20 + b'"\n') == [
        JSONStreamError("JSON token size limit exceeded"), err("invalid keyword 'xxxx'"),
        err("stray '\"\n'")]


def test_visitor_order_reports_unexpected_members_as_qemu() -> None:
    """Cases checked against QEMU 7.2 (the first key is the one its
    'Parameter ... is unexpected' names; 400 random ones agreed too)."""
    from qapigen.runtime.ghash import g_str_hash, ghash_order, visitor_order

    assert g_str_hash("") == 5381
    assert g_str_hash("é") == ((5381 * 33 - 61) * 33 - 87) & 0xFFFFFFFF  # signed chars
    assert ghash_order(qdict_order(("node", "name", "y", "x", "granularity")))[0] == "y"
    assert ghash_order(qdict_order(("flat", "x", "y")))[0] == "y"
    assert ghash_order(qdict_order(("zz", "aa")))[0] == "aa"
    many = tuple(f"k{i}" for i in range(40))  # grows and rehashes twice
    assert sorted(ghash_order(many)) == sorted(many)
    nested = visitor_order({"actions": [{"type": "t", "data": {"zz": 1, "aa": 2}}]})
    assert list(nested["actions"][0]["data"]) == ["aa", "zz"]
