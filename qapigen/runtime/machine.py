"""The Machine: one object owning all state of ``qapigen serve`` (block
graph, devices, bitmaps, jobs, run state); it is the ``self`` of every
command handler.

It combines the job commands (``JobCommands``, backup.py), the block
commands (``BlockCommands``, commands.py) and the generated ``Handlers``
base class.  The server builds one Machine inside the running event loop
and one dispatcher per connection with :meth:`Machine.make_dispatcher`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from qapigen import qmp
from qapigen.runtime.actions import ACTIONS
from qapigen.runtime.backup import JobCommands, register_actions
from qapigen.runtime.block.graph import BlockBackend, Graph, qdev_path
from qapigen.runtime.commands import BlockCommands
from qapigen.runtime.jobs import JobManager
from qapigen.support.dispatch import Dispatcher
from qapigen.support.errors import QMPError
from qapigen.support.events import WireEvent

#: The release serve identifies as (spec A.2).
QEMU_VERSION = (7, 2, 22)
register_actions(ACTIONS)  # the backup kinds of the job layer

#: Commands QEMU 7.2 no longer has; hidden unless the legacy switch is on.
LEGACY_COMMANDS = frozenset(
    {"x-block-dirty-bitmap-enable", "x-block-dirty-bitmap-disable", "x-block-dirty-bitmap-merge"}
)


class StartupError(Exception):
    """The configuration cannot be brought up; the message is for the user."""


class _Device(Protocol):
    driver: str
    id: str | None
    drive: str | None


class _Config(Protocol):
    """What the Machine reads of ``options.ServeConfig``.  Optional extras
    (read with getattr): ``stopped`` (``-S``) and ``x_bitmap_commands``."""

    @property
    def blockdevs(self) -> Sequence[qmp.BlockdevOptions]: ...

    @property
    def devices(self) -> Sequence[_Device]: ...


def _version_package() -> str:
    # One place for the version string, looked up once (it is in every
    # query-version reply and in the greeting).
    from qapigen.runtime.version import package

    return package()


class Machine(JobCommands, BlockCommands, qmp.Handlers):
    """All state of one emulated QEMU."""

    jobs: JobManager

    def __init__(
        self, config: _Config, emit: Callable[[WireEvent], None],
        request_shutdown: Callable[[], None],
    ) -> None:
        self.config = config
        self.emit = emit
        self.request_shutdown = request_shutdown
        self.graph = Graph()
        self.jobs = JobManager(emit)
        self.legacy_x_commands = bool(getattr(config, "x_bitmap_commands", False))
        self.run_state = (
            qmp.RunState.PRELAUNCH if getattr(config, "stopped", False) else qmp.RunState.RUNNING
        )
        self.closed = False
        for blockdev in config.blockdevs:
            try:
                self.graph.open_blockdev(blockdev)
            except QMPError as err:
                self._close_nodes()
                raise StartupError(err.desc) from err
        anon = 0
        for device in config.devices:
            root = None
            if device.drive is not None:
                root = self.graph.find(device.drive)
                if root is None:
                    self._close_nodes()
                    raise StartupError(
                        f"Property '{device.driver}.drive' can't find value '{device.drive}'"
                    )
                if self.graph.backends_of(root):
                    self._close_nodes()
                    raise StartupError(
                        f"Drive '{device.drive}' is already in use by another device"
                    )
            path = qdev_path(device.driver, device.id, anon)
            if device.id is None:
                anon += 1
            if root is not None:
                props = getattr(device, "props", {})
                share = str(props.get("share-rw", "off")).lower() in ("on", "true", "yes")
                self.graph.backends.append(
                    BlockBackend(device.id, device.driver, root, path, share_write=share)
                )

    # -- the dispatcher ------------------------------------------------------------------

    def make_dispatcher(self, **options: Any) -> Dispatcher:
        """A dispatcher for one connection.  Commands QEMU 7.2 lacks (the
        legacy x- bitmap commands) are left out unless the legacy switch is
        on, so they answer CommandNotFound and are not in query-commands."""
        commands = dict(qmp.COMMANDS)
        if not self.legacy_x_commands:
            for name in LEGACY_COMMANDS:
                commands.pop(name, None)
        return Dispatcher(self, commands, schema_info=lambda: qmp.SCHEMA_INFO, **options)

    # -- control ---------------------------------------------------------------------------

    def query_version(self) -> qmp.VersionInfo:
        major, minor, micro = QEMU_VERSION
        return qmp.VersionInfo(
            qemu=qmp.VersionTriple(major=major, minor=minor, micro=micro),
            package=_version_package(),
        )

    def quit(self) -> None:
        self.request_shutdown()

    def query_status(self) -> qmp.StatusInfo:
        return qmp.StatusInfo(
            running=self.run_state is qmp.RunState.RUNNING, singlestep=False,
            status=self.run_state,
        )

    def stop(self) -> None:
        if self.run_state is qmp.RunState.RUNNING:
            self.run_state = qmp.RunState.PAUSED
            self.emit(qmp.Stop())

    def cont(self) -> None:
        if self.run_state is not qmp.RunState.RUNNING:
            self.run_state = qmp.RunState.RUNNING
            self.emit(qmp.Resume())

    # -- shutdown -----------------------------------------------------------------------------

    async def aclose(self, reason: str) -> None:
        """Emit SHUTDOWN, stop the jobs, flush and close every file."""
        if self.closed:
            return
        self.closed = True
        try:
            cause = qmp.ShutdownCause(reason)
        except ValueError:
            cause = qmp.ShutdownCause.HOST_ERROR
        self.emit(qmp.Shutdown(guest=False, reason=cause))
        try:
            await self.jobs.aclose()
        finally:
            self._close_nodes()

    def _close_nodes(self) -> None:
        # newest first: format nodes store their bitmaps before their file closes
        for node in reversed(self.graph.nodes):
            try:
                node.close()
            except OSError as err:  # keep closing the others
                print(f"qapigen serve: closing {node.name}: {err}", file=sys.stderr)
