"""``qapigen serve``: parse QEMU's command line, bring the machine up, serve QMP.

Exit status: 0 after ``quit`` or a terminating signal (as QEMU), 1 for a
bad command line or a configuration that cannot be brought up, with one
line on stderr and no traceback.

Startup order keeps the time to the greeting short (QEMU greets within
milliseconds):

1. parse the command line and bind the sockets with plain ``socket`` calls
   (:mod:`qapigen.runtime.early`); a thread greets whoever connects;
2. import asyncio and the server, stop the thread, adopt its connections;
3. in a worker thread, import the generated package and decode the
   -blockdev options, while the event loop greets new connections;
4. build the machine; the requests that waited run.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from qapigen.runtime import early
from qapigen.runtime.options import OptionError, ServeConfig, parse_argv
from qapigen.runtime.version import greeting_line, version_wire

if TYPE_CHECKING:
    import socket

    from qapigen.runtime.server import QMPServer

PROG = "qapigen serve"
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


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
    # Until the event loop takes over, a signal is only noted.
    early_signals: list[int] = []
    for signum in _SIGNALS:
        signal.signal(signum, lambda number, frame: early_signals.append(number))
    try:
        listeners = early.bind(config.qmp)
    except early.BindError as err:
        print(f"{PROG}: -qmp {err}", file=sys.stderr)
        return 1
    greeter = early.Greeter(listeners, greeting_line(version_wire()))
    greeter.start()

    import asyncio

    try:
        return asyncio.run(serve(config, listeners, greeter, early_signals))
    except KeyboardInterrupt:  # a second ^C while shutting down
        return 0


async def serve(config: ServeConfig, listeners: list[socket.socket], greeter: early.Greeter,
                early_signals: list[int]) -> int:
    """Run the server until ``quit`` or a signal; the exit status."""
    import asyncio

    from qapigen.runtime.server import QMPServer

    server = QMPServer(config.qmp, log_path=config.qmp_log)
    loop = asyncio.get_running_loop()
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, _on_signal, server, signum)
    server.greet(version_wire())
    await server.bind(listeners)
    await server.adopt(greeter.stop())
    if early_signals:
        _on_signal(server, early_signals[0])

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


_pending: set[object] = set()


def _on_signal(server: QMPServer, signum: int) -> None:
    import asyncio

    print(f"{PROG}: terminating on signal {signum}", file=sys.stderr)
    task = asyncio.ensure_future(server.shutdown("host-signal"))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
