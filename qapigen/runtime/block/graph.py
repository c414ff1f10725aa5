"""Block nodes, their graph and the device roots.

A node is a protocol node (``file``, ``null-co``) holding bytes, or a
format node (``raw``, ``qcow2``) over a ``file`` child, optionally with a
``backing`` node.  Devices (``-device ...,drive=NODE``) hold a node as the
root of an anonymous BlockBackend, as QEMU does for ``-blockdev`` nodes:
such backends have no name, so commands that look up a "device" name
never find them (QEMU 7.2 answers the same).  Lookups and their error
texts are QEMU 7.2's (spec B.3, B.4).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from qapigen import qmp
from qapigen.runtime import qjson
from qapigen.runtime.block.bitmaps import Bitmap, default_granularity
from qapigen.runtime.block.images import (
    FileProtocol,
    ImageError,
    InternalSnapshot,
    LiveBitmap,
    NullProtocol,
    Protocol,
    Qcow2Data,
    Qcow2Header,
    parse_qcow2_header,
)
from qapigen.support.errors import QMPError
from qapigen.support.wire import Null

#: (offset, length) -> None, run before guest data changes on a node.
WriteHook = Callable[[int, int], None]

#: ``null-co`` without ``size``: QEMU's default of 1 GiB.
NULL_DEFAULT_SIZE = 1 << 30


class Node:
    """One block node."""

    def __init__(
        self, name: str, drv: str, *, read_only: bool = False,
        protocol: Protocol | None = None, file: Node | None = None,
    ) -> None:
        self.name = name
        self.drv = drv
        self.read_only = read_only
        self.protocol = protocol
        self.file = file
        self.backing: Node | None = None
        self.closed = False
        #: a filter (copy-before-write) passes everything to its file child
        self.is_filter = False
        #: bitmaps a filter added to the node below it, removed with it
        self.filter_bitmaps: list[Bitmap] = []
        #: created by -blockdev or blockdev-add at top level (blockdev-del may
        #: delete it); inline children and implicit nodes are not
        self.monitor_owned = False
        #: the parent whose options this node inherits (an inline child)
        self.inherits_from: Node | None = None
        self.bitmaps: list[Bitmap] = []
        self.before_write: list[WriteHook] = []
        self.qcow2: Qcow2Data | None = None
        self.raw_offset = 0
        self.raw_size: int | None = None
        self.discard_unmap = False
        self.detect_zeroes = qmp.BlockdevDetectZeroesOptions.OFF
        self.cache_direct = False
        self.cache_no_flush = False
        #: the description QEMU uses when it has to print a json: filename
        self.json_options: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {self.drv!r})"

    @property
    def implicit(self) -> bool:
        return self.name.startswith("#")

    # -- geometry ----------------------------------------------------------

    @property
    def size(self) -> int:
        """The virtual size in bytes."""
        if self.qcow2 is not None:
            return self.qcow2.header.size
        if self.is_filter and self.file is not None:
            return self.file.size
        if self.drv == "raw" and self.file is not None:
            if self.raw_size is not None:
                return self.raw_size
            return self.file.size - self.raw_offset
        if self.protocol is not None:
            return self.protocol.length()
        return 0

    @property
    def cluster_size(self) -> int | None:
        return self.qcow2.cluster_size if self.qcow2 is not None else None

    @property
    def header(self) -> Qcow2Header | None:
        return self.qcow2.header if self.qcow2 is not None else None

    def default_granularity(self) -> int:
        return default_granularity(self.cluster_size)

    def filename(self) -> str:
        """What QEMU shows as ``file`` and ``image.filename``: the host
        file's path, or a ``json:`` description when the node cannot be
        reopened from a plain filename (a null-co node, a format node not
        directly over a file node, or a backing node its image header does
        not name)."""
        if self.protocol is not None and not isinstance(self.protocol, NullProtocol):
            return self.protocol.filename
        if isinstance(self.protocol, NullProtocol) and set(self.json_options) == {"driver"}:
            return "null-co://"
        if self.is_filter and self.file is not None:
            return self.file.filename()
        if self.plain_filename_ok() and self.file is not None:
            return self.file.filename()
        return "json:" + qjson.dumps(self.description())

    def plain_filename_ok(self) -> bool:
        file = self.file
        if file is None or file.drv != "file":
            return False
        if self.raw_offset or self.raw_size is not None:
            return False
        if self.backing is not None:
            header = self.header
            if header is None or header.backing_file != self.backing.filename():
                return False
        return True

    def description(self) -> dict[str, object]:
        """The options that reopen this node (QEMU's full_open_options)."""
        if isinstance(self.protocol, NullProtocol):
            return dict(self.json_options)
        if self.protocol is not None:
            return {"driver": "file", "filename": self.protocol.filename}
        desc: dict[str, object] = {"driver": self.drv}
        if self.drv == "raw" and self.raw_offset:
            desc["offset"] = self.raw_offset
        if self.drv == "raw" and self.raw_size is not None:
            desc["size"] = self.raw_size
        if self.file is not None:
            desc["file"] = self.file.description()
        if self.backing is not None and not self.plain_filename_ok():
            desc["backing"] = self.backing.description()
        return desc

    def chain(self) -> Iterator[Node]:
        """This node and the nodes below it that QEMU counts in
        ``backing_file_depth``: backing nodes and filtered children."""
        node: Node | None = self
        while node is not None:
            yield node
            node = node.file if node.is_filter else node.backing

    def children(self) -> list[Node]:
        return [c for c in (self.file, self.backing) if c is not None]

    # -- guest data --------------------------------------------------------------

    def check_request(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise QMPError("Input/output error")

    def read(self, offset: int, length: int) -> bytes:
        """Guest data as this node presents it."""
        if length <= 0:
            return b""
        if self.qcow2 is not None:
            qcow2 = self.qcow2
            out = bytearray()
            pos = offset
            end = offset + length
            while pos < end:
                cluster, within = divmod(pos, qcow2.cluster_size)
                take = min(end - pos, qcow2.cluster_size - within)
                data = qcow2.read_cluster(cluster, self._read_backing)
                out += data[within:within + take]
                pos += take
            return bytes(out)
        if self.file is not None:
            return self.file.read(self.raw_offset + offset, length)
        if self.protocol is not None:
            return self.protocol.read(offset, length)
        return bytes(length)

    def _backing_allocated(self, offset: int, length: int) -> bool:
        """May the backing chain hold non-zero data in the range?  QEMU's
        fast zero check looks at metadata only: raw and file nodes may hold
        anything; a qcow2 node's zero and unallocated clusters read as zero
        (the latter if the chain below does)."""
        node = self.backing
        return node is not None and not node.zero_fast(offset, length)

    def zero_fast(self, offset: int, length: int) -> bool:
        """The range reads as zeroes by this node's metadata alone."""
        if self.is_filter and self.file is not None:
            return self.file.zero_fast(offset, length)
        if self.qcow2 is None:
            return False
        size = self.qcow2.cluster_size
        pos, end = offset, min(offset + length, self.size)
        while pos < end:
            cluster, within = divmod(pos, size)
            take = min(end - pos, size - within)
            if not self.qcow2.cluster_zero_fast(cluster, pos, take, self._backing_allocated):
                return False
            pos += take
        return True

    def _read_backing(self, offset: int, length: int) -> bytes:
        backing = self.backing
        if backing is None:
            return bytes(length)
        usable = max(0, min(length, backing.size - offset))
        return backing.read(offset, usable) + bytes(length - usable)

    def write(self, offset: int, data: bytes) -> None:
        """A guest write: hooks first (copy-before-write), then the data,
        then every enabled bitmap of this node is marked."""
        self.check_request(offset, len(data))
        self.pwrite(offset, data)

    def pwrite(self, offset: int, data: bytes) -> None:
        """A write from a parent node: like :meth:`write` without the
        bounds check, so a format driver can grow its file."""
        for hook in list(self.before_write):
            hook(offset, len(data))
        if self.qcow2 is not None:
            self.qcow2.write(offset, data, self._read_backing, self._backing_allocated)
        elif self.file is not None:
            self.file.pwrite(self.raw_offset + offset, data)
        elif self.protocol is not None:
            self.protocol.write(offset, data)
        self.mark_dirty(offset, len(data))

    def write_zeroes(self, offset: int, length: int) -> None:
        self.check_request(offset, length)
        for hook in list(self.before_write):
            hook(offset, length)
        if self.qcow2 is not None:
            self.qcow2.write_zeroes(
                offset, length, self._read_backing, self._backing_allocated, self.reads_zero
            )
        elif self.file is not None:
            self.file.write_zeroes(self.raw_offset + offset, length)
        elif self.protocol is not None:
            self.protocol.write_zeroes(offset, length)
        self.mark_dirty(offset, length)

    def discard(self, offset: int, length: int) -> None:
        """Nothing happens unless the node was opened with discard=unmap
        (QEMU's default is ignore: no data change and no dirty bits)."""
        self.check_request(offset, length)
        if not self.discard_unmap:
            return
        for hook in list(self.before_write):
            hook(offset, length)
        if self.qcow2 is not None:
            self.qcow2.discard(offset, length, self.backing is not None)
        elif self.file is not None:
            self.file.discard(self.raw_offset + offset, length)
        elif self.protocol is not None:
            self.protocol.discard(offset, length)
        self.mark_dirty(offset, length)

    def reads_zero(self, offset: int, length: int) -> bool:
        """Does the range read as zeroes according to the allocation
        metadata (QEMU's block status with want_zero): holes in a file,
        unallocated or zero clusters with nothing below?"""
        if length <= 0:
            return True
        end = min(offset + length, self.size)
        if offset >= end:
            return True
        if self.is_filter and self.file is not None:
            return self.file.reads_zero(offset, end - offset)
        if self.qcow2 is not None:
            qcow2 = self.qcow2
            size = qcow2.cluster_size
            pos = offset
            while pos < end:
                cluster, within = divmod(pos, size)
                take = min(end - pos, size - within)
                if not qcow2.cluster_reads_zero(cluster, within, take, self._backing_zero,
                                                self._file_zero):
                    return False
                pos += take
            return True
        if self.file is not None:
            return self.file.reads_zero(self.raw_offset + offset, end - offset)
        if isinstance(self.protocol, FileProtocol):
            return self.protocol.is_hole(offset, end - offset)
        return False

    def _backing_zero(self, offset: int, length: int) -> bool:
        return self.backing is None or self.backing.reads_zero(offset, length)

    def _file_zero(self, offset: int, length: int) -> bool:
        return self.file is not None and self.file.reads_zero(offset, length)

    def mark_dirty(self, offset: int, length: int) -> None:
        for bitmap in self.bitmaps:
            if bitmap.enabled:
                bitmap.mark(offset, length)

    def allocated(self, offset: int, length: int) -> bool:
        """Does this node itself hold data in the range (sync=top)?"""
        if self.is_filter and self.file is not None:
            return self.file.allocated(offset, length)
        if self.qcow2 is None:
            return True
        size = self.qcow2.cluster_size
        first = offset // size
        last = (offset + max(length, 1) - 1) // size
        return any(self.qcow2.allocated(c) for c in range(first, last + 1))

    # -- bitmaps -------------------------------------------------------------------

    def find_bitmap(self, name: str) -> Bitmap | None:
        for bitmap in self.bitmaps:
            if bitmap.name == name:
                return bitmap
        return None

    # -- internal snapshots ------------------------------------------------------

    @property
    def snapshots(self) -> list[InternalSnapshot]:
        """Internal snapshots, oldest first (only qcow2 has them)."""
        return self.qcow2.snapshots if self.qcow2 is not None else []

    def add_snapshot(self, name: str) -> InternalSnapshot:
        """Create an internal snapshot; it is written into the qcow2 file
        as QEMU does whenever the image can be updated in place."""
        if self.qcow2 is None:
            raise QMPError(f"Node '{self.name}' does not support internal snapshots")
        now = time.time_ns()
        snapshot = InternalSnapshot(
            id=self.qcow2.next_snapshot_id(), name=name,
            date_sec=now // 1_000_000_000, date_nsec=(now % 1_000_000_000) // 1000 * 1000,
        )
        self.qcow2.create_snapshot(snapshot)
        return snapshot

    def delete_snapshot(self, snapshot: InternalSnapshot) -> None:
        if self.qcow2 is not None and snapshot in self.qcow2.snapshots:
            self.qcow2.delete_snapshot(snapshot)

    def close(self) -> None:
        """Store persistent bitmaps (qcow2), then flush and close the file.
        Close parents before their children."""
        if self.qcow2 is not None and not self.closed:
            live = [
                LiveBitmap(b.name, b.granularity, b.enabled, b.bits)
                for b in self.bitmaps
                if b.name and b.persistent and not b.inconsistent and not b.skip_store
                and not b.readonly
            ]
            try:
                self.qcow2.store_bitmaps(live)
            except (ImageError, OSError) as err:
                print(f"qapigen serve: storing bitmaps of {self.name}: {err}", file=sys.stderr)
        self.closed = True
        if self.protocol is not None:
            self.protocol.flush()
            self.protocol.close()

    def load_stored_bitmaps(self) -> None:
        """Persistent bitmaps a qcow2 image holds become this node's bitmaps
        (enabled iff 'auto'; 'in-use' at open means a crash left it
        inconsistent), and are marked in use in the image while open."""
        qcow2 = self.qcow2
        if qcow2 is None:
            return
        for stored in qcow2.stored_bitmaps:
            bitmap = Bitmap(stored.name, stored.granularity, self.size, self.bitmaps,
                            enabled=stored.auto and not stored.in_use, persistent=True)
            if stored.in_use:
                bitmap.inconsistent = True
            else:
                bitmap.bits = qcow2.load_bitmap_bits(stored)
            bitmap.readonly = self.read_only or not qcow2.in_place
            self.bitmaps.insert(0, bitmap)
        if not self.read_only:
            qcow2.mark_bitmaps_in_use()


#: Device drivers with removable media (a tray): read-only, removable.
REMOVABLE_DRIVERS = frozenset({"ide-cd", "scsi-cd", "floppy"})


@dataclass
class BlockBackend:
    """A device's view of its root node (QEMU's anonymous BlockBackend)."""

    device_id: str | None
    driver: str
    root: Node | None
    #: the backend's canonical QOM path
    path: str
    name: str = ""
    #: ``share-rw=on``: others may write the node while the device holds it
    share_write: bool = False

    @property
    def virtio(self) -> bool:
        return self.driver.startswith("virtio-blk")

    @property
    def removable(self) -> bool:
        return self.driver in REMOVABLE_DRIVERS

    @property
    def read_only(self) -> bool:
        return self.removable and self.driver != "floppy"

    @property
    def qdev(self) -> str:
        """What ``query-block`` reports: the device's id, or its path when
        the backend belongs to an inner device without an id (virtio)."""
        if self.device_id and not self.virtio:
            return self.device_id
        return self.path

    def answers_to(self, name: str) -> bool:
        """Does ``qemu-io -d NAME`` reach this backend?"""
        if name == self.path:
            return True
        prefix = "/machine/peripheral/"
        return self.path.startswith(prefix) and name == self.path[len(prefix):]


def qdev_path(driver: str, device_id: str | None, anon_index: int) -> str:
    base = f"/machine/peripheral/{device_id}" if device_id else (
        f"/machine/peripheral-anon/device[{anon_index}]"
    )
    return base + "/virtio-backend" if driver.startswith("virtio-blk") else base


def write_unshared_by(graph: Graph, node: Node) -> str | None:
    """Who refuses a second writer on *node* (QEMU's permission system, for
    ``qemu-io NODE "write ..."``): a device without ``share-rw=on`` holding
    it, a qcow2 parent (formats never share writes to their file), or a raw
    or filter parent whose own parents refuse.  Returns QEMU's text."""
    for backend in graph.backends_of(node):
        if not backend.share_write:
            return (f"unshared by block device '{backend.qdev}' "
                    f"(uses node '{node.name}' as 'root' child)")
    for parent in graph.node_parents(node):
        if parent.file is not node:
            continue
        if parent.qcow2 is not None or parent.is_filter or (
            write_unshared_by(graph, parent) is not None
        ):
            return f"unshared by node '{parent.name}' (uses node '{node.name}' as 'file' child)"
    return None


@dataclass
class Graph:
    """All nodes (creation order) and device backends."""

    nodes: list[Node] = field(default_factory=list)
    backends: list[BlockBackend] = field(default_factory=list)
    implicit_counter: int = 0

    # -- lookups (QEMU 7.2 texts) ---------------------------------------------------

    def find(self, name: str) -> Node | None:
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    def backend_named(self, name: str) -> BlockBackend | None:
        """Named BlockBackends only; ``-device`` backends have no name."""
        for backend in self.backends:
            if backend.name and backend.name == name:
                return backend
        return None

    def lookup_bs(self, device: str | None, node_name: str | None) -> Node:
        """``bdrv_lookup_bs``: a device (BlockBackend) name or a node name."""
        if device is not None:
            backend = self.backend_named(device)
            if backend is not None and backend.root is not None:
                return backend.root
        if node_name is not None:
            node = self.find(node_name)
            if node is not None:
                return node
        raise QMPError(
            f"Cannot find device='{device or ''}' nor node-name='{node_name or ''}'"
        )

    def lookup_bitmap_node(self, node_name: str) -> Node:
        """The node half of ``block_dirty_bitmap_lookup``."""
        backend = self.backend_named(node_name)
        if backend is not None and backend.root is not None:
            return backend.root
        node = self.find(node_name)
        if node is None:
            raise QMPError(f"Node '{node_name}' not found")
        return node

    def lookup_bitmap(self, node_name: str, name: str) -> tuple[Node, Bitmap]:
        node = self.lookup_bitmap_node(node_name)
        bitmap = node.find_bitmap(name)
        if bitmap is None:
            raise QMPError(f"Dirty bitmap '{name}' not found")
        return node, bitmap

    def node_parents(self, node: Node) -> list[Node]:
        return [n for n in self.nodes if node in n.children()]

    def replace_node(self, old: Node, new: Node) -> None:
        """QEMU's ``bdrv_replace_node``: every parent of *old* (other than
        *new* itself) and every backend rooted at it now use *new*."""
        for parent in self.node_parents(old):
            if parent is new:
                continue
            if parent.file is old:
                parent.file = new
            if parent.backing is old:
                parent.backing = new
        for backend in self.backends_of(old):
            backend.root = new

    def is_root(self, node: Node) -> bool:
        """No other node uses it as a child (backends do not count)."""
        return not self.node_parents(node)

    def root_bs(self, name: str) -> Node:
        """``qmp_get_root_bs``."""
        node = self.lookup_bs(name, name)
        if not self.is_root(node):
            raise QMPError("Need a root block node")
        return node

    def backends_of(self, node: Node) -> list[BlockBackend]:
        return [b for b in self.backends if b.root is node]

    # -- filters ---------------------------------------------------------------------------

    def insert_filter(self, below: Node, name: str, drv: str = "copy-before-write") -> Node:
        """Put a filter node above *below*, as a backup job does with its
        copy-before-write filter: every parent of *below* (devices included)
        now uses the filter, whose file child is *below*.  Guest writes
        through the filter reach *below* (its bitmaps and before-write
        hooks).  Like QEMU's block-copy, the filter and *below* each carry
        an anonymous bitmap while it exists (clients see the filter's
        ``dirty-bitmaps`` key, with only anonymous entries)."""
        node = Node(name, drv, read_only=below.read_only, file=below)
        node.is_filter = True
        self.replace_node(below, node)
        node.bitmaps.insert(0, Bitmap(None, 65536, below.size, node.bitmaps, enabled=False))
        copy = Bitmap(None, 65536, below.size, below.bitmaps, enabled=False)
        below.bitmaps.insert(0, copy)
        node.filter_bitmaps.append(copy)
        self.add_node(node)
        return node

    def remove_filter(self, node: Node) -> None:
        """Take a filter out again: its parents use its child once more."""
        child = node.file
        if node not in self.nodes or child is None:
            return
        self.replace_node(node, child)
        for bitmap in node.filter_bitmaps:
            if bitmap in bitmap.siblings:
                bitmap.siblings.remove(bitmap)
        node.filter_bitmaps = []
        self.remove_node(node)

    # -- building ----------------------------------------------------------------------

    def next_implicit_name(self) -> str:
        self.implicit_counter += 1
        return f"#block{self.implicit_counter:03d}"

    def add_node(self, node: Node) -> None:
        self.nodes.append(node)

    def remove_node(self, node: Node) -> None:
        if node in self.nodes:
            self.nodes.remove(node)

    def delete_node(self, node: Node) -> None:
        """Drop *node* (closing its file), and with it the children nobody
        else holds that the monitor does not own (QEMU's unref cascade)."""
        self.remove_node(node)
        node.close()
        for child in node.children():
            if child.monitor_owned or child not in self.nodes:
                continue
            if not self.node_parents(child) and not self.backends_of(child):
                self.delete_node(child)

    def newest_first(self) -> list[Node]:
        return list(reversed(self.nodes))

    def open_blockdev(self, options: qmp.BlockdevOptions, *, implicit: bool = False) -> Node:
        """Create the node (and inline children) *options* describe, as
        ``-blockdev`` and ``blockdev-add`` do.  On failure every node the
        attempt created is closed and dropped again."""
        before = len(self.nodes)
        try:
            node = self._open_blockdev(options, implicit=implicit)
        except BaseException:
            for created in self.nodes[before:]:
                created.close()
            del self.nodes[before:]
            raise
        if not implicit:
            node.monitor_owned = True
        return node

    def _open_blockdev(self, options: qmp.BlockdevOptions, *, implicit: bool) -> Node:
        name = options.node_name
        if name is None:
            if not implicit:
                raise QMPError("A top-level node needs a node-name")
            name = self.next_implicit_name()
        else:
            check_node_name(name)
            if self.find(name) is not None:
                raise QMPError(f"Duplicate nodes with node-name='{name}'")
        read_only = bool(options.read_only)
        node: Node
        if isinstance(options, qmp.BlockdevOptionsFile_):
            try:
                protocol: Protocol = FileProtocol(options.filename, read_only)
            except ImageError as err:
                raise QMPError(str(err)) from err
            node = Node(name, "file", read_only=read_only, protocol=protocol)
        elif isinstance(options, qmp.BlockdevOptionsNullCo):
            size = NULL_DEFAULT_SIZE if options.size is None else options.size
            node = Node(name, "null-co", read_only=read_only, protocol=NullProtocol(size))
            node.json_options = {"driver": "null-co"}
            if options.size is not None:
                node.json_options["size"] = options.size
            if options.latency_ns is not None:
                node.json_options["latency-ns"] = options.latency_ns
            if options.read_zeroes is not None:
                node.json_options["read-zeroes"] = options.read_zeroes
        elif isinstance(options, (qmp.BlockdevOptionsRaw_, qmp.BlockdevOptionsQcow2_)):
            file = self._child(options.file)
            node = Node(name, options.driver.value, read_only=read_only, file=file)
            if isinstance(options, qmp.BlockdevOptionsRaw_):
                node.raw_offset = options.offset or 0
                node.raw_size = options.size
            else:
                try:
                    header = parse_qcow2_header(file.read, file.filename())
                except ImageError as err:
                    raise QMPError(str(err)) from err
                writable = not (read_only or file.read_only)
                node.qcow2 = Qcow2Data(
                    header, file.read, file.pwrite if writable else None,
                    file.protocol.write_zeroes if writable and file.protocol else None,
                    file.protocol.flush if writable and file.protocol else None,
                )
                try:
                    node.load_stored_bitmaps()
                except ImageError as err:
                    raise QMPError(str(err)) from err
                if isinstance(options.backing, str):
                    node.backing = self.lookup_bs(options.backing, options.backing)
                elif options.backing is not None and not isinstance(options.backing, Null):
                    node.backing = self._child(options.backing)
                elif options.backing is None and header.backing_file:
                    node.backing = self.open_backing_file(
                        header.backing_file, header.backing_format
                    )
        else:  # pragma: no cover - the schema has no other driver
            raise QMPError(f"Unknown driver '{options.driver.value}'")
        for child in node.children():
            if child.inherits_from is child:
                child.inherits_from = node
        node.discard_unmap = options.discard is qmp.BlockdevDiscardOptions.UNMAP
        if options.detect_zeroes is not None:
            node.detect_zeroes = options.detect_zeroes
        if options.cache is not None:
            node.cache_direct = bool(options.cache.direct)
            node.cache_no_flush = bool(options.cache.no_flush)
        self.add_node(node)
        return node

    def _child(self, ref: qmp.BlockdevRef) -> Node:
        if isinstance(ref, str):
            return self.lookup_bs(ref, ref)
        child = self.open_blockdev(ref, implicit=True)
        child.inherits_from = child  # fixed up by the parent once it exists
        return child

    def set_read_only(self, node: Node) -> None:
        """``bdrv_reopen_set_read_only``: the node and the children that
        inherit its options (inline children, not -blockdev references)."""
        node.read_only = True
        for child in node.children():
            if child.inherits_from is node:
                self.set_read_only(child)

    def open_backing_file(self, path: str, fmt: str | None) -> Node:
        """Open a backing file named in an image header, as QEMU does when
        no ``backing`` option was given: two implicit nodes."""
        try:
            protocol = FileProtocol(path, True)
        except ImageError as err:
            raise QMPError(str(err)) from err
        file = Node(self.next_implicit_name(), "file", read_only=True, protocol=protocol)
        self.add_node(file)
        probe = protocol.read(0, 4)
        drv = fmt or ("qcow2" if probe == b"QFI\xfb" else "raw")
        node = Node(self.next_implicit_name(), drv, read_only=True, file=file)
        if drv == "qcow2":
            try:
                header = parse_qcow2_header(file.read, path)
            except ImageError as err:
                raise QMPError(str(err)) from err
            node.qcow2 = Qcow2Data(header, file.read)
            if header.backing_file:
                node.backing = self.open_backing_file(header.backing_file, header.backing_format)
        self.add_node(node)
        return node


def check_node_name(name: str) -> None:
    """QEMU's node-name rule: a letter first, then letters, digits, '-',
    '.', '_'; at most 31 characters."""
    ok = (
        0 < len(name) <= 31
        and name[0].isascii() and name[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "-._") for c in name)
    )
    if not ok:
        raise QMPError("Invalid node-name: '" + name + "'")
