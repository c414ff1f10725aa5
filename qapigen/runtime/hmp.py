"""``human-monitor-command``: the ``qemu-io`` subset tests use to play
the guest (spec F).

``qemu-io [-d] NAME "CMD"`` with CMD one of ``write [-P PAT] [-z] OFF LEN``
and ``discard OFF LEN`` (``read`` is accepted and does nothing visible).
As in QEMU 7.2, only monitor-level problems come back in the returned
string (``Error: ...\\r\\n``); what qemu-io itself prints (``wrote ...``,
its own errors) goes to QEMU's stdout, so the reply is ``""``.
NAME is a node name, or with ``-d`` a device's qdev id (``ID/virtio-backend``
for virtio-blk devices).  Writes go through the node, so bitmaps are
marked and copy-before-write hooks run.
"""

from __future__ import annotations

import contextlib
import shlex
from typing import TYPE_CHECKING

from qapigen.runtime.backup import write_conflict
from qapigen.runtime.block.graph import BlockBackend, Node, write_unshared_by
from qapigen.support.errors import QMPError

if TYPE_CHECKING:
    from qapigen.runtime.machine import Machine

_SUFFIXES = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50,
             "e": 1 << 60}


class _QemuIoError(Exception):
    """qemu-io refused the command: it prints to stdout, the reply is ''."""


def parse_size(text: str) -> int:
    """qemu-io's ``cvtnum``: decimal or hex, with an optional unit suffix."""
    if not text:
        raise _QemuIoError(text)
    scale = 1
    if text[-1].lower() in _SUFFIXES and not text.lower().startswith("0x"):
        scale = _SUFFIXES[text[-1].lower()]
        text = text[:-1]
    try:
        value = int(text, 0) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        try:
            value = int(float(text) * scale)
            return value
        except ValueError as err:
            raise _QemuIoError(text) from err
    if value < 0:
        raise _QemuIoError(text)
    return value * scale


def human_monitor_command(machine: Machine, command_line: str) -> str:
    words = command_line.strip().split(None, 1)
    if not words:
        return ""
    if words[0] != "qemu-io":
        return f"unknown command: '{words[0]}'\r\n"
    try:
        args = shlex.split(words[1]) if len(words) > 1 else []
    except ValueError:
        args = []
    qdev = False
    while args and args[0].startswith("-") and args[0] in ("-d", "-r"):
        qdev = qdev or args[0] == "-d"
        args.pop(0)
    if not args:
        return ("qemu-io: block device name expected\r\n"
                "Try \"help qemu-io\" for more information\r\n")
    if len(args) < 2:
        return ("qemu-io: command expected\r\n"
                "Try \"help qemu-io\" for more information\r\n")
    name, command = args[0], args[1]
    try:
        node = _target(machine, name, qdev)
    except QMPError as err:
        return f"Error: {err.desc}\r\n"
    if node.read_only and _needs_write(command):
        # qemu-io asks for write permission before parsing the options, and
        # that error goes to the monitor
        return "Block node is read-only\r\n"
    if not qdev:
        conflict = write_conflict(node, command)
        if conflict is not None:
            return conflict + "\r\n"
        unshared = write_unshared_by(machine.graph, node) if _needs_write(command) else None
        if unshared is not None:
            return (f"Permission conflict on node '{node.name}': permissions 'write' are both"
                    f" required by an unnamed block device (uses node '{node.name}' as 'root'"
                    f" child) and {unshared}.\r\n")
    elif _needs_write(command) and _backend(machine, name).read_only:
        return ""  # a CD-ROM: qemu-io reports the failed write on QEMU's stdout
    with contextlib.suppress(_QemuIoError, QMPError):
        run_qemu_io(node, command)
    return ""


def _needs_write(command: str) -> bool:
    """A write or discard with a plausible argument count."""
    argv = command.split()
    return bool(argv) and argv[0] in ("write", "discard") and len(argv) >= 3


def _backend(machine: Machine, name: str) -> BlockBackend:
    """``blk_by_qdev_id``."""
    graph = machine.graph
    for backend in graph.backends:
        if backend.answers_to(name):
            return backend
    for backend in graph.backends:
        if backend.device_id == name:
            raise QMPError("Device does not have a block device backend")
    raise QMPError(f"Device '{name}' not found")


def _target(machine: Machine, name: str, qdev: bool) -> Node:
    graph = machine.graph
    if qdev:
        backend = _backend(machine, name)
        if backend.root is None:
            raise QMPError("Device has no medium")
        return backend.root
    named = graph.backend_named(name)
    if named is not None and named.root is not None:
        return named.root
    return graph.lookup_bs(None, name)


def run_qemu_io(node: Node, command: str) -> None:
    """One qemu-io command against *node*."""
    argv = command.split()
    if not argv:
        raise _QemuIoError("empty")
    verb, rest = argv[0], argv[1:]
    if verb == "write":
        pattern = 0xCD
        zeroes = False
        positional: list[str] = []
        i = 0
        while i < len(rest):
            arg = rest[i]
            if arg == "-P" and i + 1 < len(rest):
                pattern = parse_size(rest[i + 1]) & 0xFF
                i += 2
                continue
            if arg.startswith("-P") and len(arg) > 2:
                pattern = parse_size(arg[2:]) & 0xFF
            elif arg == "-z":
                zeroes = True
            elif arg in ("-q", "-u", "-f", "-n", "-p", "-C", "-b", "-c"):
                pass
            elif arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
                raise _QemuIoError(arg)
            else:
                positional.append(arg)
            i += 1
        if len(positional) != 2:
            raise _QemuIoError("arguments")
        offset, length = parse_size(positional[0]), parse_size(positional[1])
        if node.read_only:
            raise _QemuIoError("read-only")
        if zeroes:
            node.write_zeroes(offset, length)
        else:
            node.check_request(offset, length)
            node.write(offset, bytes([pattern]) * length)
    elif verb == "discard":
        positional = [a for a in rest if not a.startswith("-")]
        if len(positional) != 2:
            raise _QemuIoError("arguments")
        if node.read_only:
            raise _QemuIoError("read-only")
        node.discard(parse_size(positional[0]), parse_size(positional[1]))
    elif verb == "read":
        positional = [a for a in rest if not a.startswith("-")]
        if len(positional) == 2:
            node.check_request(parse_size(positional[0]), parse_size(positional[1]))
    else:
        raise _QemuIoError(verb)
