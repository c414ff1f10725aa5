"""The order in which QEMU's input visitor finds unexpected members.

When QEMU decodes a command's arguments, each object's member names go
into a GLib ``GHashTable`` (``g_str_hash``, in the object's QDict order);
every member the schema declares is taken out as it is visited, and the
first name the table's iterator still yields is reported as
``Parameter 'NAME' is unexpected``.  Which of several unexpected members
that is depends on GLib's open addressing: the bucket is ``hash * 11 mod
prime``, collisions probe quadratically, and a table that fills up is
rehashed in place into a bigger one.

:func:`ghash_order` gives a key sequence in that iteration order, so that
a decoder reporting the first unexpected member of its dict reports
QEMU's.  It models the insertions exactly (GLib 2.74, QEMU 7.2's Debian
build); shrinking while members are taken out is not modelled, which can
only matter for objects with eight members or more.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from qapigen.runtime.qjson import qdict_order

_MIN_SHIFT = 3
_PRIME_MOD = (1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749,
              65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213,
              33554393, 67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647)


def g_str_hash(key: str) -> int:
    """GLib's ``g_str_hash`` (djb2 over signed chars, 32 bits)."""
    value = 5381
    for byte in key.encode("utf-8", "surrogatepass"):
        value = (value * 33 + (byte - 256 if byte >= 128 else byte)) & 0xFFFFFFFF
    return value


class _Table:
    def __init__(self) -> None:
        self._set_shift(_MIN_SHIFT)
        self.hashes = [0] * self.size
        self.keys: list[str | None] = [None] * self.size
        self.nnodes = 0

    def _set_shift(self, shift: int) -> None:
        self.size = 1 << shift
        self.mod = _PRIME_MOD[shift]
        self.mask = self.size - 1

    def _index(self, hash_value: int) -> int:
        return ((hash_value * 11) & 0xFFFFFFFF) % self.mod

    def insert(self, key: str) -> None:
        hash_value = g_str_hash(key)
        if hash_value < 2:  # 0 and 1 mark unused and removed buckets
            hash_value = 2
        index = self._index(hash_value)
        step = 0
        while self.hashes[index]:
            if self.hashes[index] == hash_value and self.keys[index] == key:
                return
            step += 1
            index = (index + step) & self.mask
        self.hashes[index] = hash_value
        self.keys[index] = key
        self.nnodes += 1
        if self.size <= self.nnodes + self.nnodes // 16:
            self._resize()

    def _resize(self) -> None:
        """GLib's in-place rehash into a table for nnodes * 1.333 entries."""
        old_size = self.size
        target = int(self.nnodes * 1.333)
        shift = 0
        while target:
            target >>= 1
            shift += 1
        self._set_shift(max(shift, _MIN_SHIFT))
        if self.size > old_size:
            self.hashes += [0] * (self.size - old_size)
            self.keys += [None] * (self.size - old_size)
        placed = [False] * max(self.size, old_size)
        for i in range(old_size):
            node_hash = self.hashes[i]
            if node_hash < 2 or placed[i]:
                continue
            self.hashes[i] = 0
            key = self.keys[i]
            self.keys[i] = None
            while True:
                index = self._index(node_hash)
                step = 0
                while placed[index]:
                    step += 1
                    index = (index + step) & self.mask
                placed[index] = True
                replaced_hash, replaced_key = self.hashes[index], self.keys[index]
                self.hashes[index], self.keys[index] = node_hash, key
                if replaced_hash < 2:
                    break
                node_hash, key = replaced_hash, replaced_key
        del self.hashes[self.size:]
        del self.keys[self.size:]

    def order(self) -> tuple[str, ...]:
        return tuple(k for h, k in zip(self.hashes, self.keys, strict=True) if h >= 2 and k)


@lru_cache(maxsize=4096)
def ghash_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """*keys* (a QDict's iteration order) in the GHashTable's iteration order."""
    table = _Table()
    for key in keys:
        table.insert(key)
    return table.order()


def visitor_order(value: Any) -> Any:
    """*value* (arguments as parsed, objects in QDict order) with every
    object's members in the order QEMU's input visitor iterates them."""
    if isinstance(value, dict):
        if len(value) < 2:
            return {k: visitor_order(v) for k, v in value.items()}
        return {k: visitor_order(value[k]) for k in ghash_order(qdict_order(tuple(value)))}
    if isinstance(value, list):
        return [visitor_order(v) for v in value]
    return value
