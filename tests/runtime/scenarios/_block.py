"""Shared pieces of the block scenarios: disks, devices and steps."""

from __future__ import annotations

from typing import Any

from tests.runtime.harness import Cmd, Image, cmd

#: A 16 MiB raw disk with 1 MiB of data, held by device vd0.
RAW_DISK: dict[str, Any] = {
    "images": [Image("d0", "raw", "16M", fill=[(0x11, 0, "1M")])],
    "blockdevs": ["driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0"],
    "devices": ["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on"],
    "negotiate": True,
}

#: The raw disk plus a 64 MiB qcow2 disk ``q0`` (1 MiB of data, no device).
TWO_DISKS: dict[str, Any] = {
    "images": [Image("d0", "raw", "16M", fill=[(0x11, 0, "1M")]),
               Image("q", "qcow2", "64M", fill=[(0x22, "4M", "1M")])],
    "blockdevs": ["driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0",
                  "driver=file,node-name=fq,filename={q}", "driver=qcow2,node-name=q0,file=fq"],
    "devices": ["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on"],
    "negotiate": True,
}


def hmp(line: str) -> Cmd:
    return cmd("human-monitor-command", arguments={"command-line": line})


def qemu_io(node: str, command: str) -> Cmd:
    return hmp(f'qemu-io {node} "{command}"')


def device_write(pattern: int, offset: str, length: str) -> Cmd:
    """A guest write through vd0's BlockBackend (whatever its root is now)."""
    return hmp(f'qemu-io -d vd0/virtio-backend "write -P 0x{pattern:x} {offset} {length}"')


def nodes(flat: bool = False) -> Cmd:
    return cmd("query-named-block-nodes", flat=True) if flat else cmd("query-named-block-nodes")


def act(kind: str, **data: Any) -> dict[str, Any]:
    """A transaction action; ``snake_case`` keys become ``dashed-names``."""
    return {"type": kind, "data": {k.replace("_", "-"): v for k, v in data.items()}}


def transaction(*actions: dict[str, Any], grouped: bool = False) -> Cmd:
    arguments: dict[str, Any] = {"actions": list(actions)}
    if grouped:
        arguments["properties"] = {"completion-mode": "grouped"}
    return cmd("transaction", arguments=arguments)


def add(node: str, name: str, **extra: Any) -> Cmd:
    return cmd("block-dirty-bitmap-add", arguments={"node": node, "name": name, **extra})
