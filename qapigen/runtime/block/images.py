"""Image files: the bytes under the block nodes.

* Protocol ``file``: a real host file, read and written with
  ``pread``/``pwrite``; write-zeroes and discard use ``fallocate`` like
  QEMU's file-posix driver, so the file's allocation (``actual-size``)
  follows the same writes.
* Protocol ``null-co``: reads zeroes, drops writes.
* Format ``qcow2``: the header (virtual size, cluster size, backing file,
  feature bits) and the guest data that was in the file when it was opened
  are read from the real file (L1/L2 tables, uncompressed clusters).
  Guest data written while serving is kept in memory, cluster by cluster,
  and is never written back into the qcow2 file: the file on disk keeps
  the content it had at start.  ``qemu-img`` therefore sees the data the
  image had when ``serve`` opened it.
* Image creation (snapshot overlays, drive-backup targets): qcow2 files
  laid out as QEMU 7.2 lays out a new image (header cluster, refcount
  table, refcount block, L1 table, all written out), so ``qemu-img info``
  and ``qemu-img check`` accept them and they take the same space on
  disk; raw files are sparse files of the right length.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from qapigen import qmp

QCOW2_MAGIC = b"QFI\xfb"
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_FALLOC_FL_ZERO_RANGE = 0x10

_libc: ctypes.CDLL | None = None


def _fallocate(fd: int, mode: int, offset: int, length: int) -> bool:
    """Linux fallocate(2) with a mode; False when it is not available."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        if name is None:
            return False
        _libc = ctypes.CDLL(name, use_errno=True)
    func = _libc.fallocate
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    return bool(func(fd, mode, offset, length) == 0)


class ImageError(Exception):
    """An image file cannot be opened or created; the message is QEMU's."""


@dataclass
class StoredBitmap:
    """A persistent dirty bitmap's entry in a qcow2 bitmap directory."""

    name: str
    granularity_bits: int
    flags: int
    table_offset: int
    table_size: int
    extra: bytes = b""

    @property
    def granularity(self) -> int:
        return 1 << self.granularity_bits

    @property
    def in_use(self) -> bool:
        return bool(self.flags & 1)

    @property
    def auto(self) -> bool:
        return bool(self.flags & 2)


@dataclass
class LiveBitmap:
    """What storing needs to know about one of the node's bitmaps."""

    name: str
    granularity: int
    enabled: bool
    bits: set[int]


@dataclass
class InternalSnapshot:
    """An internal (qcow2) snapshot: what ``image.snapshots`` lists, plus
    where its L1 table lives when it is stored in the image file."""

    id: str
    name: str
    date_sec: int
    date_nsec: int
    vm_state_size: int = 0
    vm_clock_nsec: int = 0
    l1_table_offset: int = 0
    l1_size: int = 0
    disk_size: int = 0
    icount: int = -1
    extra: bytes = b""  # extra data beyond what this code writes, kept as is

    def info(self) -> qmp.SnapshotInfo:
        return qmp.SnapshotInfo(
            id=self.id, name=self.name, vm_state_size=self.vm_state_size,
            date_sec=self.date_sec, date_nsec=self.date_nsec,
            vm_clock_sec=self.vm_clock_nsec // 1_000_000_000,
            vm_clock_nsec=self.vm_clock_nsec % 1_000_000_000,
        )


# -- protocol layer ------------------------------------------------------------


class Protocol:
    """The bottom of a node chain: where bytes live."""

    filename: str = ""

    def length(self) -> int:
        raise NotImplementedError

    def actual_size(self) -> int:
        return 0

    def read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def write(self, offset: int, data: bytes) -> None:
        raise NotImplementedError

    def write_zeroes(self, offset: int, length: int) -> None:
        self.write(offset, bytes(length))

    def discard(self, offset: int, length: int) -> None:
        """Discarding may do nothing at all: the data then stays."""

    def flush(self) -> None:
        """Make written data durable."""

    def close(self) -> None:
        """Release the file."""


class FileProtocol(Protocol):
    """A host file (QEMU's ``file`` driver)."""

    def __init__(self, path: str, read_only: bool) -> None:
        self.filename = path
        self.read_only = read_only
        flags = os.O_RDONLY if read_only else os.O_RDWR
        try:
            self.fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            reason = os.strerror(err.errno) if err.errno else str(err)
            raise ImageError(f"Could not open '{path}': {reason}") from err
        self.closed = False

    def length(self) -> int:
        return os.fstat(self.fd).st_size

    def actual_size(self) -> int:
        return os.fstat(self.fd).st_blocks * 512

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.fd, length, offset)
        return data + bytes(length - len(data))

    def is_hole(self, offset: int, length: int) -> bool:
        """No data in the range (``SEEK_DATA``, as file-posix asks)."""
        try:
            data = os.lseek(self.fd, offset, os.SEEK_DATA)
        except OSError as err:
            return err.errno == errno.ENXIO  # no data after offset
        return data >= offset + length

    def write(self, offset: int, data: bytes) -> None:
        written = 0
        while written < len(data):
            written += os.pwrite(self.fd, data[written:], offset + written)

    def write_zeroes(self, offset: int, length: int) -> None:
        if not _fallocate(self.fd, _FALLOC_FL_ZERO_RANGE, offset, length):
            self.write(offset, bytes(length))

    def discard(self, offset: int, length: int) -> None:
        _fallocate(self.fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length)

    def flush(self) -> None:
        if not self.closed:
            os.fsync(self.fd)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class NullProtocol(Protocol):
    """QEMU's ``null-co``: a size and nothing behind it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.filename = ""

    def length(self) -> int:
        return self.size

    def read(self, offset: int, length: int) -> bytes:
        return bytes(length)

    def write(self, offset: int, data: bytes) -> None:
        return None


# -- qcow2 -------------------------------------------------------------------------


@dataclass
class Qcow2Header:
    """What ``serve`` needs from a qcow2 header."""

    version: int
    cluster_bits: int
    size: int
    l1_size: int
    l1_table_offset: int
    backing_file: str | None
    backing_format: str | None
    incompatible: int
    compatible: int
    refcount_order: int
    compression_type: int
    nb_snapshots: int
    refcount_table_offset: int = 0
    encrypted: bool = False
    snapshots_offset: int = 0
    autoclear: int = 0
    #: the bitmaps extension: (number, directory size, directory offset)
    bitmaps_ext: tuple[int, int, int] | None = None

    @property
    def cluster_size(self) -> int:
        return 1 << self.cluster_bits

    @property
    def compat(self) -> str:
        return "1.1" if self.version >= 3 else "0.10"

    @property
    def dirty(self) -> bool:
        return bool(self.incompatible & 1)

    @property
    def corrupt(self) -> bool:
        return bool(self.incompatible & 2)

    @property
    def extended_l2(self) -> bool:
        return bool(self.incompatible & 16)

    @property
    def lazy_refcounts(self) -> bool:
        return bool(self.compatible & 1)


def parse_qcow2_header(read: Callable[[int, int], bytes], filename: str) -> Qcow2Header:
    """Read the header through *read(offset, length)*."""
    head = read(0, 112)
    if head[:4] != QCOW2_MAGIC:
        raise ImageError("Image is not in qcow2 format")
    (version, backing_off, backing_len, cluster_bits, size, crypt, l1_size, l1_off,
     rt_off, _rt_clusters, nb_snapshots, snap_off) = struct.unpack(">IQIIQIIQQIIQ", head[4:72])
    if version not in (2, 3):
        raise ImageError(f"Unsupported qcow2 version {version}")
    incompatible = compatible = autoclear = 0
    bitmaps_ext: tuple[int, int, int] | None = None
    refcount_order = 4
    header_length = 72
    compression_type = 0
    if version >= 3:
        incompatible, compatible, autoclear, refcount_order, header_length = struct.unpack(
            ">QQQII", head[72:104]
        )
        if header_length > 104:
            compression_type = head[104]
    backing_format: str | None = None
    ext_off = header_length
    if version >= 3:
        for _ in range(64):
            ext_type, ext_len = struct.unpack(">II", read(ext_off, 8))
            if ext_type == 0:
                break
            if ext_type == 0xE2792ACA:
                backing_format = read(ext_off + 8, ext_len).decode(errors="replace")
            if ext_type == _BITMAPS_EXT and ext_len >= 24:
                nb, _reserved, dir_size, dir_offset = struct.unpack(
                    ">IIQQ", read(ext_off + 8, 24))
                bitmaps_ext = (nb, dir_size, dir_offset)
            ext_off += 8 + ((ext_len + 7) & ~7)
    backing_file: str | None = None
    if backing_off and backing_len:
        backing_file = read(backing_off, backing_len).decode(errors="replace")
    return Qcow2Header(
        version=version, cluster_bits=cluster_bits, size=size, l1_size=l1_size,
        l1_table_offset=l1_off, backing_file=backing_file, backing_format=backing_format,
        incompatible=incompatible, compatible=compatible, refcount_order=refcount_order,
        compression_type=compression_type, nb_snapshots=nb_snapshots,
        refcount_table_offset=rt_off, encrypted=bool(crypt), snapshots_offset=snap_off,
        autoclear=autoclear, bitmaps_ext=bitmaps_ext if autoclear & 1 else None,
    )


_L1_OFFSET_MASK = 0x00FFFFFFFFFFFE00
_BITMAPS_EXT = 0x23852875
_BME_IN_USE = 1
_BME_AUTO = 2
_L2_COMPRESSED = 1 << 62
_L2_ZERO = 1


class _NotInPlace(Exception):
    """This write cannot go into the qcow2 file; keep it in memory."""


_COPIED = 1 << 63


class Qcow2Data:
    """Guest data of a qcow2 image.

    Reads go through the file's L1/L2 tables.  Writes go into the file
    too, allocating L2 tables and data clusters the way QEMU does (the
    first free cluster by refcount, each new cluster written in full with
    its copy-on-write data, then the L2/L1 entry and the refcount), as long
    as the image is a plain one: 16-bit refcounts with a single refcount
    block (up to 2 GiB of file at 64 KiB clusters), no internal snapshots
    in the file, no encryption, compression or extended L2 entries.  Any
    other write is kept in memory (``memory``), cluster by cluster, and
    never reaches the file.
    """

    def __init__(
        self, header: Qcow2Header, read_file: Callable[[int, int], bytes],
        write_file: Callable[[int, bytes], None] | None = None,
        zero_file: Callable[[int, int], None] | None = None,
        flush_file: Callable[[], None] | None = None,
    ) -> None:
        self.header = header
        self._zero_file = zero_file
        self._flush_file = flush_file
        self.cluster_size = header.cluster_size
        self._read_file = read_file
        self._write_file = write_file
        self._l2_entries = self.cluster_size // 8
        self._l1: list[int] = []
        if header.l1_size and header.l1_table_offset:
            raw = read_file(header.l1_table_offset, header.l1_size * 8)
            self._l1 = list(struct.unpack(f">{header.l1_size}Q", raw))
        self._l2_cache: dict[int, list[int]] = {}
        self._refblock: bytearray | None = None
        self._refblock_offset = 0
        self._free_index = 0
        self.snapshots: list[InternalSnapshot] = []
        self._snapshots_size = 0
        if header.nb_snapshots:
            self._load_snapshots()
        #: the bitmap directory as the image holds it now
        self.stored_bitmaps: list[StoredBitmap] = []
        if header.bitmaps_ext is not None:
            self._load_bitmap_directory()
        self.in_place = (
            write_file is not None and header.refcount_order == 4
            and not header.extended_l2 and not header.encrypted
            and header.incompatible & ~1 == 0 and header.refcount_table_offset != 0
        )
        #: cluster index -> its current bytes (writes kept in memory)
        self.memory: dict[int, bytearray] = {}
        #: clusters zeroed or discarded in memory (read as zeroes)
        self.zeroed: set[int] = set()

    def _l2_table(self, l2_offset: int) -> list[int]:
        table = self._l2_cache.get(l2_offset)
        if table is None:
            raw = self._read_file(l2_offset, self.cluster_size)
            table = list(struct.unpack(f">{self._l2_entries}Q", raw))
            self._l2_cache[l2_offset] = table
        return table

    def _file_entry(self, cluster: int) -> int:
        l1_index, l2_index = divmod(cluster, self._l2_entries)
        if l1_index >= len(self._l1):
            return 0
        l2_offset = self._l1[l1_index] & _L1_OFFSET_MASK
        if not l2_offset:
            return 0
        return self._l2_table(l2_offset)[l2_index]

    def cluster_zero_fast(
        self, cluster: int, offset: int, length: int,
        backing_may_hold_data: Callable[[int, int], bool],
    ) -> bool:
        if cluster in self.zeroed:
            return True
        if cluster in self.memory:
            return False
        entry = self._file_entry(cluster)
        if entry & _L2_ZERO:
            return True
        if entry == 0:
            return not backing_may_hold_data(offset, length)
        return False

    def cluster_reads_zero(
        self, cluster: int, within: int, length: int,
        backing_zero: Callable[[int, int], bool], file_zero: Callable[[int, int], bool],
    ) -> bool:
        if cluster in self.zeroed:
            return True
        if cluster in self.memory:
            return not any(self.memory[cluster][within:within + length])
        entry = self._file_entry(cluster)
        if entry & _L2_ZERO:
            return True
        if entry == 0:
            return backing_zero(cluster * self.cluster_size + within, length)
        if entry & _L2_COMPRESSED:
            return False
        return file_zero((entry & _L1_OFFSET_MASK) + within, length)

    def allocated(self, cluster: int) -> bool:
        """Does this image itself define the cluster (rather than its
        backing file)?"""
        if cluster in self.memory or cluster in self.zeroed:
            return True
        return self._file_entry(cluster) != 0

    def read_cluster(self, cluster: int, backing: Callable[[int, int], bytes]) -> bytes:
        if cluster in self.memory:
            return bytes(self.memory[cluster])
        if cluster in self.zeroed:
            return bytes(self.cluster_size)
        entry = self._file_entry(cluster)
        start = cluster * self.cluster_size
        if entry == 0:
            return backing(start, self.cluster_size)
        if entry & _L2_COMPRESSED:
            raise ImageError("compressed qcow2 clusters are not supported")
        if entry & _L2_ZERO:
            return bytes(self.cluster_size)
        return self._read_file(entry & _L1_OFFSET_MASK, self.cluster_size)

    def write(
        self, offset: int, data: bytes, backing: Callable[[int, int], bytes],
        backing_allocated: Callable[[int, int], bool] | None = None,
    ) -> None:
        """Write guest data.  Like QEMU, one request is handled as runs of
        clusters: clusters already in the file are overwritten in place;
        new clusters are allocated together and written with their
        copy-on-write data in one go, or, when nothing in the backing chain
        holds the copy-on-write ranges, zeroed with one ``fallocate`` and
        then only the guest data is written.  *backing_allocated(off, len)*
        says whether the backing chain may hold non-zero data in a range
        (QEMU's fast zero check, from metadata only)."""
        pos = 0
        while pos < len(data):
            cluster, within = divmod(offset + pos, self.cluster_size)
            try:
                pos += self._write_run(offset + pos, data[pos:], backing, backing_allocated)
            except _NotInPlace:
                chunk = min(len(data) - pos, self.cluster_size - within)
                self._write_in_memory(cluster, within, data[pos:pos + chunk], backing)
                pos += chunk

    def _write_in_memory(
        self, cluster: int, within: int, piece: bytes, backing: Callable[[int, int], bytes]
    ) -> None:
        buf = self.memory.get(cluster)
        if buf is None:
            buf = bytearray(self.read_cluster(cluster, backing))
            self.memory[cluster] = buf
            self.zeroed.discard(cluster)
        buf[within:within + len(piece)] = piece

    def _kind(self, cluster: int) -> tuple[str, int, int]:
        """(kind, host, entry): 'in-place' (overwrite), 'zero-alloc' (an
        allocated zero cluster: rewritten whole, in place) or 'alloc' (needs
        a new cluster, QEMU's cluster_needs_new_alloc); raises _NotInPlace
        for what this code does not update in the file."""
        if cluster in self.memory or cluster in self.zeroed:
            raise _NotInPlace
        entry = self._file_entry(cluster)
        host = entry & _L1_OFFSET_MASK
        if entry & _L2_COMPRESSED:
            raise _NotInPlace
        if host and entry & _COPIED:
            return ("zero-alloc" if entry & _L2_ZERO else "in-place"), host, entry
        return "alloc", host, entry

    def _write_run(
        self, offset: int, data: bytes, backing: Callable[[int, int], bytes],
        backing_allocated: Callable[[int, int], bool] | None,
    ) -> int:
        write = self._write_file
        if not self.in_place or write is None:
            raise _NotInPlace
        size = self.cluster_size
        cluster, within = divmod(offset, size)
        kind, host, first_entry = self._kind(cluster)
        l1_index = cluster // self._l2_entries
        last = (offset + len(data) - 1) // size
        olds = [(host, first_entry)]
        while (kind != "zero-alloc" and cluster + len(olds) <= last
               and (cluster + len(olds)) // self._l2_entries == l1_index):
            try:
                next_kind, next_host, next_entry = self._kind(cluster + len(olds))
            except _NotInPlace:
                break
            if next_kind != kind or (
                kind == "in-place" and next_host != host + len(olds) * size
            ):
                break
            olds.append((next_host, next_entry))
        count = len(olds)
        length = min(len(data), count * size - within)
        piece = data[:length]
        if kind == "in-place":
            write(host + within, piece)
            return length
        if kind == "zero-alloc":
            content = bytearray(size)
            content[within:within + length] = piece
            write(host, bytes(content))
            l2_offset = self._ensure_l2(l1_index)
            entry = host | _COPIED
            l2_index = cluster % self._l2_entries
            write(l2_offset + 8 * l2_index, struct.pack(">Q", entry))
            self._l2_table(l2_offset)[l2_index] = entry
            return length
        l2_offset = self._ensure_l2(l1_index)
        new_host = self._allocate(count)
        cow_end = count * size - within - length
        start = cluster * size

        def cow_not_zero(off: int, n: int, old_entry: int) -> bool:
            """QEMU's is_zero_cow test (bdrv_co_is_zero_fast: metadata only):
            zero clusters and unallocated ones over a zero backing read as
            zero; data does not."""
            if old_entry & _L2_ZERO:
                return False
            if old_entry:
                return True
            return backing_allocated is not None and backing_allocated(off, n)

        def region(index: int, off: int, n: int) -> bytes:
            cluster_data = self.read_cluster(cluster + index, backing)
            rel = off - (cluster + index) * size
            return cluster_data[rel:rel + n]

        if within == 0 and cow_end == 0:
            write(new_host, piece)
        elif self._zero_file is not None and not (
            (within and cow_not_zero(start, within, olds[0][1]))
            or (cow_end and cow_not_zero(start + within + length, cow_end, olds[-1][1]))
        ):
            self._zero_file(new_host, count * size)
            write(new_host + within, piece)
        else:
            head = region(0, start, within) if within else b""
            tail = region(count - 1, start + within + length, cow_end) if cow_end else b""
            write(new_host, head + piece + tail)
        table = self._l2_table(l2_offset)
        for index in range(count):
            entry = (new_host + index * size) | _COPIED
            l2_index = (cluster + index) % self._l2_entries
            write(l2_offset + 8 * l2_index, struct.pack(">Q", entry))
            table[l2_index] = entry
        for old_host, _entry in olds:
            if old_host:
                self._ref_add(old_host // size, -1)
        return length

    # -- write-zeroes and discard (QEMU's qcow2_co_pwrite_zeroes / _pdiscard) --

    def write_zeroes(
        self, offset: int, length: int, backing: Callable[[int, int], bytes],
        backing_allocated: Callable[[int, int], bool] | None,
        reads_zero: Callable[[int, int], bool],
    ) -> None:
        """Split as QEMU's block layer splits (unaligned head, whole
        clusters, unaligned tail).  Whole clusters get the zero flag; a
        partial cluster is zeroed that way only when the rest of it already
        reads as zeroes and it holds no data, else zero bytes are written."""
        size = self.cluster_size
        end = offset + length
        pos = offset
        while pos < end:
            if pos % size == 0 and end - pos >= size:
                chunk = (end - pos) // size * size
            else:
                chunk = min(end, (pos // size + 1) * size) - pos
            if not self._zeroize(pos, chunk, reads_zero):
                self.write(pos, bytes(chunk), backing, backing_allocated)
            pos += chunk

    def _zeroize(self, offset: int, length: int, reads_zero: Callable[[int, int], bool]) -> bool:
        """Set zero flags for *offset*..+*length* (whole clusters, or one
        partial cluster whose rest reads as zeroes); False when QEMU would
        fall back to writing zero bytes."""
        write = self._write_file
        size = self.cluster_size
        if not self.in_place or write is None or self.header.version < 3:
            return False
        head = offset % size
        tail = -(offset + length) % size
        if offset + length >= self.header.size:
            tail = 0
        if head or tail:
            if not (reads_zero(offset - head, head) and reads_zero(offset + length, tail)):
                return False
            cluster = offset // size
            if cluster in self.memory or cluster in self.zeroed:
                return False
            entry = self._file_entry(cluster)
            if entry & _L1_OFFSET_MASK and not entry & _L2_ZERO:
                return False
            offset, length = offset - head, size
        try:
            for cluster in range(offset // size, (offset + length) // size):
                if cluster in self.memory or cluster in self.zeroed:
                    raise _NotInPlace
                l2_offset = self._ensure_l2(cluster // self._l2_entries)
                l2_index = cluster % self._l2_entries
                table = self._l2_table(l2_offset)
                old = table[l2_index]
                new = (_L2_ZERO if old & _L2_COMPRESSED else old) | _L2_ZERO
                if new != old:
                    write(l2_offset + 8 * l2_index, struct.pack(">Q", new))
                    table[l2_index] = new
        except _NotInPlace:
            return False
        return True

    def discard(self, offset: int, length: int, has_backing: bool) -> None:
        """Whole clusters only (QEMU ignores partial ones): they read as
        zeroes afterwards (v3) and their host clusters are freed."""
        write = self._write_file
        size = self.cluster_size
        start = -(-offset // size) * size
        end = (offset + length) // size * size
        if offset + length >= self.header.size and offset % size == 0:
            end = -(-(offset + length) // size) * size
        if not self.in_place or write is None or end <= start:
            self._discard_in_memory(start, end)
            return
        try:
            self._discard_in_file(start, end, has_backing)
        except _NotInPlace:
            self._discard_in_memory(start, end)

    def _discard_in_memory(self, start: int, end: int) -> None:
        for cluster in range(start // self.cluster_size, end // self.cluster_size):
            self.memory.pop(cluster, None)
            self.zeroed.add(cluster)

    def _discard_in_file(self, start: int, end: int, has_backing: bool) -> None:
        write = self._write_file
        size = self.cluster_size
        if write is None:
            raise _NotInPlace
        for cluster in range(start // size, end // size):
            l2_offset = self._ensure_l2(cluster // self._l2_entries)
            l2_index = cluster % self._l2_entries
            table = self._l2_table(l2_offset)
            old = table[l2_index]
            if not old and not has_backing:
                continue
            new = _L2_ZERO if self.header.version >= 3 else 0
            if new == old:
                continue
            write(l2_offset + 8 * l2_index, struct.pack(">Q", new))
            table[l2_index] = new
            host = old & _L1_OFFSET_MASK
            if host and not old & _L2_COMPRESSED:
                self._ref_add(host // size, -1)

    def _ensure_l2(self, l1_index: int) -> int:
        """The L2 table for *l1_index*, allocated (or copied, when it is
        shared with an internal snapshot) first if need be."""
        write = self._write_file
        if write is None or l1_index >= len(self._l1):
            raise _NotInPlace
        entry = self._l1[l1_index]
        old_offset = entry & _L1_OFFSET_MASK
        if old_offset and entry & _COPIED:
            return old_offset
        # QEMU's l2_allocate flushes the refcounts, then the new table, then
        # writes the L1 entry synchronously: three fsyncs
        l2_offset = self._allocate()
        self._flush()
        if old_offset:
            content = list(self._l2_table(old_offset))
            write(l2_offset, struct.pack(f">{self._l2_entries}Q", *content))
        else:
            content = [0] * self._l2_entries
            write(l2_offset, bytes(self.cluster_size))
        self._flush()
        self._l2_cache[l2_offset] = content
        self._l1[l1_index] = l2_offset | _COPIED
        write(self.header.l1_table_offset + 8 * l1_index, struct.pack(">Q", self._l1[l1_index]))
        self._flush()
        if old_offset:
            self._ref_add(old_offset // self.cluster_size, -1)
        return l2_offset

    def _refcounts(self) -> bytearray:
        if self._refblock is None:
            (block,) = struct.unpack(">Q", self._read_file(self.header.refcount_table_offset, 8))
            if not block:
                raise _NotInPlace
            self._refblock_offset = block
            self._refblock = bytearray(self._read_file(block, self.cluster_size))
        return self._refblock

    def _allocate(self, count: int = 1) -> int:
        """The first run of *count* free clusters (refcount 0), now with
        refcount 1 (QEMU's ``alloc_clusters_noref`` + ``update_refcount``)."""
        write = self._write_file
        refs = self._refcounts()
        if write is None:
            raise _NotInPlace
        limit = len(refs) // 2
        index = self._free_index
        while True:
            while index < limit and refs[2 * index:2 * index + 2] != b"\0\0":
                index += 1
            run = 0
            while run < count and index + run < limit and refs[
                2 * (index + run):2 * (index + run) + 2
            ] == b"\0\0":
                run += 1
            if index + count > limit:
                raise _NotInPlace
            if run == count:
                break
            index += run
        for i in range(index, index + count):
            refs[2 * i:2 * i + 2] = b"\0\1"
        write(self._refblock_offset + 2 * index, b"\0\1" * count)
        self._free_index = index + count
        return index * self.cluster_size


    def _refcount(self, index: int) -> int:
        refs = self._refcounts()
        if 2 * index + 2 > len(refs):
            raise _NotInPlace
        (value,) = struct.unpack(">H", refs[2 * index:2 * index + 2])
        return int(value)

    def _ref_add(self, index: int, addend: int) -> int:
        """Change one refcount in the file; a freed cluster lowers the
        free-cluster search start, as in QEMU."""
        write = self._write_file
        if write is None:
            raise _NotInPlace
        value = self._refcount(index) + addend
        if value < 0:
            raise ImageError("qcow2 refcount would drop below zero")
        refs = self._refcounts()
        refs[2 * index:2 * index + 2] = struct.pack(">H", value)
        write(self._refblock_offset + 2 * index, struct.pack(">H", value))
        if value == 0 and index < self._free_index:
            self._free_index = index
        return value

    def _free(self, offset: int, length: int) -> None:
        size = self.cluster_size
        for index in range(offset // size, -(-(offset + length) // size)):
            self._ref_add(index, -1)

    # -- internal snapshots (QEMU's qcow2-snapshot.c, in the file) ----------------

    def _load_snapshots(self) -> None:
        offset = self.header.snapshots_offset
        for _ in range(self.header.nb_snapshots):
            offset = (offset + 7) & ~7
            (l1_off, l1_size, id_len, name_len, date_sec, date_nsec, vm_clock, vm_state,
             extra_len) = struct.unpack(">QIHHIIQII", self._read_file(offset, 40))
            offset += 40
            extra = self._read_file(offset, extra_len)
            offset += extra_len
            disk_size, icount = 0, -1
            if extra_len >= 16:
                (_large, disk_size) = struct.unpack(">QQ", extra[:16])
            if extra_len >= 24:
                (icount,) = struct.unpack(">q", extra[16:24])
            snap_id = self._read_file(offset, id_len).decode(errors="replace")
            offset += id_len
            name = self._read_file(offset, name_len).decode(errors="replace")
            offset += name_len
            self.snapshots.append(InternalSnapshot(
                id=snap_id, name=name, date_sec=date_sec, date_nsec=date_nsec,
                vm_state_size=vm_state, vm_clock_nsec=vm_clock, l1_table_offset=l1_off,
                l1_size=l1_size, disk_size=disk_size, icount=icount, extra=extra[24:],
            ))
        self._snapshots_size = offset - self.header.snapshots_offset

    def next_snapshot_id(self) -> str:
        """QEMU's ``find_new_snapshot_id``: one more than the largest id."""
        largest = 0
        for snapshot in self.snapshots:
            if snapshot.id.isdigit():
                largest = max(largest, int(snapshot.id))
        return str(largest + 1)

    def create_snapshot(self, snapshot: InternalSnapshot) -> None:
        """Store *snapshot* as QEMU 7.2 does: copy the active L1 table, take
        a reference on everything it points to, rewrite the snapshot table."""
        try:
            self._create_snapshot(snapshot)
        except _NotInPlace as err:
            raise ImageError("Operation not supported") from err

    def _create_snapshot(self, snapshot: InternalSnapshot) -> None:
        write = self._write_file
        if not self.in_place or write is None:
            self.snapshots.append(snapshot)
            return
        l1_bytes = len(self._l1) * 8
        snapshot.l1_table_offset = self._allocate(max(1, -(-l1_bytes // self.cluster_size)))
        snapshot.l1_size = len(self._l1)
        snapshot.disk_size = self.header.size
        write(snapshot.l1_table_offset, struct.pack(f">{len(self._l1)}Q", *self._l1))
        self._update_snapshot_refcount(self.header.l1_table_offset, len(self._l1), 1)
        self.snapshots.append(snapshot)
        self._write_snapshots()

    def delete_snapshot(self, snapshot: InternalSnapshot) -> None:
        try:
            self._delete_snapshot(snapshot)
        except _NotInPlace as err:
            raise ImageError("Operation not supported") from err

    def _delete_snapshot(self, snapshot: InternalSnapshot) -> None:
        self.snapshots.remove(snapshot)
        if not self.in_place or self._write_file is None or not snapshot.l1_table_offset:
            return
        self._write_snapshots()
        self._update_snapshot_refcount(snapshot.l1_table_offset, snapshot.l1_size, -1)
        self._free(snapshot.l1_table_offset, snapshot.l1_size * 8)
        self._update_snapshot_refcount(self.header.l1_table_offset, len(self._l1), 0)

    def _update_snapshot_refcount(self, l1_offset: int, l1_size: int, addend: int) -> None:
        """Add *addend* to the refcount of every cluster an L1 table reaches
        and set each entry's COPIED flag from the new refcount."""
        write = self._write_file
        if write is None:
            raise _NotInPlace
        size = self.cluster_size
        active = l1_offset == self.header.l1_table_offset
        if active:
            l1 = self._l1
        else:
            l1 = list(struct.unpack(f">{l1_size}Q", self._read_file(l1_offset, l1_size * 8)))
        l1_changed = False
        for i, l1_entry in enumerate(l1):
            l2_offset = l1_entry & _L1_OFFSET_MASK
            if not l2_offset:
                continue
            table = self._l2_table(l2_offset)
            l2_changed = False
            for j, l2_entry in enumerate(table):
                host = l2_entry & _L1_OFFSET_MASK
                if not host:
                    continue
                if l2_entry & _L2_COMPRESSED:
                    raise ImageError("compressed qcow2 clusters are not supported")
                refcount = (self._ref_add(host // size, addend) if addend
                            else self._refcount(host // size))
                updated = l2_entry | _COPIED if refcount == 1 else l2_entry & ~_COPIED
                if updated != l2_entry:
                    table[j] = updated
                    l2_changed = True
            if l2_changed:
                write(l2_offset, struct.pack(f">{self._l2_entries}Q", *table))
            refcount = (self._ref_add(l2_offset // size, addend) if addend
                        else self._refcount(l2_offset // size))
            updated = l2_offset | _COPIED if refcount == 1 else l2_offset
            if updated != l1_entry:
                l1[i] = updated
                l1_changed = True
        if l1_changed:
            write(l1_offset, struct.pack(f">{l1_size}Q", *l1))
            self._flush()  # QEMU writes the L1 table with bdrv_pwrite_sync

    def _flush(self) -> None:
        """Where QEMU flushes (fsync), so that the file's allocation, and with
        it ``actual-size``, is accounted for as on QEMU."""
        if self._flush_file is not None:
            self._flush_file()

    def _write_snapshots(self) -> None:
        """QEMU's ``qcow2_write_snapshots``: a new table, the header pointed
        at it, the old table freed."""
        write = self._write_file
        if write is None:
            raise _NotInPlace
        table = bytearray()
        for snapshot in self.snapshots:
            table += bytes(-len(table) % 8)
            id_bytes, name_bytes = snapshot.id.encode(), snapshot.name.encode()
            extra = struct.pack(">QQq", snapshot.vm_state_size, snapshot.disk_size,
                                snapshot.icount) + snapshot.extra
            table += struct.pack(
                ">QIHHIIQII", snapshot.l1_table_offset, snapshot.l1_size, len(id_bytes),
                len(name_bytes), snapshot.date_sec, snapshot.date_nsec, snapshot.vm_clock_nsec,
                snapshot.vm_state_size, len(extra),
            )
            table += extra + id_bytes + name_bytes
        clusters = -(-len(table) // self.cluster_size)
        offset = self._allocate(clusters) if clusters else self._free_index * self.cluster_size
        self._flush()
        if table:
            write(offset, bytes(table))
        self._flush()
        write(60, struct.pack(">IQ", len(self.snapshots), offset))
        self._flush()
        old_offset, old_size = self.header.snapshots_offset, self._snapshots_size
        self.header.snapshots_offset = offset
        self.header.nb_snapshots = len(self.snapshots)
        self._snapshots_size = len(table)
        if old_size:
            self._free(old_offset, old_size)


    # -- persistent dirty bitmaps (QEMU's qcow2-bitmap.c) ---------------------

    def _load_bitmap_directory(self) -> None:
        assert self.header.bitmaps_ext is not None
        count, size, offset = self.header.bitmaps_ext
        raw = self._read_file(offset, size)
        pos = 0
        for _ in range(count):
            (table_offset, table_size, flags, _kind, bits, name_size,
             extra_size) = struct.unpack(">QIIBBHI", raw[pos:pos + 24])
            extra = raw[pos + 24:pos + 24 + extra_size]
            name = raw[pos + 24 + extra_size:pos + 24 + extra_size + name_size].decode(
                errors="replace")
            pos += 24 + extra_size + name_size
            pos += -pos % 8
            self.stored_bitmaps.append(
                StoredBitmap(name, bits, flags, table_offset, table_size, extra))

    def load_bitmap_bits(self, stored: StoredBitmap) -> set[int]:
        """The dirty granules a stored bitmap records."""
        per_cluster = self.cluster_size * 8
        nbits = -(-self.header.size // stored.granularity)
        table = struct.unpack(f">{stored.table_size}Q",
                              self._read_file(stored.table_offset, stored.table_size * 8))
        bits: set[int] = set()
        for index, entry in enumerate(table):
            base = index * per_cluster
            offset = entry & _L1_OFFSET_MASK
            if not offset:
                if entry & 1:  # all ones
                    bits.update(range(base, min(base + per_cluster, nbits)))
                continue
            value = int.from_bytes(self._read_file(offset, self.cluster_size), "little")
            while value:
                low = value & -value
                bit = base + low.bit_length() - 1
                if bit < nbits:
                    bits.add(bit)
                value ^= low
        return bits

    def mark_bitmaps_in_use(self) -> None:
        """QEMU marks the bitmaps it loads for writing as in use, in place."""
        if not self.in_place or not self.stored_bitmaps:
            return
        changed = False
        for stored in self.stored_bitmaps:
            if not stored.in_use:
                stored.flags |= _BME_IN_USE
                changed = True
        if changed and self.header.bitmaps_ext is not None:
            write = self._write_file
            assert write is not None
            _count, _size, offset = self.header.bitmaps_ext
            write(offset, self._bitmap_directory_bytes())
            self._flush()
            self._write_header()
            self._flush()

    def _bitmap_directory_bytes(self) -> bytes:
        out = bytearray()
        for stored in self.stored_bitmaps:
            name = stored.name.encode()
            out += struct.pack(">QIIBBHI", stored.table_offset, stored.table_size,
                               stored.flags, 1, stored.granularity_bits, len(name),
                               len(stored.extra))
            out += stored.extra + name
            out += bytes(-len(out) % 8)
        return bytes(out)

    def store_bitmaps(self, live: list[LiveBitmap]) -> None:
        """QEMU's ``qcow2_store_persistent_dirty_bitmaps`` at close: the
        bitmaps' data clusters and tables, a new directory, the header, then
        the old tables and directory freed."""
        try:
            self._store_bitmaps(live)
        except _NotInPlace as err:
            raise ImageError("Operation not supported") from err

    def _store_bitmaps(self, live: list[LiveBitmap]) -> None:
        write = self._write_file
        if not self.in_place or write is None or (not live and not self.stored_bitmaps):
            return
        drop: list[StoredBitmap] = []
        todo: list[tuple[StoredBitmap, LiveBitmap]] = []
        for bitmap in live:
            stored = next((b for b in self.stored_bitmaps if b.name == bitmap.name), None)
            if stored is None:
                stored = StoredBitmap(bitmap.name, 0, 0, 0, 0)
                self.stored_bitmaps.append(stored)
            else:
                drop.append(StoredBitmap(stored.name, stored.granularity_bits, stored.flags,
                                         stored.table_offset, stored.table_size))
            stored.flags = _BME_AUTO if bitmap.enabled else 0
            stored.granularity_bits = bitmap.granularity.bit_length() - 1
            todo.append((stored, bitmap))
        # QEMU stores in directory order (loaded ones first, new ones after)
        todo.sort(key=lambda pair: self.stored_bitmaps.index(pair[0]))
        for stored, bitmap in todo:
            self._store_bitmap_data(stored, bitmap)
        self._write_bitmap_directory()
        for old in drop:
            self._free_bitmap_clusters(old)

    def _store_bitmap_data(self, stored: StoredBitmap, bitmap: LiveBitmap) -> None:
        write = self._write_file
        assert write is not None
        size = self.cluster_size
        per_cluster = size * 8
        nbits = -(-self.header.size // bitmap.granularity)
        serialized = -(-nbits // 64) * 8
        table_size = -(-serialized // size)
        table = [0] * table_size
        by_cluster: dict[int, int] = {}
        for bit in bitmap.bits:
            if bit < nbits:
                index = bit // per_cluster
                by_cluster[index] = by_cluster.get(index, 0) | (1 << (bit % per_cluster))
        for index in sorted(by_cluster):
            offset = self._allocate()
            write(offset, by_cluster[index].to_bytes(size, "little"))
            table[index] = offset
        stored.table_offset = self._allocate(-(-table_size * 8 // size))
        stored.table_size = table_size
        write(stored.table_offset, struct.pack(f">{table_size}Q", *table))

    def _free_bitmap_clusters(self, stored: StoredBitmap) -> None:
        if not stored.table_offset:
            return
        table = struct.unpack(f">{stored.table_size}Q",
                              self._read_file(stored.table_offset, stored.table_size * 8))
        for entry in table:
            if entry & _L1_OFFSET_MASK:
                self._free(entry & _L1_OFFSET_MASK, self.cluster_size)
        self._free(stored.table_offset, stored.table_size * 8)

    def _write_bitmap_directory(self) -> None:
        """A new directory for ``stored_bitmaps``, the header pointed at it
        (or the extension dropped when none is left), the old one freed."""
        write = self._write_file
        assert write is not None
        old = self.header.bitmaps_ext
        if self.stored_bitmaps:
            directory = self._bitmap_directory_bytes()
            offset = self._allocate(-(-len(directory) // self.cluster_size))
            write(offset, directory)
            self._flush()
            self.header.bitmaps_ext = (len(self.stored_bitmaps), len(directory), offset)
            self.header.autoclear |= 1
        else:
            self.header.bitmaps_ext = None
            self.header.autoclear &= ~1
        self._write_header()
        self._flush()
        if old is not None and old[1]:
            self._free(old[2], old[1])

    def remove_stored_bitmap(self, name: str) -> bool:
        """Delete a persistent bitmap from the image now (QEMU does so in
        ``block-dirty-bitmap-remove``'s prepare); False if it was not there."""
        stored = next((b for b in self.stored_bitmaps if b.name == name), None)
        if stored is None or not self.in_place or self._write_file is None:
            return False
        try:
            self.stored_bitmaps.remove(stored)
            self._write_bitmap_directory()
            self._free_bitmap_clusters(stored)
        except _NotInPlace as err:
            raise ImageError("Operation not supported") from err
        return True

    def _write_header(self) -> None:
        """QEMU's ``qcow2_update_header``: the header fields, the extensions
        in QEMU's order, then the backing file name, in the first cluster."""
        write = self._write_file
        assert write is not None
        head = bytearray(self._read_file(0, self.cluster_size))
        length = struct.unpack(">I", head[100:104])[0] if self.header.version >= 3 else 72
        exts: list[tuple[int, bytes]] = []
        pos = length
        while pos + 8 <= len(head):
            ext_type, ext_len = struct.unpack(">II", head[pos:pos + 8])
            if ext_type == 0:
                break
            exts.append((ext_type, bytes(head[pos + 8:pos + 8 + ext_len])))
            pos += 8 + ((ext_len + 7) & ~7)
        exts = [e for e in exts if e[0] != _BITMAPS_EXT]
        if self.header.bitmaps_ext is not None:
            count, size, offset = self.header.bitmaps_ext
            exts.append((_BITMAPS_EXT, struct.pack(">IIQQ", count, 0, size, offset)))
        order = {0xE2792ACA: 0, 0x44415441: 1, 0x0537BE77: 2, 0x6803F857: 3, _BITMAPS_EXT: 4}
        exts.sort(key=lambda e: order.get(e[0], 5))
        backing_off, backing_len = struct.unpack(">QI", head[8:20])
        backing = bytes(head[backing_off:backing_off + backing_len]) if backing_off else b""
        body = bytearray(head[:length])
        body[88:96] = struct.pack(">Q", self.header.autoclear)
        for ext_type, payload in exts:
            body += _ext(ext_type, payload)
        body += struct.pack(">II", 0, 0)
        if backing:
            body[8:16] = struct.pack(">Q", len(body))
            body += backing
        cluster = bytearray(self.cluster_size)
        cluster[:len(body)] = body
        write(0, bytes(cluster))


# -- creating images -----------------------------------------------------------------


def _feature_table() -> bytes:
    """The feature-name table QEMU 7.2 writes into new qcow2 images."""
    names = [
        (0, 0, "dirty bit"), (0, 1, "corrupt bit"), (0, 2, "external data file"),
        (0, 3, "compression type"), (0, 4, "extended L2 entries"),
        (1, 0, "lazy refcounts"), (2, 0, "bitmaps"), (2, 1, "raw external data"),
    ]
    return b"".join(
        struct.pack(">BB46s", kind, bit, name.encode()) for kind, bit, name in names
    )


def _ext(ext_type: int, payload: bytes) -> bytes:
    padded = payload + bytes(-len(payload) % 8)
    return struct.pack(">II", ext_type, len(payload)) + padded


def create_qcow2(
    path: str, size: int, backing_file: str | None = None, backing_format: str | None = None,
    cluster_size: int = 65536,
) -> None:
    """Write a new, empty qcow2 (v3, 16-bit refcounts) image at *path*.

    The layout is QEMU's: header cluster, refcount table, one refcount
    block, then the L1 table.  Every cluster is written out in full so
    the file occupies what QEMU's would.
    """
    cluster_bits = cluster_size.bit_length() - 1
    l2_entries = cluster_size // 8
    l1_size = max(1, -(-size // (cluster_size * l2_entries)))
    l1_bytes = l1_size * 8
    l1_clusters = -(-l1_bytes // cluster_size)
    used = 3 + l1_clusters
    if used > cluster_size // 2:  # one 16-bit refcount block must cover the metadata
        raise ImageError("image too large for serve's qcow2 writer")
    exts = b""
    if backing_file is not None and backing_format:
        exts += _ext(0xE2792ACA, backing_format.encode())
    exts += _ext(0x6803F857, _feature_table())
    exts += struct.pack(">II", 0, 0)
    header_length = 112
    backing = backing_file.encode() if backing_file is not None else b""
    backing_off = header_length + len(exts) if backing else 0
    header = QCOW2_MAGIC + struct.pack(
        ">IQIIQIIQQIIQQQQII",
        3, backing_off, len(backing), cluster_bits, size, 0, l1_size,
        3 * cluster_size, cluster_size, 1, 0, 0, 0, 0, 0, 4, header_length,
    )
    header += bytes(header_length - len(header))
    header_cluster = bytearray(cluster_size)
    blob = header + exts + backing
    if len(blob) > cluster_size:
        raise ImageError("backing file name too long")
    header_cluster[: len(blob)] = blob
    refcount_table = bytearray(cluster_size)
    refcount_table[0:8] = struct.pack(">Q", 2 * cluster_size)
    refcount_block = bytearray(cluster_size)
    for index in range(used):
        refcount_block[2 * index:2 * index + 2] = struct.pack(">H", 1)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.pwrite(fd, bytes(header_cluster), 0)
        os.pwrite(fd, bytes(refcount_table), cluster_size)
        os.pwrite(fd, bytes(refcount_block), 2 * cluster_size)
        os.pwrite(fd, bytes(l1_bytes), 3 * cluster_size)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_raw(path: str, size: int) -> None:
    """A sparse raw image of *size* bytes."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def remove_file(path: str) -> None:
    """Delete a file this process created; a missing one is fine."""
    try:
        os.unlink(path)
    except OSError as err:
        if err.errno != errno.ENOENT:
            raise
