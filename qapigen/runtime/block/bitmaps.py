"""Dirty bitmaps as QEMU 7.2 keeps them (spec B.3 and C.4).

A bitmap is a set of dirty granule indices.  It lives in its node's
``bitmaps`` list, newest first, because QEMU inserts new bitmaps at the
head of that list and every query shows them in that order.  A backup
freezes a bitmap by giving it an anonymous *successor* that records the
writes made meanwhile; abdicate and reclaim end that state as QEMU does.
"""

from __future__ import annotations

from collections.abc import Iterator

from qapigen.support.errors import QMPError

#: The default granularity when a node's cluster size is unknown.
DEFAULT_GRANULARITY = 65536
#: QEMU 7.2 refuses longer names (BDRV_BITMAP_MAX_NAME_SIZE).
MAX_NAME_BYTES = 1023


def default_granularity(cluster_size: int | None) -> int:
    """QEMU's rule: the cluster size clamped to [4 KiB, 64 KiB], or
    64 KiB when the format does not know a cluster size."""
    if not cluster_size:
        return DEFAULT_GRANULARITY
    return max(4096, min(65536, cluster_size))


def check_granularity(granularity: int) -> None:
    """``block-dirty-bitmap-add``'s check of an explicit granularity."""
    if granularity < 512 or granularity & (granularity - 1):
        raise QMPError("Granularity must be power of 2 and at least 512")


class Bitmap:
    """One dirty bitmap.

    ``siblings`` is the list of the node the bitmap belongs to; the
    bitmap needs it to place and remove its successor, since QEMU lists
    successors (anonymous bitmaps) like any other bitmap.
    """

    def __init__(
        self,
        name: str | None,
        granularity: int,
        size: int,
        siblings: list[Bitmap],
        *,
        enabled: bool = True,
        persistent: bool = False,
    ) -> None:
        self.name = name
        self.granularity = granularity
        self.size = size
        self.siblings = siblings
        self.bits: set[int] = set()
        self.enabled = enabled
        self.busy = False
        self.persistent = persistent
        self.readonly = False
        self.inconsistent = False
        self.skip_store = False
        self.successor: Bitmap | None = None

    def __repr__(self) -> str:
        return f"Bitmap({self.name!r}, granularity={self.granularity}, count={self.count()})"

    # -- contents ----------------------------------------------------------

    @property
    def recording(self) -> bool:
        """What QEMU reports as ``recording``: enabled, or frozen with an
        enabled successor."""
        return self.enabled or (self.successor is not None and self.successor.enabled)

    def count(self) -> int:
        """Dirty granules times the granularity, as QEMU reports it."""
        return len(self.bits) * self.granularity

    def mark(self, offset: int, length: int) -> None:
        """Set every granule that [offset, offset+length) touches."""
        if length <= 0:
            return
        first = offset // self.granularity
        last = (offset + length - 1) // self.granularity
        self.bits.update(range(first, last + 1))

    def dirty_ranges(self) -> Iterator[tuple[int, int]]:
        """(offset, length) of each run of dirty granules, in order; the
        last run is cut at the end of the node."""
        start: int | None = None
        prev = -2
        for index in sorted(self.bits):
            if index != prev + 1:
                if start is not None:
                    yield self._span(start, prev)
                start = index
            prev = index
        if start is not None:
            yield self._span(start, prev)

    def _span(self, first: int, last: int) -> tuple[int, int]:
        offset = first * self.granularity
        end = min((last + 1) * self.granularity, self.size)
        return offset, end - offset

    def merge_from(self, source: Bitmap) -> None:
        """OR *source* into this bitmap; the granularities may differ, so
        each dirty granule of the source dirties the range it covers."""
        if source.granularity == self.granularity:
            self.bits |= source.bits
            return
        for offset, length in source.dirty_ranges():
            self.mark(offset, length)

    # -- checks (bdrv_dirty_bitmap_check) -----------------------------------

    def check(self, *, allow_ro: bool = False) -> None:
        """QEMU's BDRV_BITMAP_DEFAULT check, or ALLOW_RO (busy and
        inconsistent only) with *allow_ro*."""
        if self.busy:
            raise QMPError(
                f"Bitmap '{self.name}' is currently in use by another operation"
                " and cannot be used"
            )
        if not allow_ro and self.readonly:
            raise QMPError(f"Bitmap '{self.name}' is readonly and cannot be modified")
        if self.inconsistent:
            raise QMPError(f"Bitmap '{self.name}' is inconsistent and cannot be used")

    # -- backups (spec C.4) ---------------------------------------------------

    def create_successor(self) -> Bitmap:
        """Freeze this bitmap: an anonymous successor with the same
        granularity takes the new writes (enabled iff this bitmap was),
        and this bitmap becomes busy and disabled."""
        if self.successor is not None:
            raise QMPError("Cannot create a successor for a bitmap that already has one")
        successor = Bitmap(None, self.granularity, self.size, self.siblings, enabled=self.enabled)
        self.siblings.insert(0, successor)
        self.successor = successor
        self.enabled = False
        self.busy = True
        return successor

    def abdicate(self) -> None:
        """The backup succeeded: the successor's bits replace ours, and the
        named bitmap takes the successor's place in the list (QEMU hands
        the name to the successor and releases the parent)."""
        successor = self._take_successor()
        self.bits = successor.bits
        self.enabled = successor.enabled
        self.busy = False
        self.siblings.remove(self)
        self.siblings[self.siblings.index(successor)] = self

    def reclaim(self) -> None:
        """The backup failed or was cancelled: merge the successor back,
        take its enabled state, and clear busy; nothing is lost."""
        successor = self._take_successor()
        self.merge_from(successor)
        self.enabled = successor.enabled
        self.busy = False
        self.siblings.remove(successor)

    def _take_successor(self) -> Bitmap:
        successor = self.successor
        if successor is None:
            raise QMPError(f"Bitmap '{self.name}' has no successor")
        self.successor = None
        return successor

    # -- whole-state copies for undo --------------------------------------------

    def snapshot_bits(self) -> set[int]:
        return set(self.bits)
