"""Dirty bitmaps (spec B.3, C.4): granularity rules, counts, checks and
the successor life cycle, on the model directly."""

from __future__ import annotations

import pytest

from qapigen.runtime.block.bitmaps import Bitmap, check_granularity, default_granularity
from qapigen.support.errors import QMPError

M = 1 << 20


def make(granularity: int = 65536, size: int = 64 * M) -> tuple[Bitmap, list[Bitmap]]:
    siblings: list[Bitmap] = []
    bitmap = Bitmap("b0", granularity, size, siblings)
    siblings.insert(0, bitmap)
    return bitmap, siblings


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [(None, 65536), (512, 4096), (4096, 4096), (65536, 65536), (2 * M, 65536), (16384, 16384)],
)
def test_default_granularity_is_cluster_size_clamped(cluster: int | None, expected: int) -> None:
    assert default_granularity(cluster) == expected


@pytest.mark.parametrize("granularity", [0, 256, 511, 1000, 3 * 512])
def test_bad_granularity_text(granularity: int) -> None:
    with pytest.raises(QMPError) as info:
        check_granularity(granularity)
    assert info.value.desc == "Granularity must be power of 2 and at least 512"


@pytest.mark.parametrize("granularity", [512, 4096, 65536, 1 << 31])
def test_good_granularity(granularity: int) -> None:
    check_granularity(granularity)


def test_counts_as_qemu_reports_them() -> None:
    one, _ = make(65536)
    one.mark(M, 1)
    assert one.count() == 65536
    small, _ = make(512)
    small.mark(0, 4096)
    assert small.count() == 4096
    two, _ = make(65536)
    two.mark(0, 65536)
    two.mark(M, 1)
    assert two.count() == 131072
    straddle, _ = make(65536)
    straddle.mark(65535, 2)
    assert straddle.count() == 131072


def test_dirty_ranges_join_runs_and_stop_at_the_end() -> None:
    bitmap, _ = make(65536, size=M + 100)
    bitmap.mark(0, 131072)
    bitmap.mark(M, 1)
    assert list(bitmap.dirty_ranges()) == [(0, 131072), (M, 100)]


def test_merge_across_granularities_expands() -> None:
    coarse, _ = make(65536)
    coarse.mark(0, 1)
    fine, _ = make(512)
    fine.merge_from(coarse)
    assert fine.count() == 65536
    assert len(fine.bits) == 128
    back, _ = make(65536)
    back.merge_from(fine)
    assert back.count() == 65536


def test_check_texts() -> None:
    bitmap, _ = make()
    bitmap.busy = True
    with pytest.raises(QMPError) as info:
        bitmap.check()
    assert info.value.desc == (
        "Bitmap 'b0' is currently in use by another operation and cannot be used"
    )
    bitmap.busy = False
    bitmap.readonly = True
    with pytest.raises(QMPError) as info:
        bitmap.check()
    assert info.value.desc == "Bitmap 'b0' is readonly and cannot be modified"
    bitmap.check(allow_ro=True)
    bitmap.inconsistent = True
    with pytest.raises(QMPError) as info:
        bitmap.check(allow_ro=True)
    assert info.value.desc == "Bitmap 'b0' is inconsistent and cannot be used"


def test_successor_freezes_and_is_listed_first() -> None:
    bitmap, siblings = make()
    other = Bitmap("b1", 65536, 64 * M, siblings)
    siblings.insert(0, other)
    bitmap.mark(0, 1)
    successor = bitmap.create_successor()
    assert siblings == [successor, other, bitmap]
    assert (bitmap.busy, bitmap.enabled, bitmap.recording) == (True, False, True)
    assert successor.name is None and successor.enabled
    with pytest.raises(QMPError) as info:
        bitmap.create_successor()
    assert info.value.desc == "Cannot create a successor for a bitmap that already has one"


def test_abdicate_keeps_only_new_writes_and_takes_the_successor_place() -> None:
    bitmap, siblings = make()
    other = Bitmap("b1", 65536, 64 * M, siblings)
    siblings.insert(0, other)
    bitmap.mark(0, 4 * M)
    successor = bitmap.create_successor()
    successor.mark(8 * M, 1)
    bitmap.abdicate()
    assert siblings == [bitmap, other]
    assert bitmap.count() == 65536
    assert (bitmap.busy, bitmap.enabled, bitmap.successor) == (False, True, None)


def test_reclaim_loses_nothing_and_keeps_a_disabled_bitmap_disabled() -> None:
    bitmap, siblings = make()
    bitmap.enabled = False
    bitmap.mark(0, 4 * M)
    successor = bitmap.create_successor()
    assert not successor.enabled
    bitmap.reclaim()
    assert siblings == [bitmap]
    assert bitmap.count() == 4 * M
    assert (bitmap.busy, bitmap.enabled, bitmap.recording) == (False, False, False)


def test_mark_of_nothing_marks_nothing() -> None:
    """A zero length inside a granule dirties no granule (mutmut:
    ``mark`` 1)."""
    bitmap, _ = make()
    bitmap.mark(100, 0)
    bitmap.mark(65536 + 1, -5)
    assert bitmap.bits == set()
    bitmap.mark(100, 1)
    assert bitmap.bits == {0}


def test_dirty_ranges_starting_at_granule_three() -> None:
    """The first run is found wherever it starts (mutmut: ``dirty_ranges``
    3)."""
    bitmap, _ = make()
    bitmap.bits = {3}
    assert list(bitmap.dirty_ranges()) == [(3 * 65536, 65536)]
    bitmap.bits = {1, 3, 4}
    assert list(bitmap.dirty_ranges()) == [(65536, 65536), (3 * 65536, 2 * 65536)]


def test_new_bitmaps_and_successors_are_not_persistent() -> None:
    """query-block shows ``persistent``; only an explicit request sets it
    (mutmut: ``Bitmap.__init__`` 2)."""
    bitmap, _ = make()
    assert bitmap.persistent is False
    assert bitmap.create_successor().persistent is False


def test_successor_shares_size_and_siblings() -> None:
    """The successor's runs are cut at the node's end and it lives in the
    node's list (mutmut: ``create_successor`` 8, 9)."""
    bitmap, siblings = make(size=65536 + 100)
    successor = bitmap.create_successor()
    assert successor.size == 65536 + 100
    assert successor.siblings is siblings
    assert siblings == [successor, bitmap]
    successor.mark(65536, 1)
    assert list(successor.dirty_ranges()) == [(65536, 100)]


def test_abdicate_and_reclaim_without_successor_text() -> None:
    """mutmut: ``_take_successor`` 3."""
    bitmap, _ = make()
    for end in (bitmap.abdicate, bitmap.reclaim):
        with pytest.raises(QMPError) as info:
            end()
        assert info.value.desc == "Bitmap 'b0' has no successor"


def test_snapshot_bits_is_an_equal_copy() -> None:
    """mutmut: ``snapshot_bits`` 1 (no test reached it)."""
    bitmap, _ = make()
    bitmap.mark(0, 3 * 65536)
    copy = bitmap.snapshot_bits()
    assert copy == {0, 1, 2}
    copy.add(9)
    assert bitmap.bits == {0, 1, 2}
