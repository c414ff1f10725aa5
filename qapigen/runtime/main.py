"""``qapigen serve``: parse QEMU's command line, bring the machine up, serve QMP.

Exit status: 0 after ``quit`` or a terminating signal (as QEMU), 1 for a
bad command line or a configuration that cannot be brought up, with one
line on stderr and no traceback.

Startup order keeps the time to the greeting short: the sockets are bound
and greet first; then the heavy part (the generated package, the -blockdev
decoding and the machine) is imported and built, and the requests that
are waiting run.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

from qapigen.runtime.options import OptionError, ServeConfig, parse_argv
from qapigen.runtime.server import QMPServer, ServeError
from qapigen.runtime.version import version_wire

PROG = "qapigen serve"


def main(argv: Sequence[str]) -> int:
    try:
        config = parse_argv(argv, decode=False)
    except OptionError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    if not config.qmp:
        print(f"{PROG}: no QMP socket given (use -qmp unix:PATH,server=on,wait=off)",
              file=sys.stderr)
        return 1
    try:
        return asyncio.run(serve(config))
    except KeyboardInterrupt:  # a second ^C while shutting down
        return 0


async def serve(config: ServeConfig) -> int:
    """Run the server until ``quit`` or a signal; the exit status.

    The sockets are bound and greet at once; the generated package and the
    machine (the slow part of starting) come after, and requests wait for
    them.  A configuration that cannot be brought up closes the sockets
    and exits 1 with QEMU's message.
    """
    server = QMPServer(config.qmp, log_path=config.qmp_log)
    try:
        await server.bind()
    except ServeError as err:
        print(f"{PROG}: -qmp {err}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, _on_signal, server, signum)
    server.greet(version_wire())

    try:
        # The slow imports run in a thread, so that the event loop greets
        # the clients that connect meanwhile.
        machine_module = await loop.run_in_executor(None, _load, config)
        Machine, StartupError = machine_module.Machine, machine_module.StartupError
        try:
            machine = Machine(config, server.emit, server.request_shutdown)
        except StartupError as err:
            option = config.option_in_progress()
            raise OptionError(f"{option}: {err}" if option else str(err)) from None
    except OptionError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        await server.close()
        return 1
    if server.closing:  # a signal came while the machine was being built
        await machine.aclose("host-signal")
        return 0
    server.attach(machine, lambda: machine.make_dispatcher(oob_offered=True))
    await server.wait_stopped()
    return 0


def _load(config: ServeConfig) -> ModuleType:
    """The heavy part of starting: the generated package (through the
    machine module) and the -blockdev decoding; raises OptionError."""
    config.decode_blockdevs()
    from qapigen.runtime import machine

    return machine


_pending: set[asyncio.Task[None]] = set()


def _on_signal(server: QMPServer, signum: int) -> None:
    print(f"{PROG}: terminating on signal {signum}", file=sys.stderr)
    task = asyncio.ensure_future(server.shutdown("host-signal"))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
