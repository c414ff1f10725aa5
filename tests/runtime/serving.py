"""Start ``qapigen serve`` (or QEMU) as a subprocess for tests and benchmarks.

:func:`serving` yields a :class:`Served` with the QMP socket paths once the
first socket accepts connections, and always ends the process: SIGTERM,
then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.runtime.harness import peer_command, peer_env

STARTUP_TIMEOUT = 15.0


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    sockets: list[Path]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait; the exit status (SIGKILL if it does not end)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_for_socket(path: Path, process: subprocess.Popen[bytes],
                    timeout: float = STARTUP_TIMEOUT) -> None:
    """Until *path* accepts a connection (the probe connection is closed)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
                return
            except (FileNotFoundError, ConnectionRefusedError):
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {path}")
        time.sleep(0.002)


@contextlib.contextmanager
def serving(tmp: Path, argv: Sequence[str] = (), *, clients: int = 1, peer: str = "serve",
            machine: Sequence[str] = ("-machine", "none", "-nodefaults", "-display", "none"),
            ) -> Iterator[Served]:
    """Run the peer with ``-qmp`` sockets in *tmp* plus *argv*."""
    sockets = [tmp / f"serve{i}.sock" for i in range(clients)]
    qmp: list[str] = []
    for path in sockets:
        qmp += ["-qmp", f"unix:{path},server=on,wait=off"]
    err_path = tmp / f"{peer}.stderr"
    with open(err_path, "wb") as err:
        process = subprocess.Popen(
            [*peer_command(peer), *machine, *qmp, *argv],  # type: ignore[arg-type]
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, cwd=tmp,
            env={**peer_env(), "PYTHONUNBUFFERED": "1"},
        )
    served = Served(process, sockets, err_path)
    try:
        wait_for_socket(sockets[0], process)
        yield served
    finally:
        served.terminate()
