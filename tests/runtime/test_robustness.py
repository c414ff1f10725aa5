"""``qapigen serve`` under abuse: garbage, truncated and huge input, many
clients, clients that vanish, and signals.  Where QEMU's answer is
well-defined (garbage, truncation, a 10 MB line) it is also the expected
answer: the same bytes go to QEMU 7.2 when it is installed.

Every test checks that the server keeps answering, never prints a
traceback, and cleans up (socket files, files it created).
"""

from __future__ import annotations

import json
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import require_qemu
from tests.runtime.serving import Served, serving

TIMEOUT = 20.0
MiB = 1 << 20


class Client:
    """A blocking QMP connection with a deadline on every read."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(str(path))
        self.buffer = b""
        self.events: list[dict[str, Any]] = []  # skipped by execute(), seen by wait_event()
        self.greeting = self.read()

    def send(self, data: bytes | dict[str, Any]) -> None:
        self.sock.sendall(data if isinstance(data, bytes) else json.dumps(data).encode() + b"\n")

    def read_line(self) -> bytes:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def read(self) -> Any:
        return json.loads(self.read_line())

    def execute(self, name: str, arguments: dict[str, Any] | None = None,
                qid: Any = None) -> Any:
        """Send a command; the reply (events before it are skipped)."""
        request: dict[str, Any] = {"execute": name}
        if arguments is not None:
            request["arguments"] = arguments
        if qid is not None:
            request["id"] = qid
        self.send(request)
        while True:
            msg = self.read()
            if "event" not in msg:
                return msg
            self.events.append(msg)

    def negotiate(self) -> None:
        assert self.execute("qmp_capabilities") == {"return": {}}

    def wait_event(self, name: str, **data: Any) -> dict[str, Any]:
        while True:
            msg = self.events.pop(0) if self.events else self.read()
            if msg.get("event") == name and all(msg.get("data", {}).get(k) == v
                                                for k, v in data.items()):
                return msg  # type: ignore[no-any-return]

    def until_eof(self) -> list[Any]:
        out = []
        while True:
            try:
                out.append(self.read())
            except (EOFError, ConnectionResetError):
                return out

    def close(self) -> None:
        self.sock.close()


def _alive(served: Served) -> None:
    """The server still answers a fresh client."""
    client = Client(served.sockets[0])
    client.negotiate()
    assert client.execute("query-version", qid="alive")["id"] == "alive"
    client.close()


def _clean_exit(served: Served, signalled: bool = False) -> None:
    """The server exits with 0 (after SIGTERM from us, or after the signal
    the test sent), leaves no socket file and printed no traceback."""
    if signalled:
        served.process.wait(TIMEOUT)
    assert served.terminate() == 0
    err = served.stderr()
    assert "Traceback" not in err, err
    for path in served.sockets:
        assert not path.exists(), f"{path} left behind"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path) as server:
        yield server


# -- garbage in, QEMU's answers out ----------------------------------------------------

SENTINEL = b'\xff\n{"execute": "query-version", "id": "sentinel"}\n'
_VERSION = re.compile(rb'\{"qemu": \{[^{}]*\}, "package": "(?:[^"\\]|\\.)*"\}')


def _replies_until_sentinel(path: Path, payload: bytes) -> list[bytes]:
    """Send *payload* and the sentinel request (after 0xFF, which resets
    QEMU's JSON parser whatever state it is in); every line up to the
    sentinel's reply, versions blanked."""
    client = Client(path)
    client.send(b'{"execute": "qmp_capabilities"}\n')
    client.read_line()
    sender = threading.Thread(target=client.send, args=(payload + SENTINEL,))
    sender.start()
    lines = []
    while True:
        line = _VERSION.sub(b"V", client.read_line())
        lines.append(line)
        if b'"sentinel"' in line and b'"return"' in line:
            break
    sender.join()
    client.close()
    return lines


def _garbage(seed: int, size: int) -> bytes:
    rng = random.Random(seed)
    alphabet = b'{}[]:,"\'\\ \n\t-0123456789.eEtrufalsn' + bytes(range(0x00, 0x100, 7))
    return bytes(rng.choice(alphabet) for _ in range(size))


#: Inputs whose answers must be QEMU's, byte for byte.  QEMU's monitor
#: reads one byte at a time (about 110 KB/s here), so they stay small; the
#: 10 MB inputs below are checked against answers written out.
CASES = {
    "garbage-1": _garbage(1, 4000),
    "garbage-2": _garbage(2, 4000),
    "garbage-3": _garbage(3, 4000),
    "all-bytes": bytes(range(256)) * 8,
    "truncated-object": b'{"execute": "query-version", "arguments": {"a": [1, 2',
    "truncated-string": b'{"execute": "query-ver',
    "truncated-escape": b'{"execute": "query-version", "id": "\\',
    "truncated-number": b'{"execute": "query-version", "id": -12.5e',
    "long-string": b'{"execute": "query-version", "id": 1, "arguments": {"pad": "'
                   + b"x" * 20000 + b'"}}\n',
    "long-keyword": b"a" * 5000 + b"\n",
    "long-stray": b'"' + "é".encode() * 3000 + b"\x01\n",
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_answered_as_qemu_answers_it(case: str, tmp_path: Path) -> None:
    payload = CASES[case]
    with serving(tmp_path) as served:
        ours = _replies_until_sentinel(served.sockets[0], payload)
        _alive(served)
        _clean_exit(served)
    assert ours[-1] == b'{"return": V, "id": "sentinel"}\r\n'
    qemu_dir = tmp_path / "qemu"
    qemu_dir.mkdir()
    require_qemu()
    with serving(qemu_dir, peer="qemu") as qemu:
        theirs = _replies_until_sentinel(qemu.sockets[0], payload)
    assert ours == theirs


def _error(desc: str) -> bytes:
    return b'{"error": {"class": "GenericError", "desc": "' + desc.encode() + b'"}}\r\n'


STRAY_FF = _error("JSON parse error, stray '\\uFFFD'")
SENTINEL_REPLY = b'{"return": V, "id": "sentinel"}\r\n'
BIG = 10 * MiB
BIG_CASES = {
    "string": (b'{"execute": "query-version", "id": 1, "arguments": {"pad": "' + b"x" * BIG
               + b'"}}\n',
               [b'{"id": 1, "error": {"class": "GenericError", '
                b'"desc": "Parameter \'pad\' is unexpected"}}\r\n', STRAY_FF, SENTINEL_REPLY]),
    # The parser's detail is cut at 1023 bytes, as QEMU's message buffer.
    "keyword": (b"a" * BIG + b"\n",
                [_error("JSON parse error, invalid keyword '" + "a" * 1006), STRAY_FF,
                 SENTINEL_REPLY]),
    # A stray token is printed whole.
    "stray": (b'"' + b"y" * BIG + b"\x01\n",
              [_error("JSON parse error, stray '\\\"" + "y" * BIG + "\\u0001'"), STRAY_FF,
               SENTINEL_REPLY]),
}


@pytest.mark.parametrize("case", list(BIG_CASES))
def test_ten_megabyte_input(case: str, served: Served) -> None:
    payload, expected = BIG_CASES[case]
    start = time.monotonic()
    ours = _replies_until_sentinel(served.sockets[0], payload)
    elapsed = time.monotonic() - start
    assert ours == expected
    assert elapsed < 10, f"{case}: {elapsed:.1f} s"
    _alive(served)
    _clean_exit(served)


def test_ten_megabyte_line_gets_its_reply(served: Served) -> None:
    client = Client(served.sockets[0])
    client.negotiate()
    pad = "é" * (5 * MiB)  # 10 MB of UTF-8
    reply = client.execute("query-version", {"pad": pad}, qid=7)
    assert reply == {"id": 7, "error": {"class": "GenericError",
                                       "desc": "Parameter 'pad' is unexpected"}}
    echoed = client.execute("query-version", qid=pad)
    assert echoed["id"] == pad
    client.close()
    _clean_exit(served)


# -- many clients, vanishing clients -------------------------------------------------------


def test_fifty_concurrent_clients(served: Served) -> None:
    clients = [Client(served.sockets[0]) for _ in range(50)]
    for client in clients:
        client.negotiate()
    errors: list[BaseException] = []

    def work(index: int, client: Client) -> None:
        try:
            for n in range(20):
                client.send({"execute": "query-version", "id": [index, n]})
            for n in range(20):
                assert client.read()["id"] == [index, n]
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors, errors[:3]
    # An event reaches every negotiated client.
    clients[0].send({"execute": "stop"})
    assert clients[0].read()["event"] == "STOP"  # before the reply, as QEMU
    assert clients[0].read() == {"return": {}}
    for client in clients[1:]:
        assert client.read()["event"] == "STOP"
    for client in clients:
        client.close()
    _alive(served)
    _clean_exit(served)


def test_clients_that_disconnect_mid_command_disturb_nobody(served: Served) -> None:
    steady = Client(served.sockets[0])
    steady.negotiate()
    for round_ in range(20):
        leaver = Client(served.sockets[0])
        leaver.send(b'{"execute": "qmp_capabilities"}\n'
                    + b'{"execute": "query-named-block-nodes"}\n' * 200
                    + b'{"execute": "query-version", "arguments": {"pad": "' + b"z" * 100_000)
        leaver.sock.shutdown(socket.SHUT_RDWR)
        leaver.close()
        assert steady.execute("query-version", qid=round_)["id"] == round_
    steady.close()
    _alive(served)
    _clean_exit(served)


# -- signals ------------------------------------------------------------------------------


def test_sigterm_sends_shutdown_and_exits_cleanly(tmp_path: Path) -> None:
    with serving(tmp_path, clients=2) as served:
        negotiated = Client(served.sockets[0])
        negotiated.negotiate()
        silent = Client(served.sockets[1])
        served.process.send_signal(signal.SIGTERM)
        messages = negotiated.until_eof()
        assert [m["event"] for m in messages] == ["SHUTDOWN"]
        assert messages[0]["data"] == {"guest": False, "reason": "host-signal"}
        assert silent.until_eof() == []
        _clean_exit(served, signalled=True)
        assert "terminating on signal 15" in served.stderr()


def _raw_pair(tmp: Path, size: str = "16M") -> list[str]:
    """A raw source with data and a raw target, both nodes."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(tmp / "src.raw"), size],
                   check=True)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x33 0 8M", str(tmp / "src.raw")],
                   check=True, capture_output=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(tmp / "dst.raw"), size],
                   check=True)
    return [
        "-blockdev", f"driver=file,node-name=src-file,filename={tmp / 'src.raw'}",
        "-blockdev", "driver=raw,node-name=src,file=src-file",
        "-blockdev", f"driver=file,node-name=dst-file,filename={tmp / 'dst.raw'}",
        "-blockdev", "driver=raw,node-name=dst,file=dst-file",
    ]


def test_client_that_disconnects_mid_job(tmp_path: Path, qemu_tools: None) -> None:
    with serving(tmp_path, _raw_pair(tmp_path)) as served:
        starter = Client(served.sockets[0])
        starter.negotiate()
        reply = starter.execute("blockdev-backup", {
            "device": "src", "target": "dst", "sync": "full", "job-id": "slow", "speed": 1})
        assert reply == {"return": {}}
        starter.close()  # gone while the job runs
        other = Client(served.sockets[0])
        other.negotiate()
        jobs = other.execute("query-jobs")["return"]
        assert [(j["id"], j["status"]) for j in jobs] == [("slow", "running")]
        assert other.execute("job-cancel", {"id": "slow"}) == {"return": {}}
        other.wait_event("BLOCK_JOB_CANCELLED", device="slow")
        other.wait_event("JOB_STATUS_CHANGE", id="slow", status="null")
        assert other.execute("query-jobs") == {"return": []}
        other.close()
        _clean_exit(served)


def _sigterm_during_backups(tmp_path: Path) -> Path:
    """Start a drive-backup into a new file and a blockdev-backup, both
    slowed to a crawl, then SIGTERM: the server says SHUTDOWN and exits 0
    cleanly.  Returns the drive-backup target's path."""
    target = tmp_path / "new-target.raw"
    with serving(tmp_path, _raw_pair(tmp_path)) as served:
        client = Client(served.sockets[0])
        client.negotiate()
        reply = client.execute("drive-backup", {
            "device": "src", "target": str(target), "format": "raw", "sync": "full",
            "job-id": "slow", "speed": 1})
        assert reply == {"return": {}}
        reply = client.execute("blockdev-backup", {
            "device": "src", "target": "dst", "sync": "full", "job-id": "slow2", "speed": 1})
        assert reply == {"return": {}}
        served.process.send_signal(signal.SIGTERM)
        events = [m["event"] for m in client.until_eof()]
        assert "SHUTDOWN" in events
        _clean_exit(served, signalled=True)
    assert (tmp_path / "dst.raw").stat().st_size == 16 * MiB
    return target


def test_sigterm_during_a_running_backup(tmp_path: Path, qemu_tools: None) -> None:
    _sigterm_during_backups(tmp_path)


def test_sigterm_during_a_backup_leaves_no_half_written_file(
        tmp_path: Path, qemu_tools: None) -> None:
    target = _sigterm_during_backups(tmp_path)
    assert not target.exists()
