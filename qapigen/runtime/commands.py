"""``BlockCommands``: the block-layer commands of :class:`Machine`.

Single commands that QEMU 7.2 runs as a one-action transaction
(snapshots) or whose code is the action's prepare (bitmaps) go through
the same action code here, so a command and its transaction action can
never disagree.  The legacy ``x-block-dirty-bitmap-*`` commands answer
``The command ... has not been found`` as QEMU 7.2 does, unless serve
runs with the legacy switch; then they run the same code as their
successors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from qapigen import qmp
from qapigen.runtime import hmp
from qapigen.runtime.actions import ACTIONS, LEGACY_KINDS, delete_internal_snapshot
from qapigen.runtime.block.graph import Graph
from qapigen.runtime.block.query import backend_info, node_info
from qapigen.runtime.jobs import JobManager
from qapigen.runtime.transaction import Transaction, TxProps
from qapigen.support.errors import QMPError

if TYPE_CHECKING:
    from qapigen.runtime.machine import Machine


def _prepare_step(prepare: Any, machine: Machine, data: Any, tx: Transaction) -> None:
    prepare(machine, data, tx, tx.props)


class BlockCommands:
    """Mixin: needs ``graph`` and ``legacy_x_commands`` on the instance."""

    graph: Graph
    jobs: JobManager
    legacy_x_commands: bool

    def _machine(self) -> Machine:
        return self  # type: ignore[return-value]

    # -- transactions ---------------------------------------------------------------

    def run_actions(
        self, actions: list[tuple[str, Any]], props: TxProps | None = None
    ) -> None:
        """Run (kind, data) pairs as one transaction."""
        props = props if props is not None else TxProps()
        machine = self._machine()
        steps: list[tuple[str, Callable[[Transaction], None]]] = []
        for kind, data in actions:
            prepare = ACTIONS.get(kind)
            if prepare is None:
                raise QMPError(f"Action '{kind}' is not implemented")

            steps.append((kind, partial(_prepare_step, prepare, machine, data)))
        Transaction(props).run(steps)

    def transaction(
        self, *, actions: list[qmp.TransactionAction],
        properties: qmp.TransactionProperties | None = None,
    ) -> None:
        mode = qmp.ActionCompletionMode.INDIVIDUAL
        if properties is not None and properties.completion_mode is not None:
            mode = properties.completion_mode
        pairs: list[tuple[str, Any]] = []
        for action in actions:
            kind = action.type.value
            if kind in LEGACY_KINDS and not self.legacy_x_commands:
                raise QMPError(f"Parameter 'type' does not accept value '{kind}'")
            pairs.append((kind, action.data))
        self.run_actions(pairs, TxProps(completion_mode=mode))

    # -- queries ---------------------------------------------------------------------

    def query_named_block_nodes(self, *, flat: bool | None = None) -> list[qmp.BlockDeviceInfo]:
        return [node_info(node, bool(flat)) for node in self.graph.newest_first()]

    def query_block(self) -> list[qmp.BlockInfo]:
        return [backend_info(backend) for backend in self.graph.backends]

    # -- dirty bitmaps ------------------------------------------------------------------

    def block_dirty_bitmap_add(
        self, *, node: str, name: str, granularity: int | None = None,
        persistent: bool | None = None, disabled: bool | None = None,
    ) -> None:
        data = qmp.BlockDirtyBitmapAdd(
            node=node, name=name, granularity=granularity, persistent=persistent,
            disabled=disabled,
        )
        self.run_actions([("block-dirty-bitmap-add", data)])

    def block_dirty_bitmap_remove(self, *, node: str, name: str) -> None:
        self.run_actions([("block-dirty-bitmap-remove", qmp.BlockDirtyBitmap(node=node, name=name))])

    def block_dirty_bitmap_clear(self, *, node: str, name: str) -> None:
        self.run_actions([("block-dirty-bitmap-clear", qmp.BlockDirtyBitmap(node=node, name=name))])

    def block_dirty_bitmap_enable(self, *, node: str, name: str) -> None:
        self.run_actions([("block-dirty-bitmap-enable", qmp.BlockDirtyBitmap(node=node, name=name))])

    def block_dirty_bitmap_disable(self, *, node: str, name: str) -> None:
        self.run_actions(
            [("block-dirty-bitmap-disable", qmp.BlockDirtyBitmap(node=node, name=name))]
        )

    def block_dirty_bitmap_merge(
        self, *, node: str, target: str, bitmaps: list[qmp.BlockDirtyBitmapOrStr]
    ) -> None:
        data = qmp.BlockDirtyBitmapMerge(node=node, target=target, bitmaps=bitmaps)
        self.run_actions([("block-dirty-bitmap-merge", data)])

    def _legacy(self, command: str) -> None:
        if not self.legacy_x_commands:
            raise QMPError(f"The command {command} has not been found", "CommandNotFound")

    def x_block_dirty_bitmap_enable(self, *, node: str, name: str) -> None:
        self._legacy("x-block-dirty-bitmap-enable")
        self.block_dirty_bitmap_enable(node=node, name=name)

    def x_block_dirty_bitmap_disable(self, *, node: str, name: str) -> None:
        self._legacy("x-block-dirty-bitmap-disable")
        self.block_dirty_bitmap_disable(node=node, name=name)

    def x_block_dirty_bitmap_merge(self, *, node: str, dst_name: str, src_name: str) -> None:
        self._legacy("x-block-dirty-bitmap-merge")
        self.block_dirty_bitmap_merge(node=node, target=dst_name, bitmaps=[src_name])

    # -- snapshots ------------------------------------------------------------------------

    def blockdev_snapshot_sync(
        self, *, device: str | None = None, node_name: str | None = None,
        snapshot_file: str, snapshot_node_name: str | None = None,
        format: str | None = None, mode: qmp.NewImageMode | None = None,
    ) -> None:
        data = qmp.BlockdevSnapshotSync(
            device=device, node_name=node_name, snapshot_file=snapshot_file,
            snapshot_node_name=snapshot_node_name, format=format, mode=mode,
        )
        self.run_actions([("blockdev-snapshot-sync", data)])

    def blockdev_snapshot(self, *, node: str, overlay: str) -> None:
        self.run_actions([("blockdev-snapshot", qmp.BlockdevSnapshot(node=node, overlay=overlay))])

    def blockdev_snapshot_internal_sync(self, *, device: str, name: str) -> None:
        data = qmp.BlockdevSnapshotInternal(device=device, name=name)
        self.run_actions([("blockdev-snapshot-internal-sync", data)])

    def blockdev_snapshot_delete_internal_sync(
        self, *, device: str, id: str | None = None, name: str | None = None
    ) -> qmp.SnapshotInfo:
        return delete_internal_snapshot(self._machine(), device, id, name)

    # -- nodes -------------------------------------------------------------------------------

    def blockdev_add(self, arguments: qmp.BlockdevOptions) -> None:
        if arguments.node_name is None:
            raise QMPError("'node-name' must be specified for the root node")
        self.graph.open_blockdev(arguments)

    def blockdev_del(self, *, node_name: str) -> None:
        """QEMU 7.2's checks, in its order."""
        graph = self.graph
        node = graph.find(node_name)
        if node is None:
            raise QMPError(f"Failed to find node with node-name='{node_name}'")
        if graph.backends_of(node):
            raise QMPError(f"Node {node_name} is in use")
        for job in self.jobs.jobs:
            # a job blocks its target node (QEMU's op blockers)
            if getattr(job, "target", None) is node and job.status is not qmp.JobStatus.NULL:
                raise QMPError(
                    f"Node '{node_name}' is busy: block device is in use by block job: "
                    f"{job.job_type.value}"
                )
        if not node.monitor_owned:
            raise QMPError(f"Node {node_name} is not owned by the monitor")
        if graph.node_parents(node):
            raise QMPError(f"Block device {node_name} is in use")
        graph.delete_node(node)

    # -- guest writes ---------------------------------------------------------------------------

    def human_monitor_command(self, *, command_line: str, cpu_index: int | None = None) -> str:
        return hmp.human_monitor_command(self._machine(), command_line)

