"""QMP throughput and start-up time: ``qapigen serve`` against QEMU 7.2.

Same run, same command line, same requests for both peers:

- ``greeting``: seconds from process start to the QMP greeting line;
- ``query-version sequential``: one request at a time, waiting for each reply;
- ``query-version pipelined``: a batch of requests written at once, then the
  replies read;
- ``transaction ...``: the same with a 4-action ``transaction``
  (block-dirty-bitmap add, clear, disable, remove of a fresh name: it leaves
  nothing behind, so every round does the same work).

Each measurement is repeated; the medians are printed, with serve/QEMU
ratios (for rates, > 1 means serve is faster; for the greeting, < 1).
The machine may be loaded by other work, so look at the medians.

    python benchmarks/qmp_throughput.py [--rounds 5] [--requests 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

Peer = tuple[str, list[str]]


def peers() -> list[Peer]:
    found: list[Peer] = []
    if shutil.which("qemu-system-x86_64"):
        found.append(("qemu", ["qemu-system-x86_64"]))
    found.append(("serve", [sys.executable, "-m", "qapigen", "serve"]))
    return found


def _env() -> dict[str, str]:
    """Run the qapigen this script imports (the work tree's, when run from it)."""
    import qapigen

    root = str(Path(qapigen.__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}


def machine_argv(tmp: Path, sock: Path) -> list[str]:
    return ["-machine", "none", "-nodefaults", "-display", "none",
            "-qmp", f"unix:{sock},server=on,wait=off",
            "-blockdev", f"driver=file,node-name=f0,filename={tmp / 'disk.qcow2'}",
            "-blockdev", "driver=qcow2,node-name=disk0,file=f0"]


class Connection:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rb")
        self.file.readline()  # greeting
        self.request(b'{"execute": "qmp_capabilities"}\n')

    def request(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        return self.reply()

    def reply(self) -> bytes:
        while True:
            line = self.file.readline()
            if not line:
                raise EOFError("peer closed the connection")
            if b'"event"' not in line:
                return line

    def close(self) -> None:
        self.file.close()
        self.sock.close()


class Running:
    """A peer process with its socket, started fresh for each measurement set."""

    def __init__(self, command: list[str], tmp: Path) -> None:
        self.sock = tmp / "bench.sock"
        with contextlib.suppress(FileNotFoundError):
            self.sock.unlink()
        self.process = subprocess.Popen([*command, *machine_argv(tmp, self.sock)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=_env())

    def greeting_seconds(self, start: float) -> float:
        """Connect as soon as the socket accepts; the time the greeting arrived."""
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("peer exited during start-up")
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(self.sock))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                probe.close()
                time.sleep(0.0005)
        probe.settimeout(30)
        probe.recv(4096)
        elapsed = time.perf_counter() - start
        probe.close()
        return elapsed

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


QUERY = b'{"execute": "query-version"}\n'


def transaction(n: int) -> bytes:
    name = f"bench{n}"
    actions = [{"type": kind, "data": {"node": "disk0", "name": name}}
               for kind in ("block-dirty-bitmap-add", "block-dirty-bitmap-clear",
                            "block-dirty-bitmap-disable", "block-dirty-bitmap-remove")]
    return json.dumps({"execute": "transaction", "arguments": {"actions": actions}}).encode() + b"\n"


def sequential(conn: Connection, requests: list[bytes]) -> float:
    start = time.perf_counter()
    for data in requests:
        reply = conn.request(data)
        assert b'"return"' in reply, reply
    return len(requests) / (time.perf_counter() - start)


def pipelined(conn: Connection, requests: list[bytes]) -> float:
    payload = b"".join(requests)
    start = time.perf_counter()
    writer = threading.Thread(target=conn.sock.sendall, args=(payload,))
    writer.start()
    for _ in requests:
        reply = conn.reply()
        assert b'"return"' in reply, reply
    writer.join()
    return len(requests) / (time.perf_counter() - start)


def measure(name: str, command: list[str], tmp: Path, rounds: int, count: int,
            results: dict[str, dict[str, list[float]]]) -> None:
    out = results.setdefault(name, {})
    for _ in range(rounds):
        start = time.perf_counter()
        running = Running(command, tmp)
        try:
            out.setdefault("greeting (s)", []).append(running.greeting_seconds(start))
        finally:
            running.stop()
    running = Running(command, tmp)
    try:
        running.greeting_seconds(time.perf_counter())
        conn = Connection(running.sock)
        tx_count = max(count // 4, 50)
        serial = [0]

        def fresh_transactions() -> list[bytes]:
            serial[0] += tx_count
            return [transaction(serial[0] + i) for i in range(tx_count)]

        cases: list[tuple[str, Callable[[], float]]] = [
            ("query-version sequential (/s)", lambda: sequential(conn, [QUERY] * count)),
            ("query-version pipelined (/s)", lambda: pipelined(conn, [QUERY] * count)),
            ("transaction sequential (/s)", lambda: sequential(conn, fresh_transactions())),
            ("transaction pipelined (/s)", lambda: pipelined(conn, fresh_transactions())),
        ]
        sequential(conn, [QUERY] * 200)  # warm up
        for _ in range(rounds):
            for label, run in cases:
                out.setdefault(label, []).append(run())
        conn.close()
    finally:
        running.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    if not shutil.which("qemu-img"):
        print("qemu-img is needed to create the test image", file=sys.stderr)
        return 1
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="qmp-bench-") as folder:
        tmp = Path(folder)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp / "disk.qcow2"),
                        "64M"], check=True)
        for name, command in peers():
            measure(name, command, tmp, args.rounds, args.requests, results)
    labels = list(next(iter(results.values())))
    print(f"{'median of ' + str(args.rounds):<32}" + "".join(f"{n:>12}" for n in results)
          + ("       serve/qemu" if "qemu" in results else ""))
    for label in labels:
        medians = {n: statistics.median(r[label]) for n, r in results.items()}
        row = f"{label:<32}" + "".join(
            f"{m:>12.3f}" if "(s)" in label else f"{m:>12.0f}" for m in medians.values())
        if "qemu" in medians:
            row += f"{medians['serve'] / medians['qemu']:>17.2f}"
        print(row)
    print(f"(cpus: {os.cpu_count()}, load average: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
