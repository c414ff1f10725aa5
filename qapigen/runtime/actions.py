"""Transaction actions: one prepare function per action kind (spec B.4).

``ACTIONS`` maps a kind (``TransactionActionKind`` wire name) to
``prepare(machine, data, tx, props)``.  Each prepare checks in QEMU 7.2's
order with QEMU 7.2's texts, does the whole change at once and registers
its commit/abort/clean with ``tx.add`` before doing anything that needs
undoing.  ``backup.py`` adds the backup kinds with :func:`register`.

Where QEMU 7.2 crashes (spec E.1: the enable action's abort after a failed
lookup; E.2: merge with an empty source list) these actions answer
instead: the lookup error, and ``{}``.

The legacy ``x-block-dirty-bitmap-enable/-disable/-merge`` kinds run the
same code as their successors (``x-...-merge {node, dst_name, src_name}``
is a merge of one local source); :class:`Machine` refuses them as
QEMU 7.2 does unless serve was started with the legacy switch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qapigen import qmp
from qapigen.runtime.block.bitmaps import MAX_NAME_BYTES, Bitmap, check_granularity
from qapigen.runtime.block.graph import Node
from qapigen.runtime.block.images import (
    ImageError,
    InternalSnapshot,
    create_qcow2,
    create_raw,
    remove_file,
)
from qapigen.runtime.transaction import Transaction, TxProps
from qapigen.support.errors import QMPError
from qapigen.support.wire import NULL

if TYPE_CHECKING:
    from qapigen.runtime.machine import Machine

Prepare = Callable[["Machine", Any, Transaction, TxProps], None]

ACTIONS: dict[str, Prepare] = {}

#: Kinds QEMU 7.2 no longer knows; served only in legacy mode.
LEGACY_KINDS = frozenset(
    {"x-block-dirty-bitmap-enable", "x-block-dirty-bitmap-disable", "x-block-dirty-bitmap-merge"}
)


def register(kind: str, prepare: Prepare) -> None:
    """Add (or replace) the prepare function of an action kind."""
    ACTIONS[kind] = prepare


# -- abort ---------------------------------------------------------------------------


def prepare_abort(machine: Machine, data: Any, tx: Transaction, props: TxProps) -> None:
    raise QMPError("Transaction aborted using Abort action")


# -- dirty bitmaps ---------------------------------------------------------------------


def add_bitmap(
    machine: Machine, *, node: str, name: str, granularity: int | None,
    persistent: bool | None, disabled: bool | None,
) -> Bitmap:
    """``block-dirty-bitmap-add``: the checks in QEMU 7.2's order."""
    if not name:
        raise QMPError("Bitmap name cannot be empty")
    bs = machine.graph.lookup_bs(node, node)
    if granularity is not None:
        check_granularity(granularity)
    else:
        granularity = bs.default_granularity()
    if persistent and bs.drv != "qcow2":
        raise QMPError(
            f"Can't store persistent bitmaps to {bs.name}: Operation not supported"
        )
    if persistent and bs.header is not None and bs.header.version < 3:
        raise QMPError("Cannot store dirty bitmaps in qcow2 v2 files")
    if bs.find_bitmap(name) is not None:
        raise QMPError(f"Bitmap already exists: {name}")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise QMPError(f"Bitmap name too long: {name}")
    bitmap = Bitmap(
        name, granularity, bs.size, bs.bitmaps, enabled=not disabled, persistent=bool(persistent)
    )
    bs.bitmaps.insert(0, bitmap)
    return bitmap


def release_bitmap(bitmap: Bitmap) -> None:
    if bitmap in bitmap.siblings:
        bitmap.siblings.remove(bitmap)


def prepare_bitmap_add(
    machine: Machine, data: qmp.BlockDirtyBitmapAdd, tx: Transaction, props: TxProps
) -> None:
    created: list[Bitmap] = []

    def abort() -> None:
        for bitmap in created:
            release_bitmap(bitmap)

    tx.add(abort=abort)
    tx.check_grouped()
    created.append(add_bitmap(
        machine, node=data.node, name=data.name, granularity=data.granularity,
        persistent=data.persistent, disabled=data.disabled,
    ))


def _restore_bits_on_abort(tx: Transaction) -> list[tuple[Bitmap, set[int]]]:
    """A list for prepare to record (bitmap, bits before the change) in; the
    abort registered here puts those bits back.  Registered before prepare
    does anything, as QEMU registers the action before running it."""
    saved: list[tuple[Bitmap, set[int]]] = []

    def abort() -> None:
        for bitmap, bits in saved:
            bitmap.bits = bits

    tx.add(abort=abort)
    return saved


def prepare_bitmap_clear(
    machine: Machine, data: qmp.BlockDirtyBitmap, tx: Transaction, props: TxProps
) -> None:
    saved = _restore_bits_on_abort(tx)
    tx.check_grouped()
    _, bitmap = machine.graph.lookup_bitmap(data.node, data.name)
    bitmap.check()
    saved.append((bitmap, bitmap.bits))
    bitmap.bits = set()


def _prepare_toggle(
    machine: Machine, data: qmp.BlockDirtyBitmap, tx: Transaction, enable: bool
) -> None:
    state: dict[str, Any] = {}

    def abort() -> None:
        bitmap: Bitmap | None = state.get("bitmap")
        if bitmap is None:
            return  # QEMU 7.2's enable abort crashes here (spec E.1)
        was_enabled = bool(state.get("was_enabled", False))
        if enable and not was_enabled:
            bitmap.enabled = False
        elif not enable and was_enabled:
            bitmap.enabled = True

    tx.add(abort=abort)
    tx.check_grouped()
    _, bitmap = machine.graph.lookup_bitmap(data.node, data.name)
    state["bitmap"] = bitmap
    bitmap.check(allow_ro=True)
    state["was_enabled"] = bitmap.enabled
    bitmap.enabled = enable


def prepare_bitmap_enable(
    machine: Machine, data: qmp.BlockDirtyBitmap, tx: Transaction, props: TxProps
) -> None:
    _prepare_toggle(machine, data, tx, True)


def prepare_bitmap_disable(
    machine: Machine, data: qmp.BlockDirtyBitmap, tx: Transaction, props: TxProps
) -> None:
    _prepare_toggle(machine, data, tx, False)


def merge_bitmaps(
    machine: Machine, node: str, target: str, sources: list[qmp.BlockDirtyBitmapOrStr],
) -> tuple[Bitmap, set[int]]:
    """QEMU 7.2's ``block_dirty_bitmap_merge``: look up the target, OR
    every source into a scratch bitmap (checking each source as it comes),
    then check the target and merge; returns the target and its old bits."""
    bs, dst = machine.graph.lookup_bitmap(node, target)
    scratch = Bitmap(None, dst.granularity, bs.size, [])
    for source in sources:
        if isinstance(source, str):
            src = bs.find_bitmap(source)
            if src is None:
                raise QMPError(f"Dirty bitmap '{source}' not found")
        else:
            _, src = machine.graph.lookup_bitmap(source.node, source.name)
        src.check(allow_ro=True)
        if src.size != scratch.size:
            raise QMPError(
                f"Bitmaps are of different sizes (destination size is {scratch.size}, "
                f"source size is {src.size}) and can't be merged"
            )
        scratch.merge_from(src)
    dst.check()
    backup = dst.bits
    dst.bits = set(dst.bits)
    dst.merge_from(scratch)
    return dst, backup


def prepare_bitmap_merge(
    machine: Machine, data: qmp.BlockDirtyBitmapMerge, tx: Transaction, props: TxProps
) -> None:
    saved = _restore_bits_on_abort(tx)
    tx.check_grouped()
    saved.append(merge_bitmaps(machine, data.node, data.target, list(data.bitmaps)))


def prepare_x_bitmap_merge(
    machine: Machine, data: qmp.XBlockDirtyBitmapMerge, tx: Transaction, props: TxProps
) -> None:
    """The legacy merge: one local source, same code path."""
    merged = qmp.BlockDirtyBitmapMerge(node=data.node, target=data.dst_name, bitmaps=[data.src_name])
    prepare_bitmap_merge(machine, merged, tx, props)


def prepare_bitmap_remove(
    machine: Machine, data: qmp.BlockDirtyBitmap, tx: Transaction, props: TxProps
) -> None:
    removed: list[Bitmap] = []

    def commit() -> None:
        for bitmap in removed:
            bitmap.busy = False
            release_bitmap(bitmap)

    def abort() -> None:
        for bitmap in removed:
            bitmap.skip_store = False
            bitmap.busy = False

    tx.add(commit=commit, abort=abort)
    tx.check_grouped()
    node, bitmap = machine.graph.lookup_bitmap(data.node, data.name)
    if bitmap.busy:
        bitmap.check()
    if bitmap.readonly:
        raise QMPError(f"Bitmap '{bitmap.name}' is readonly and cannot be modified")
    if bitmap.persistent and node.qcow2 is not None and bitmap.name is not None:
        # QEMU deletes a persistent bitmap from the image at once
        try:
            node.qcow2.remove_stored_bitmap(bitmap.name)
        except ImageError as err:
            raise QMPError(
                f"Failed to remove bitmap '{bitmap.name}' from '{node.name}': {err}"
            ) from err
    bitmap.skip_store = True
    bitmap.busy = True
    removed.append(bitmap)


# -- internal snapshots -------------------------------------------------------------------


def prepare_snapshot_internal(
    machine: Machine, data: qmp.BlockdevSnapshotInternal, tx: Transaction, props: TxProps
) -> None:
    created: list[tuple[Node, InternalSnapshot]] = []

    def abort() -> None:
        for node, snapshot in created:
            node.delete_snapshot(snapshot)

    tx.add(abort=abort)
    tx.check_grouped()
    bs = machine.graph.root_bs(data.device)
    if bs.read_only:
        raise QMPError(f"Device '{data.device}' is read only")
    if bs.drv != "qcow2":
        raise QMPError(
            f"Block format '{bs.drv}' used by device '{data.device}' "
            "does not support internal snapshots"
        )
    if not data.name:
        raise QMPError("Name is empty")
    if any(s.name == data.name for s in bs.snapshots):
        raise QMPError(
            f"Snapshot with name '{data.name}' already exists on device '{data.device}'"
        )
    try:
        snapshot = bs.add_snapshot(data.name)
    except ImageError as err:
        raise QMPError(
            f"Failed to create snapshot '{data.name}' on device '{data.device}': {err}"
        ) from err
    created.append((bs, snapshot))


def delete_internal_snapshot(
    machine: Machine, device: str, snap_id: str | None, name: str | None
) -> qmp.SnapshotInfo:
    """``blockdev-snapshot-delete-internal-sync``."""
    bs = machine.graph.root_bs(device)
    if snap_id is None and name is None:
        raise QMPError("Name or id must be provided")
    if bs.drv != "qcow2":
        raise QMPError("Failed to get a snapshot list: Operation not supported")
    for snapshot in bs.snapshots:
        if (snap_id is None or snapshot.id == snap_id) and (name is None or snapshot.name == name):
            try:
                bs.delete_snapshot(snapshot)
            except ImageError as err:
                raise QMPError(
                    f"Failed to delete snapshot '{snapshot.name}' on device '{device}': {err}"
                ) from err
            return snapshot.info()
    raise QMPError(
        f"Snapshot with id '{snap_id if snap_id is not None else 'null'}' and name "
        f"'{name if name is not None else 'null'}' does not exist on device '{device}'"
    )


# -- external snapshots -----------------------------------------------------------------------


class _ExternalState:
    """What an external snapshot's prepare did, for commit/abort/clean."""

    def __init__(self) -> None:
        self.old: Node | None = None
        self.new: Node | None = None
        self.new_nodes: list[Node] = []
        self.appended = False
        self.created_file: str | None = None
        self.owned_overlay = False


def _open_overlay(
    machine: Machine, state: _ExternalState, path: str, fmt: str, node_name: str | None
) -> Node:
    graph = machine.graph
    before = list(graph.nodes)
    options: dict[str, Any] = {"driver": fmt, "file": {"driver": "file", "filename": path}}
    if node_name is not None:
        options["node-name"] = node_name
    try:
        blockdev = qmp.BlockdevOptions_from_wire(options)
    except QMPError as err:
        raise QMPError(f"Unknown driver '{fmt}'") from err
    if blockdev.node_name is None:
        blockdev.node_name = graph.next_implicit_name()
    if isinstance(blockdev, qmp.BlockdevOptionsQcow2_):
        blockdev.backing = NULL
    try:
        node = graph.open_blockdev(blockdev, implicit=True)
    finally:
        state.new_nodes = [n for n in graph.nodes if n not in before]
    return node


def _append_overlay(machine: Machine, old: Node, new: Node) -> None:
    """``bdrv_append``: every parent of *old* now uses *new*, and *new*
    gets *old* as its backing node."""
    machine.graph.replace_node(old, new)
    new.backing = old


def _detach_overlay(machine: Machine, old: Node, new: Node) -> None:
    machine.graph.replace_node(new, old)
    new.backing = None


def _external_snapshot(
    machine: Machine, tx: Transaction, *, device: str | None, node_name: str | None,
    sync: qmp.BlockdevSnapshotSync | None, overlay: str | None,
) -> None:
    graph = machine.graph
    state = _ExternalState()

    def commit() -> None:
        if state.old is not None:
            graph.set_read_only(state.old)

    def abort() -> None:
        if state.appended and state.old is not None and state.new is not None:
            _detach_overlay(machine, state.old, state.new)
            state.appended = False
        if not state.owned_overlay:
            for node in state.new_nodes:
                node.close()
                graph.remove_node(node)
            state.new_nodes = []
        if state.created_file is not None:
            remove_file(state.created_file)

    def clean() -> None:
        # An overlay nobody holds (a bare -blockdev node was snapshotted)
        # is dropped again, as QEMU 7.2 drops it (spec E.7).
        new = state.new
        if new is None or state.owned_overlay or new not in graph.nodes:
            return
        if not graph.node_parents(new) and not graph.backends_of(new):
            for node in state.new_nodes:
                node.close()
                graph.remove_node(node)

    tx.add(commit=commit, abort=abort, clean=clean)
    tx.check_grouped()
    old = graph.lookup_bs(device, node_name)
    if sync is not None:
        fmt = sync.format or "qcow2"
        new_name = sync.snapshot_node_name
        if sync.node_name is not None and new_name is None:
            raise QMPError("New overlay node-name missing")
        if new_name is not None and graph.find(new_name) is not None:
            raise QMPError("New overlay node-name already in use")
        path = sync.snapshot_file
        if sync.mode is not qmp.NewImageMode.EXISTING:
            _create_image(state, path, fmt, old)
        new = _open_overlay(machine, state, path, fmt, new_name)
    else:
        assert overlay is not None
        found = graph.find(overlay)
        if found is None:
            raise QMPError(f"Cannot find device='{overlay}' nor node-name='{overlay}'")
        new = found
        state.owned_overlay = True
    state.new = new
    if graph.backends_of(new) or graph.node_parents(new):
        # a parent reads it (QEMU: someone holds BLK_PERM_CONSISTENT_READ)
        raise QMPError("The overlay is already in use")
    if new.backing is not None:
        raise QMPError("The overlay already has a backing image")
    if new.drv != "qcow2":
        raise QMPError("The overlay does not support backing images")
    _append_overlay(machine, old, new)
    state.old = old
    state.appended = True


def _create_image(state: _ExternalState, path: str, fmt: str, old: Node) -> None:
    """``bdrv_img_create`` of the overlay, backed by *old*'s file."""
    if fmt not in ("qcow2", "raw"):
        raise QMPError(f"Unknown file format '{fmt}'")
    if fmt == "raw":
        raise QMPError("Backing file not supported for file format 'raw'")
    existed = os.path.exists(path)
    try:
        if fmt == "qcow2":
            create_qcow2(path, old.size, old.filename(), old.drv)
        else:
            create_raw(path, old.size)
    except (OSError, ImageError) as err:
        reason = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else str(err)
        raise QMPError(f"Could not create '{path}': {reason}") from err
    if not existed:
        state.created_file = path


def prepare_snapshot_sync(
    machine: Machine, data: qmp.BlockdevSnapshotSync, tx: Transaction, props: TxProps
) -> None:
    _external_snapshot(
        machine, tx, device=data.device, node_name=data.node_name, sync=data, overlay=None
    )


def prepare_snapshot(
    machine: Machine, data: qmp.BlockdevSnapshot, tx: Transaction, props: TxProps
) -> None:
    _external_snapshot(
        machine, tx, device=data.node, node_name=data.node, sync=None, overlay=data.overlay
    )


for _kind, _prepare in {
    "abort": prepare_abort,
    "block-dirty-bitmap-add": prepare_bitmap_add,
    "block-dirty-bitmap-clear": prepare_bitmap_clear,
    "block-dirty-bitmap-enable": prepare_bitmap_enable,
    "block-dirty-bitmap-disable": prepare_bitmap_disable,
    "block-dirty-bitmap-merge": prepare_bitmap_merge,
    "block-dirty-bitmap-remove": prepare_bitmap_remove,
    "x-block-dirty-bitmap-enable": prepare_bitmap_enable,
    "x-block-dirty-bitmap-disable": prepare_bitmap_disable,
    "x-block-dirty-bitmap-merge": prepare_x_bitmap_merge,
    "blockdev-snapshot-internal-sync": prepare_snapshot_internal,
    "blockdev-snapshot-sync": prepare_snapshot_sync,
    "blockdev-snapshot": prepare_snapshot,
}.items():
    register(_kind, _prepare)
