"""Build a :class:`Machine` directly (no server, no QEMU) for the block
layer's unit tests, and read its observable state."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qapigen import qmp
from qapigen.runtime.block.images import create_qcow2, create_raw
from qapigen.runtime.machine import Machine
from qapigen.support.dispatch import Dispatcher
from qapigen.support.events import WireEvent


@dataclass
class Device:
    driver: str
    id: str | None
    drive: str | None
    props: dict[str, Any] = field(default_factory=lambda: {"share-rw": "on"})


@dataclass
class Config:
    blockdevs: list[qmp.BlockdevOptions]
    devices: list[Device] = field(default_factory=list)
    stopped: bool = True
    x_bitmap_commands: bool = False


def blockdev(**options: Any) -> qmp.BlockdevOptions:
    return qmp.BlockdevOptions_from_wire({k.replace("_", "-"): v for k, v in options.items()})


class Rig:
    """A Machine over a raw disk ``raw0`` (16 MiB, held by device vd0) and a
    qcow2 disk ``disk0`` (64 MiB), plus a dispatcher to drive it."""

    def __init__(self, tmp: Path, *, legacy: bool = False, fresh: bool = True) -> None:
        """``fresh=False`` reopens the images a previous Rig left in *tmp*."""
        self.tmp = tmp
        if fresh:
            create_raw(str(tmp / "r0.raw"), 16 << 20)
            create_qcow2(str(tmp / "d0.qcow2"), 64 << 20)
        config = Config(
            blockdevs=[
                blockdev(driver="file", node_name="f1", filename=str(tmp / "r0.raw")),
                blockdev(driver="raw", node_name="raw0", file="f1"),
                blockdev(driver="file", node_name="f0", filename=str(tmp / "d0.qcow2")),
                blockdev(driver="qcow2", node_name="disk0", file="f0"),
            ],
            devices=[Device("virtio-blk-pci", "vd0", "raw0")],
            x_bitmap_commands=legacy,
        )
        self.events: list[WireEvent] = []
        self.loop = asyncio.new_event_loop()
        self.machine = self.loop.run_until_complete(self._build(config))
        self.dispatcher: Dispatcher = self.machine.make_dispatcher(oob_offered=True)
        self.dispatcher.dispatch({"execute": "qmp_capabilities"})

    async def _build(self, config: Config) -> Machine:
        return Machine(config, self.events.append, lambda: None)

    def __call__(self, command: str, **arguments: Any) -> Any:
        """Run a command; returns the reply object."""
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        return self.loop.run_until_complete(self.dispatcher.dispatch_async(request))

    def ok(self, command: str, **arguments: Any) -> Any:
        reply = self(command, **arguments)
        assert "return" in reply, reply
        return reply["return"]

    def error(self, command: str, **arguments: Any) -> str:
        reply = self(command, **arguments)
        assert "error" in reply, reply
        desc: str = reply["error"]["desc"]
        return desc

    def write(self, node: str, pattern: int, offset: str, length: str) -> None:
        line = f'qemu-io {node} "write -P 0x{pattern:x} {offset} {length}"'
        assert self.ok("human-monitor-command", **{"command-line": line}) == ""

    def bitmaps(self, node: str) -> list[dict[str, Any]]:
        for info in self.ok("query-named-block-nodes", flat=True):
            if info["node-name"] == node:
                result: list[dict[str, Any]] = info.get("dirty-bitmaps", [])
                return result
        raise KeyError(node)

    def observable(self) -> str:
        """Everything a client could look at, plus the folder's files."""
        files = {
            name: (os.path.getsize(self.tmp / name))
            for name in sorted(os.listdir(self.tmp))
        }
        state = {
            "nodes": self.ok("query-named-block-nodes"),
            "block": self.ok("query-block"),
            "files": files,
        }
        return json.dumps(state, sort_keys=True)

    def close(self) -> None:
        self.loop.run_until_complete(self.machine.aclose("host-qmp-quit"))
        self.loop.close()


def action(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": {k.replace("_", "-"): v for k, v in data.items()}}
