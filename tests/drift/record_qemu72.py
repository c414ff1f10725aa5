"""Record the replies and events of one QMP session with a real QEMU, as
the fixture ``qemu-7.2-session.json`` of ``tests/test_drift.py``.

Usage (QEMU 7.2's ``qemu-system-x86_64`` on PATH, or ``QEMU_SYSTEM``)::

    python tests/drift/record_qemu72.py tests/drift/qemu-7.2-session.json

The session: a qcow2 image with a backing file and a dirty bitmap, on a
``virtio-blk-pci`` device of a stopped ``pc`` machine (``-S``: no guest code runs), a
throttled ``blockdev-backup`` job (so that ``query-jobs`` and
``query-block-jobs`` show it running), the queries below, then the job
finishing.  Each reply is stored by command (the ``return`` value, as
received), each event as received; the temporary folder's path becomes
``{tmp}``.  Plain sockets: nothing of qapigen is used to record.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QEMU = os.environ.get("QEMU_SYSTEM", "qemu-system-x86_64")
QUERIES = (
    "query-version", "query-commands", "query-named-block-nodes", "query-block",
    "query-blockstats", "query-jobs", "query-block-jobs",
)


class Session:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(100):
            try:
                self.sock.connect(str(path))
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"no QMP socket at {path}")
        self.file = self.sock.makefile("rb")
        self.events: list[dict[str, Any]] = []
        self.greeting = self.read()

    def read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise RuntimeError("QEMU closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    def execute(self, command: str, **arguments: Any) -> Any:
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            message = self.read()
            if "event" in message:
                self.events.append(message)
            elif "error" in message:
                raise RuntimeError(f"{command}: {message['error']}")
            else:
                return message["return"]

    def wait_event(self, name: str) -> None:
        while not any(e["event"] == name for e in self.events):
            self.events.append(self.read())


def record(tmp: Path) -> dict[str, Any]:
    base, top, target = tmp / "base.qcow2", tmp / "top.qcow2", tmp / "target.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "4M"], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)],
        check=True,
    )
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(target), "4M"], check=True)
    subprocess.run(["qemu-io", "-c", "write -P 7 0 1M", str(top)], check=True,
                   stdout=subprocess.DEVNULL)
    sock = tmp / "qmp.sock"
    qemu = subprocess.Popen(
        [QEMU, "-nodefaults", "-display", "none", "-machine", "pc", "-accel", "tcg", "-S",
         "-qmp", f"unix:{sock},server=on,wait=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        s = Session(sock)
        s.execute("qmp_capabilities")
        s.execute("blockdev-add", **{"node-name": "disk", "driver": "qcow2",
                                     "file": {"driver": "file", "filename": str(top)}})
        s.execute("blockdev-add", **{"node-name": "target", "driver": "qcow2",
                                     "file": {"driver": "file", "filename": str(target)}})
        s.execute("device_add", driver="virtio-blk-pci", drive="disk", id="vd0")
        s.execute("block-dirty-bitmap-add", node="disk", name="bitmap0", granularity=65536)
        s.execute("blockdev-backup", **{"job-id": "job0", "device": "disk", "target": "target",
                                        "sync": "full", "speed": 1})
        replies = {command: s.execute(command) for command in QUERIES}
        s.execute("block-job-set-speed", device="job0", speed=0)
        s.wait_event("JOB_STATUS_CHANGE")
        s.wait_event("BLOCK_JOB_COMPLETED")
        while not any(e["event"] == "JOB_STATUS_CHANGE" and e["data"]["status"] == "null"
                      for e in s.events):
            s.events.append(s.read())
        s.execute("quit")
        session = {"qemu": replies["query-version"]["qemu"], "greeting": s.greeting,
                   "replies": replies, "events": s.events}
    finally:
        try:
            qemu.wait(10)
        except subprocess.TimeoutExpired:
            qemu.kill()
    text = json.dumps(session, indent=1, sort_keys=False).replace(str(tmp), "{tmp}")
    result: dict[str, Any] = json.loads(text)
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        session = record(Path(folder))
    Path(sys.argv[1]).write_text(json.dumps(session, indent=1) + "\n")


if __name__ == "__main__":
    main()
