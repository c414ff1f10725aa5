"""``query-named-block-nodes`` and ``query-block`` as QEMU 7.2 fills them.

Field by field this follows what 7.2 sends for ``file``, ``raw``,
``qcow2`` and ``null-co`` nodes (checked against the real thing): I/O
limits all 0, ``detect_zeroes`` and ``cache`` from the node's options,
``write_threshold`` 0, ``encrypted`` false, ``dirty-bitmaps`` only when
the node has bitmaps, and the image's sizes from the real files.
"""

from __future__ import annotations

from qapigen import qmp
from qapigen.runtime.block.bitmaps import Bitmap
from qapigen.runtime.block.graph import BlockBackend, Node


def _round_up(value: int, align: int) -> int:
    return -(-value // align) * align


def actual_size(node: Node) -> int:
    """Bytes the node's files take on the host (QEMU sums the file
    child's allocation; backing files do not count)."""
    if node.protocol is not None:
        return node.protocol.actual_size()
    return actual_size(node.file) if node.file is not None else 0


def virtual_size(node: Node) -> int:
    if node.drv == "file":
        return _round_up(node.size, 512)
    return node.size


def dirty_info(bitmap: Bitmap) -> qmp.BlockDirtyInfo:
    return qmp.BlockDirtyInfo(
        name=bitmap.name, count=bitmap.count(), granularity=bitmap.granularity,
        recording=bitmap.recording, busy=bitmap.busy, persistent=bitmap.persistent,
        inconsistent=True if bitmap.inconsistent else None,
    )


def header_backing(node: Node) -> str | None:
    """The backing file the image header names (ImageInfo's view)."""
    header = node.header
    return header.backing_file if header is not None else None


def backing_filename(node: Node) -> str | None:
    """BlockDeviceInfo's ``backing_file``: the backing node's filename."""
    if node.backing is not None:
        return node.backing.filename()
    return header_backing(node)


def image_info(node: Node, flat: bool) -> qmp.ImageInfo:
    info = qmp.ImageInfo(
        filename=node.filename(), format=node.drv, virtual_size=virtual_size(node),
        actual_size=actual_size(node),
    )
    if node.drv != "null-co":
        header = node.header
        info.dirty_flag = header.dirty if header is not None else False
    header = node.header
    if header is not None:
        info.cluster_size = header.cluster_size
        info.format_specific = qmp.ImageInfoSpecificQcow2(
            data=qmp.ImageInfoSpecificQCow2(
                compat=header.compat,
                lazy_refcounts=header.lazy_refcounts,
                corrupt=header.corrupt if header.version >= 3 else None,
                refcount_bits=1 << header.refcount_order,
                compression_type=qmp.Qcow2CompressionType.ZSTD
                if header.compression_type == 1 else qmp.Qcow2CompressionType.ZLIB,
                extended_l2=header.extended_l2 if header.version >= 3 else None,
                bitmaps=[
                    qmp.Qcow2BitmapInfo(
                        name=b.name, granularity=b.granularity,
                        flags=[f for f, on in ((qmp.Qcow2BitmapInfoFlags.IN_USE, b.in_use),
                                               (qmp.Qcow2BitmapInfoFlags.AUTO, b.auto)) if on],
                    )
                    for b in node.qcow2.stored_bitmaps
                ] if node.qcow2 is not None and node.qcow2.stored_bitmaps else None,
            )
        )
    elif node.is_filter and node.file is not None and node.file.cluster_size:
        info.cluster_size = node.file.cluster_size  # a filter reports its child's
    if node.snapshots:
        info.snapshots = [s.info() for s in node.snapshots]
    backing = node.backing
    name = header_backing(node)
    if name:
        info.backing_filename = name
        info.full_backing_filename = name
        if header is not None and header.backing_format:
            info.backing_filename_format = header.backing_format
    below = node.file if node.is_filter else backing
    if below is not None and not flat:
        info.backing_image = image_info(below, flat)
    return info


def node_info(node: Node, flat: bool = False) -> qmp.BlockDeviceInfo:
    depth = 0 if flat else sum(1 for _ in node.chain()) - 1
    info = qmp.BlockDeviceInfo(
        file=node.filename(), node_name=node.name, ro=node.read_only, drv=node.drv,
        backing_file=backing_filename(node) or None, backing_file_depth=depth,
        encrypted=False, detect_zeroes=node.detect_zeroes,
        bps=0, bps_rd=0, bps_wr=0, iops=0, iops_rd=0, iops_wr=0,
        image=image_info(node, flat),
        cache=qmp.BlockdevCacheInfo(
            writeback=True, direct=node.cache_direct, no_flush=node.cache_no_flush
        ),
        write_threshold=0,
    )
    if node.bitmaps:
        info.dirty_bitmaps = [dirty_info(b) for b in node.bitmaps]
    return info


def backend_info(backend: BlockBackend) -> qmp.BlockInfo:
    return qmp.BlockInfo(
        device=backend.name, qdev=backend.qdev, type="unknown", removable=backend.removable,
        locked=False,
        inserted=node_info(backend.root) if backend.root is not None else None,
        tray_open=False if backend.removable else None,
        io_status=qmp.BlockDeviceIoStatus.OK,
    )
