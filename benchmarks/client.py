"""Round trips per second of ``query-version``: the generated typed client
(``qapigen.qmp.Client``) against ``qemu.qmp``'s ``QMPClient``, same server,
same run.

Each peer (``qapigen serve``, and ``qemu-system-x86_64`` when installed)
gets two ``-qmp`` sockets, one per library (QEMU serves one connection per
socket).  Rounds alternate between the libraries; each round sends
``--requests`` sequential ``query-version`` commands, each waiting for its
reply (the typed client also decodes it into ``VersionInfo``).  Medians of
the rounds and the typed/qemu.qmp ratio (> 1: the typed client is faster)
are printed.  The machine may be loaded by other work: look at the medians.

    python benchmarks/client.py [--rounds 7] [--requests 2000] [--peer serve]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from qemu.qmp import QMPClient

from qapigen import qmp


def _env() -> dict[str, str]:
    """Run the qapigen this script imports (the work tree's, when run from it)."""
    import qapigen

    root = str(Path(qapigen.__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}


def _command(peer: str) -> list[str]:
    return ["qemu-system-x86_64"] if peer == "qemu" else [sys.executable, "-m", "qapigen", "serve"]


def _wait(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"nothing listens on {path}") from None
        time.sleep(0.01)


async def _measure(run: Callable[[], Awaitable[object]], requests: int) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        await run()
    return requests / (time.perf_counter() - start)


async def _bench(sockets: list[Path], rounds: int, requests: int) -> tuple[list[float], list[float]]:
    typed = qmp.Client()
    await typed.connect(sockets[0])
    other = QMPClient("bench")
    await other.connect(str(sockets[1]))
    typed_rates: list[float] = []
    other_rates: list[float] = []
    try:
        version = await typed.query_version()
        assert isinstance(version, qmp.VersionInfo)
        for _ in range(rounds):
            typed_rates.append(await _measure(typed.query_version, requests))
            other_rates.append(await _measure(lambda: other.execute("query-version"), requests))
    finally:
        await typed.close()
        await other.disconnect()
    return typed_rates, other_rates


def run_peer(peer: str, rounds: int, requests: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="qapigen-bench-") as folder:
        tmp = Path(folder)
        sockets = [tmp / "typed.sock", tmp / "qemu-qmp.sock"]
        argv = [*_command(peer), "-machine", "none", "-nodefaults", "-display", "none"]
        for path in sockets:
            argv += ["-qmp", f"unix:{path},server=on,wait=off"]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=_env())
        try:
            for path in sockets:
                _wait(path, process)
            typed, other = asyncio.run(_bench(sockets, rounds, requests))
        finally:
            process.terminate()
            process.wait(15)
    return statistics.median(typed), statistics.median(other)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--peer", choices=["serve", "qemu"], action="append")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # qemu.qmp logs every connection
    peers = args.peer or (["serve", "qemu"] if shutil.which("qemu-system-x86_64") else ["serve"])
    print(f"query-version round trips/s, median of {args.rounds} rounds of {args.requests}")
    print(f"{'server':<8} {'typed client':>13} {'qemu.qmp':>10} {'ratio':>7}")
    for peer in peers:
        typed, other = run_peer(peer, args.rounds, args.requests)
        print(f"{peer:<8} {typed:>13,.0f} {other:>10,.0f} {typed / other:>6.2f}x")


if __name__ == "__main__":
    main()
