"""The differential harness: one scenario, replayed against a peer.

A peer is either real QEMU (``qemu-system-x86_64``) or ``qapigen serve``;
both get the same command line.  A :class:`Scenario` is data: the images
to create, the ``-blockdev``/``-device`` options, and the steps to replay
over one or more QMP connections.  :func:`run_scenario` returns the
normalized transcript (every message sent and received, in order) and,
on request, the final bytes of files in the peer's folder.

The transcript is a list of lines ``c<N>> <sent>`` and ``c<N>< <received>``.
A received message is re-serialized the way QEMU writes JSON after
normalization; when the peer's own line is not exactly that serialization
of the parsed message plus CRLF, the raw line is kept instead (prefixed with
``!``), so framing and escaping differences show up as transcript diffs.

Normalized, and nothing else: event timestamps, internal snapshots' dates
(``date-sec``/``date-nsec``), version objects
(``{"qemu": ..., "package": ...}``), QEMU-internal ``#blockNNN`` node names
(numbered by first appearance), anonymous dirty bitmaps, transient
paused -> running ``JOB_STATUS_CHANGE`` pairs, and the peer's temp folder
in strings (``{tmp}``).

Each client connects to its own ``-qmp`` socket, since QEMU's socket
chardev serves one connection at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Peer = Literal["qemu", "serve"]
PEERS: tuple[Peer, ...] = ("qemu", "serve")

QEMU_BINARY = os.environ.get("QEMU_SYSTEM", "qemu-system-x86_64")
#: Seconds any single read, connect or process exit may take.
STEP_TIMEOUT = float(os.environ.get("QAPIGEN_HARNESS_TIMEOUT", "15"))


class HarnessError(Exception):
    """A scenario could not be replayed: a peer died, timed out or sent
    something the step did not expect.  Carries the transcript so far."""

    def __init__(self, message: str, transcript: Sequence[str] = (), stderr: str = "") -> None:
        detail = message
        if transcript:
            detail += "\ntranscript so far:\n  " + "\n  ".join(transcript[-30:])
        if stderr:
            detail += "\npeer stderr:\n" + stderr[-4000:]
        super().__init__(detail)


# -- scenario data ------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """An image file created with ``qemu-img create`` before the peer starts.

    ``fill`` entries are ``(pattern, offset, length)`` written with
    ``qemu-io -c "write -P pattern offset length"``; offsets and lengths may
    be qemu-io size strings (``"64k"``).  In the command line and in step
    arguments, ``{<name>}`` stands for the image's path.
    """

    name: str
    fmt: Literal["qcow2", "raw"]
    size: str
    fill: Sequence[tuple[int, int | str, int | str]] = ()
    backing: str | None = None  # name of another Image, created first


@dataclass(frozen=True)
class Cmd:
    execute: str
    arguments: Mapping[str, Any] | None
    client: int
    request_id: tuple[Any, ...]  # () or (id,)


@dataclass(frozen=True)
class Raw:
    data: bytes
    client: int
    replies: int


@dataclass(frozen=True)
class WaitEvent:
    event: str
    match: Mapping[str, Any]
    client: int


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Connect:
    """Open a client connection late (clients normally connect at start)."""

    client: int


@dataclass(frozen=True)
class Disconnect:
    client: int


@dataclass(frozen=True)
class WaitClosed:
    """Collect messages until the peer closes the connection."""

    client: int


Step = Cmd | Raw | WaitEvent | Sleep | Connect | Disconnect | WaitClosed

_NO_ID = object()
_CLOSED = object()


def cmd(execute: str, *, client: int = 0, qid: Any = _NO_ID,
        arguments: Mapping[str, Any] | None = None, **kwargs: Any) -> Cmd:
    """Send ``{"execute": ..., "arguments": {...}}`` and collect everything
    until its reply.  Keyword arguments become the arguments (use
    ``**{"job-id": "j0"}`` for dashed names); ``arguments=`` gives them as one
    mapping instead.  ``qid`` adds a request ``id`` (any JSON value)."""
    if arguments is not None and kwargs:
        raise ValueError("give arguments either as keywords or as arguments=, not both")
    args = dict(arguments) if arguments is not None else (dict(kwargs) if kwargs else None)
    return Cmd(execute, args, client, () if qid is _NO_ID else (qid,))


def raw(data: bytes | str, *, client: int = 0, replies: int = 1) -> Raw:
    """Send raw bytes and collect messages until ``replies`` non-event
    messages (replies or errors) have arrived."""
    return Raw(data.encode() if isinstance(data, str) else data, client, replies)


def wait_event(event: str, *, client: int = 0, **match: Any) -> WaitEvent:
    """Collect messages until event ``event`` arrives whose ``data``
    contains every ``match`` item (dashed keys: ``**{"job-id": ...}``)."""
    return WaitEvent(event, match, client)


def hmp_write(node: str, pattern: int, offset: int | str, length: int | str, *,
              client: int = 0) -> Cmd:
    """A guest-like write through HMP ``qemu-io NODE "write -P ..."``."""
    line = f'qemu-io {node} "write -P 0x{pattern:x} {offset} {length}"'
    return cmd("human-monitor-command", client=client, arguments={"command-line": line})


def sleep(seconds: float) -> Sleep:
    return Sleep(seconds)


def connect(client: int) -> Connect:
    return Connect(client)


def disconnect(client: int) -> Disconnect:
    return Disconnect(client)


def wait_closed(client: int = 0) -> WaitClosed:
    """Collect messages until the peer closes this connection (after quit)."""
    return WaitClosed(client)


@dataclass(frozen=True)
class Scenario:
    """A differential scenario: same argv and steps for both peers."""

    name: str
    steps: Sequence[Step]
    images: Sequence[Image] = ()
    blockdevs: Sequence[str] = ()
    devices: Sequence[str] = ()
    extra_argv: Sequence[str] = ()
    clients: int = 1
    #: Clients that are not connected at start (see :func:`connect`).
    late_clients: Sequence[int] = ()
    #: Negotiate capabilities on every client before the steps, unrecorded?
    #: False: the scenario's steps do it (and it is in the transcript).
    negotiate: bool = False
    #: Files (image names or paths relative to the peer's folder) whose
    #: final bytes the differential test compares.
    compare_files: Sequence[str] = ()

    def argv(self, tmp: Path, sockets: Sequence[Path]) -> list[str]:
        """The peer's command line, without the program name."""
        machine = ["-machine", "pc", "-accel", "tcg", "-S"] if self.devices else ["-machine", "none"]
        argv = [*machine, "-nodefaults", "-display", "none"]
        for path in sockets:
            argv += ["-qmp", f"unix:{path},server=on,wait=off"]
        for spec in self.blockdevs:
            argv += ["-blockdev", spec]
        for spec in self.devices:
            argv += ["-device", spec]
        argv += list(self.extra_argv)
        return [substitute(a, tmp, self.images) for a in argv]


# -- results --------------------------------------------------------------------


@dataclass
class Result:
    peer: Peer
    transcript: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    stderr: str = ""
    returncode: int | None = None


def substitute(text: str, tmp: Path, images: Sequence[Image]) -> str:
    """Replace ``{tmp}`` and ``{<image>}`` (no other braces are touched,
    so JSON in the text is safe)."""
    text = text.replace("{tmp}", str(tmp))
    for image in images:
        text = text.replace("{" + image.name + "}", str(image_path(tmp, image)))
    return text


def image_path(tmp: Path, image: Image) -> Path:
    return tmp / f"{image.name}.{image.fmt}"


def _substitute_value(value: Any, tmp: Path, images: Sequence[Image]) -> Any:
    if isinstance(value, str):
        return substitute(value, tmp, images)
    if isinstance(value, list | tuple):
        return [_substitute_value(v, tmp, images) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute_value(v, tmp, images) for k, v in value.items()}
    return value


# -- JSON as QEMU writes it -----------------------------------------------------


def qemu_json(value: Any) -> str:
    """Serialize as QEMU's JSON writer does: ``", "``/``": "`` separators,
    non-ASCII and control characters as upper-case ``\\uXXXX``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_qemu_str(k)}: {qemu_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(qemu_json(v) for v in value) + "]"
    if isinstance(value, str):
        return _qemu_str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return format(value, ".17g")
    return str(value)


#: A version object in a raw (unparsed) line.
_VERSION = re.compile(r'\{"qemu": \{[^{}]*\}, "package": "(?:[^"\\]|\\.)*"\}')

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


def _qemu_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) > 0xFFFF:
            code = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
        else:
            out.append(f"\\u{ord(ch):04X}")
    out.append('"')
    return "".join(out)


# -- normalization --------------------------------------------------------------


class _Normalizer:
    """Per-run state: ``#block`` names are numbered by first appearance."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = str(tmp)
        self.nodes: dict[str, str] = {}

    def message(self, msg: Any) -> Any:
        if isinstance(msg, dict) and "event" in msg and "timestamp" in msg:
            msg = {k: ({"seconds": 0, "microseconds": 0} if k == "timestamp" else v)
                   for k, v in msg.items()}
        return self.value(msg)

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"qemu", "package"}:
                return "<version>"
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key == "dirty-bitmaps" and isinstance(item, list):
                    item = [b for b in item if not (isinstance(b, dict) and "name" not in b)]
                if key in ("date-sec", "date-nsec") and isinstance(item, int):
                    item = 0  # an internal snapshot's wall-clock timestamp
                out[key] = self.value(item)
            return out
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.string(value)
        return value

    def string(self, text: str) -> str:
        if self.tmp in text:
            text = text.replace(self.tmp, "{tmp}")
        return re.sub(r"#block\d+", self._node, text)

    def _node(self, match: re.Match[str]) -> str:
        name = match.group(0)
        if name not in self.nodes:
            self.nodes[name] = f"#node{len(self.nodes)}"
        return self.nodes[name]


@dataclass
class _Entry:
    client: int
    direction: Literal[">", "<"]
    sent: Any = None  # the request (dict) or raw bytes
    line: bytes = b""  # a received line, as the peer wrote it
    msg: Any = None  # the received line parsed (None when not JSON)


def drop_transient_pauses(entries: list[_Entry]) -> list[_Entry]:
    """Remove ``JOB_STATUS_CHANGE`` paused events whose next status change
    for the same job (on the same client) is running, and that running."""
    drop: set[int] = set()

    def status(entry: _Entry) -> tuple[Any, Any] | None:
        msg = entry.msg
        if (entry.direction == "<" and isinstance(msg, dict)
                and msg.get("event") == "JOB_STATUS_CHANGE" and isinstance(msg.get("data"), dict)):
            return msg["data"].get("id"), msg["data"].get("status")
        return None

    for i, entry in enumerate(entries):
        st = status(entry)
        if st is None or st[1] != "paused" or i in drop:
            continue
        for j in range(i + 1, len(entries)):
            if entries[j].client != entry.client:
                continue
            nxt = status(entries[j])
            if nxt is not None and nxt[0] == st[0]:
                if nxt[1] == "running":
                    drop.update((i, j))
                break
    return [e for i, e in enumerate(entries) if i not in drop]


# -- peers ----------------------------------------------------------------------


def serve_command() -> list[str]:
    """How to start ``qapigen serve``: this interpreter's ``-m qapigen``."""
    return [sys.executable, "-m", "qapigen", "serve"]


def peer_command(peer: Peer) -> list[str]:
    return [QEMU_BINARY] if peer == "qemu" else serve_command()


def peer_env() -> dict[str, str]:
    """The environment for a peer: serve must run the very qapigen these
    tests import (another install on the machine may come first on
    sys.path otherwise)."""
    import qapigen

    root = str(Path(qapigen.__file__).resolve().parent.parent)
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def qemu_available() -> bool:
    return shutil.which(QEMU_BINARY) is not None


def make_images(tmp: Path, images: Sequence[Image]) -> None:
    """Create the scenario's images with qemu-img and pre-fill them with qemu-io."""
    for image in images:
        path = image_path(tmp, image)
        argv = ["qemu-img", "create", "-q", "-f", image.fmt]
        if image.backing is not None:
            backing = next(i for i in images if i.name == image.backing)
            argv += ["-b", str(image_path(tmp, backing)), "-F", backing.fmt]
        _run([*argv, str(path), image.size])
        if image.fill:
            writes: list[str] = []
            for pattern, offset, length in image.fill:
                writes += ["-c", f"write -P 0x{pattern:x} {offset} {length}"]
            _run(["qemu-io", "-f", image.fmt, *writes, str(path)])


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
    if done.returncode != 0:
        raise HarnessError(f"{' '.join(argv)} failed: {done.stderr.strip()}")


class _Client:
    """One QMP connection with a line buffer and deadlines on every read."""

    def __init__(self, index: int, path: Path, peer: _Process) -> None:
        self.index = index
        self.peer = peer
        self.buffer = b""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as err:
                peer.check_alive(f"connecting client {index}")
                if time.monotonic() > deadline:
                    raise HarnessError(f"client {index}: no QMP socket at {path}",
                                       stderr=peer.stderr()) from err
                time.sleep(0.002)

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as err:
            raise HarnessError(f"client {self.index}: send failed: {err}",
                               stderr=self.peer.stderr()) from err

    def read_line(self, what: str, eof_ok: bool = False) -> bytes:
        """The next line; b"" at end of file when *eof_ok*."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HarnessError(f"client {self.index}: timed out waiting for {what}",
                                   stderr=self.peer.stderr())
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError as err:
                if eof_ok and not self.buffer:
                    return b""
                raise HarnessError(f"client {self.index}: read failed waiting for {what}: {err}",
                                   stderr=self.peer.stderr()) from err
            if not chunk:
                if eof_ok and not self.buffer:
                    return b""
                raise HarnessError(f"client {self.index}: connection closed waiting for {what}",
                                   stderr=self.peer.stderr())
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Process:
    def __init__(self, argv: list[str], tmp: Path) -> None:
        self.out = open(tmp / "peer.stdout", "wb")  # noqa: SIM115 - closed in stop()
        self.err = open(tmp / "peer.stderr", "wb")  # noqa: SIM115
        self.err_path = tmp / "peer.stderr"
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, cwd=tmp, env=peer_env())

    def stderr(self) -> str:
        try:
            return self.err_path.read_text(errors="replace")
        except OSError:
            return ""

    def check_alive(self, what: str) -> None:
        if self.proc.poll() is not None:
            raise HarnessError(f"peer exited with {self.proc.returncode} while {what}",
                               stderr=self.stderr())

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()
        return self.proc.returncode


# -- replay ---------------------------------------------------------------------


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _is_event(msg: Any) -> bool:
    return isinstance(msg, dict) and "event" in msg


def _matches(msg: Any, event: str, match: Mapping[str, Any]) -> bool:
    if not (isinstance(msg, dict) and msg.get("event") == event):
        return False
    data = msg.get("data", {})
    return isinstance(data, dict) and all(data.get(k) == v for k, v in match.items())


def run_scenario(scenario: Scenario, peer: Peer, *, workdir: Path | None = None,
                 keep_files: Sequence[str] | None = None) -> Result:
    """Replay *scenario* against *peer*; return its normalized transcript
    and the bytes of ``keep_files`` (default: ``scenario.compare_files``)."""
    wanted = scenario.compare_files if keep_files is None else keep_files
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qapigen-diff-")))
        tmp = workdir.resolve()
        make_images(tmp, scenario.images)
        sockets = [tmp / f"qmp{i}.sock" for i in range(scenario.clients)]
        # One more, hidden socket for the start-up barrier (see _barrier).
        barrier = tmp / "barrier.sock"
        process = _Process([*peer_command(peer), *scenario.argv(tmp, [*sockets, barrier])], tmp)
        entries: list[_Entry] = []
        result = Result(peer, [])
        norm = _Normalizer(tmp)
        try:
            _barrier(barrier, process)
            _replay(scenario, tmp, sockets, process, entries)
        except HarnessError as err:
            process.stop()
            raise HarnessError(str(err), _render(entries, norm)) from None
        finally:
            result.returncode = process.stop()
            result.stderr = process.stderr()
        result.transcript = _render(entries, norm)
        for name in wanted:
            image = next((i for i in scenario.images if i.name == name), None)
            path = image_path(tmp, image) if image is not None else tmp / substitute(
                name, tmp, scenario.images)
            result.files[name] = path.read_bytes() if path.exists() else b""
        return result


def _barrier(path: Path, process: _Process) -> None:
    """Wait until the peer has finished starting, outside the transcript.

    QEMU binds its sockets before it has finished starting; without -S it
    then starts the guest and emits RESUME, to every connection whose
    greeting is not out yet (a monitor not greeted is not in negotiation
    mode).  A client connecting in that window would record a RESUME that
    another run would not.  A command answered on a hidden connection
    proves QEMU's main loop runs, and that start-up is over.
    """
    client = _Client(-1, path, process)
    try:
        while b'"QMP"' not in client.read_line("the barrier greeting"):
            pass
        client.send(b'{"execute": "qmp_capabilities", "arguments": {"enable": ["x-barrier"]}}\n')
        while b'"error"' not in client.read_line("the barrier reply"):
            pass
    finally:
        client.close()


def _replay(scenario: Scenario, tmp: Path, sockets: list[Path], process: _Process,
            entries: list[_Entry]) -> None:
    clients: dict[int, _Client] = {}

    def open_client(index: int) -> None:
        client = _Client(index, sockets[index], process)
        clients[index] = client
        receive(index, "the greeting", lambda msg: True)
        if scenario.negotiate:
            client.send(b'{"execute": "qmp_capabilities"}\n')
            line = client.read_line("the negotiation reply")
            if _parse(line) != {"return": {}}:
                raise HarnessError(f"client {index}: negotiation failed: {line!r}")

    def receive(index: int, what: str, done: Any) -> None:
        client = clients.get(index)
        if client is None:
            raise HarnessError(f"client {index} is not connected")
        while True:
            line = client.read_line(what)
            msg = _parse(line)
            entries.append(_Entry(index, "<", line=line, msg=msg))
            if done(msg):
                return

    try:
        for index in range(scenario.clients):
            if index not in scenario.late_clients:
                open_client(index)
        for step in scenario.steps:
            if isinstance(step, Cmd):
                request: dict[str, Any] = {"execute": step.execute}
                if step.arguments is not None:
                    request["arguments"] = _substitute_value(step.arguments, tmp, scenario.images)
                if step.request_id:
                    request["id"] = step.request_id[0]
                entries.append(_Entry(step.client, ">", sent=request))
                _client(clients, step.client).send(json.dumps(request).encode() + b"\n")
                receive(step.client, f"the reply to {step.execute}",
                        lambda msg: not _is_event(msg))
            elif isinstance(step, Raw):
                entries.append(_Entry(step.client, ">", sent=step.data))
                _client(clients, step.client).send(step.data)
                pending = [step.replies]

                def counted(msg: Any, pending: list[int] = pending) -> bool:
                    if not _is_event(msg):
                        pending[0] -= 1
                    return pending[0] <= 0

                if step.replies > 0:
                    receive(step.client, f"{step.replies} replies to raw input", counted)
            elif isinstance(step, WaitEvent):
                receive(step.client, f"event {step.event}",
                        lambda msg, s=step: _matches(msg, s.event, s.match))
            elif isinstance(step, Sleep):
                time.sleep(step.seconds)
            elif isinstance(step, Connect):
                open_client(step.client)
            elif isinstance(step, Disconnect):
                _client(clients, step.client).close()
                del clients[step.client]
            elif isinstance(step, WaitClosed):
                client = _client(clients, step.client)
                while line := client.read_line("the connection to close", eof_ok=True):
                    entries.append(_Entry(step.client, "<", line=line, msg=_parse(line)))
                entries.append(_Entry(step.client, "<", line=b"", msg=_CLOSED))
            else:  # pragma: no cover - Step is a closed union
                raise TypeError(step)
    finally:
        for client in clients.values():
            client.close()


def _client(clients: dict[int, _Client], index: int) -> _Client:
    try:
        return clients[index]
    except KeyError:
        raise HarnessError(f"client {index} is not connected") from None


def _render(entries: list[_Entry], norm: _Normalizer) -> list[str]:
    lines: list[str] = []
    for entry in drop_transient_pauses(entries):
        if entry.direction == ">":
            if isinstance(entry.sent, bytes):
                lines.append(f"c{entry.client}> raw {norm.string(entry.sent.decode('latin-1'))!r}")
            else:
                lines.append(f"c{entry.client}> {norm.string(qemu_json(entry.sent))}")
        else:
            lines.append(f"c{entry.client}< {_received(entry, norm)}")
    return lines


def _received(entry: _Entry, norm: _Normalizer) -> str:
    """A received message as a transcript line (see the module docstring)."""
    if entry.msg is _CLOSED:
        return "<connection closed>"
    text = entry.line.decode("utf-8", "replace")
    if entry.msg is None or qemu_json(entry.msg) + "\r\n" != text:
        return "! " + _VERSION.sub('"<version>"', norm.string(text)).rstrip("\r\n")
    return qemu_json(norm.message(entry.msg))


def received_lines_exact(result: Result) -> bool:
    """True when no received line was kept raw (all were QEMU-formatted)."""
    return not any(line.split(" ", 1)[1].startswith("!") for line in result.transcript
                   if line[2] == "<")


def iter_scenarios(modules: Sequence[Any]) -> Iterator[Scenario]:
    seen: set[str] = set()
    for module in modules:
        for scenario in getattr(module, "SCENARIOS", []):
            if scenario.name in seen:
                raise ValueError(f"duplicate scenario name {scenario.name!r}")
            seen.add(scenario.name)
            yield scenario
