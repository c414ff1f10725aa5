"""The block model driven through the Machine (no server, no QEMU):
query output as QEMU 7.2 fills it, guest writes, lookups, image files."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qapigen.runtime.block.images import create_qcow2, create_raw, parse_qcow2_header
from tests.runtime.machine_util import Rig

M = 1 << 20


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    machine = Rig(tmp_path)
    yield machine
    machine.close()


def test_nodes_newest_first_and_backends(rig: Rig) -> None:
    names = [n["node-name"] for n in rig.ok("query-named-block-nodes")]
    assert names == ["disk0", "f0", "raw0", "f1"]
    block = rig.ok("query-block")
    assert [(b["device"], b["qdev"], b["type"], b["removable"], b["locked"], b["io-status"])
            for b in block] == [("", "/machine/peripheral/vd0/virtio-backend", "unknown",
                                 False, False, "ok")]
    assert block[0]["inserted"]["node-name"] == "raw0"


def test_raw_node_fields(rig: Rig, tmp_path: Path) -> None:
    raw0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "raw0")
    path = str(tmp_path / "r0.raw")
    assert raw0 == {
        "file": path, "node-name": "raw0", "ro": False, "drv": "raw",
        "backing_file_depth": 0, "encrypted": False, "detect_zeroes": "off",
        "bps": 0, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0,
        "image": {"filename": path, "format": "raw", "virtual-size": 16 * M,
                  "dirty-flag": False, "actual-size": 0},
        "cache": {"writeback": True, "direct": False, "no-flush": False},
        "write_threshold": 0,
    }


def test_qcow2_node_fields(rig: Rig) -> None:
    disk0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "disk0")
    image = disk0["image"]
    assert image["cluster-size"] == 65536
    assert image["virtual-size"] == 64 * M
    assert image["actual-size"] == 200704
    assert image["format-specific"] == {
        "type": "qcow2",
        "data": {"compat": "1.1", "compression-type": "zlib", "lazy-refcounts": False,
                 "refcount-bits": 16, "corrupt": False, "extended-l2": False},
    }
    f0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "f0")
    assert f0["image"]["virtual-size"] == 197120  # 196616 rounded up to 512


def test_guest_write_reaches_the_raw_file_and_marks_enabled_bitmaps(
    rig: Rig, tmp_path: Path
) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b0")
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b1", granularity=512)
    rig.ok("block-dirty-bitmap-add", node="raw0", name="off", disabled=True)
    line = 'qemu-io -d vd0/virtio-backend "write -P 0x5a 1M 1"'
    assert rig.ok("human-monitor-command", **{"command-line": line}) == ""
    rig.write("raw0", 0x11, "0", "4k")
    counts = {b["name"]: (b["count"], b["recording"]) for b in rig.bitmaps("raw0")}
    assert counts == {"off": (0, False), "b1": (4096 + 512, True), "b0": (131072, True)}
    assert [b["name"] for b in rig.bitmaps("raw0")] == ["off", "b1", "b0"]
    with open(tmp_path / "r0.raw", "rb") as f:
        data = f.read(M + 2)
    assert data[:4096] == b"\x11" * 4096 and data[M] == 0x5A and data[M + 1] == 0


def test_discard_is_ignored_without_unmap_and_zeroes_are_dirty(rig: Rig) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b0")
    assert rig.ok("human-monitor-command", **{"command-line": 'qemu-io raw0 "discard 0 64k"'}) == ""
    assert rig.bitmaps("raw0")[0]["count"] == 0
    assert rig.ok("human-monitor-command", **{"command-line": 'qemu-io raw0 "write -z 64k 4k"'}) == ""
    assert rig.bitmaps("raw0")[0]["count"] == 65536


def test_hmp_texts(rig: Rig) -> None:
    def hmp(line: str) -> str:
        result: str = rig.ok("human-monitor-command", **{"command-line": line})
        return result
    assert hmp('qemu-io nosuch "write 0 1"') == (
        "Error: Cannot find device='' nor node-name='nosuch'\r\n")
    assert hmp('qemu-io -d vd0 "write 0 1"') == (
        "Error: Device does not have a block device backend\r\n")
    assert hmp('qemu-io -d nodev "write 0 1"') == "Error: Device 'nodev' not found\r\n"
    assert hmp("qemu-io") == (
        "qemu-io: block device name expected\r\nTry \"help qemu-io\" for more information\r\n")
    # qemu-io's own complaints go to QEMU's stdout: the reply is empty
    assert hmp('qemu-io raw0 "write 16M 1"') == ""
    assert hmp('qemu-io raw0 "writ 0 1"') == ""


def test_bitmap_add_checks_in_order(rig: Rig) -> None:
    assert rig.error("block-dirty-bitmap-add", node="nonode", name="") == (
        "Bitmap name cannot be empty")
    assert rig.error("block-dirty-bitmap-add", node="vd0", name="b") == (
        "Cannot find device='vd0' nor node-name='vd0'")
    assert rig.error("block-dirty-bitmap-add", node="raw0", name="b", granularity=1000) == (
        "Granularity must be power of 2 and at least 512")
    assert rig.error("block-dirty-bitmap-add", node="raw0", name="b", persistent=True) == (
        "Can't store persistent bitmaps to raw0: Operation not supported")
    rig.ok("block-dirty-bitmap-add", node="disk0", name="p", persistent=True)
    assert rig.error("block-dirty-bitmap-add", node="disk0", name="p") == (
        "Bitmap already exists: p")
    long = "x" * 1024
    assert rig.error("block-dirty-bitmap-add", node="disk0", name=long) == (
        f"Bitmap name too long: {long}")
    assert rig.bitmaps("disk0")[0]["persistent"] is True


def test_bitmap_lookup_texts(rig: Rig) -> None:
    assert rig.error("block-dirty-bitmap-clear", node="vd0", name="b") == "Node 'vd0' not found"
    assert rig.error("block-dirty-bitmap-clear", node="raw0", name="b") == (
        "Dirty bitmap 'b' not found")


def test_internal_snapshots(rig: Rig) -> None:
    assert rig.error("blockdev-snapshot-internal-sync", device="f0", name="s") == (
        "Need a root block node")
    assert rig.error("blockdev-snapshot-internal-sync", device="raw0", name="s") == (
        "Block format 'raw' used by device 'raw0' does not support internal snapshots")
    assert rig.error("blockdev-snapshot-internal-sync", device="disk0", name="") == "Name is empty"
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="s1")
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="s2")
    assert rig.error("blockdev-snapshot-internal-sync", device="disk0", name="s1") == (
        "Snapshot with name 's1' already exists on device 'disk0'")
    disk0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "disk0")
    assert [(s["id"], s["name"]) for s in disk0["image"]["snapshots"]] == [("1", "s1"), ("2", "s2")]
    deleted = rig.ok("blockdev-snapshot-delete-internal-sync", device="disk0", name="s1")
    assert (deleted["id"], deleted["name"]) == ("1", "s1")
    assert rig.error("blockdev-snapshot-delete-internal-sync", device="disk0", name="s1") == (
        "Snapshot with id 'null' and name 's1' does not exist on device 'disk0'")
    assert rig.error("blockdev-snapshot-delete-internal-sync", device="disk0") == (
        "Name or id must be provided")


def test_snapshot_sync_swaps_the_device_root_and_keeps_bitmaps_below(
    rig: Rig, tmp_path: Path
) -> None:
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b0")
    overlay = str(tmp_path / "ov.qcow2")
    assert rig.error("blockdev-snapshot-sync", **{"node-name": "raw0", "snapshot-file": overlay}) == (
        "New overlay node-name missing")
    assert rig.error("blockdev-snapshot-sync", **{
        "node-name": "raw0", "snapshot-file": overlay, "snapshot-node-name": "disk0"}) == (
        "New overlay node-name already in use")
    rig.ok("blockdev-snapshot-sync", **{
        "node-name": "raw0", "snapshot-file": overlay, "snapshot-node-name": "ov"})
    block = rig.ok("query-block")
    assert block[0]["inserted"]["node-name"] == "ov"
    assert block[0]["inserted"]["backing_file"] == str(tmp_path / "r0.raw")
    assert block[0]["inserted"]["backing_file_depth"] == 1
    raw0 = next(n for n in rig.ok("query-named-block-nodes") if n["node-name"] == "raw0")
    assert raw0["ro"] is True
    line = 'qemu-io -d vd0/virtio-backend "write -P 0x77 0 64k"'
    rig.ok("human-monitor-command", **{"command-line": line})
    assert rig.bitmaps("raw0")[0]["count"] == 0
    content = Path(overlay).read_bytes()
    header = parse_qcow2_header(lambda o, n: content[o:o + n], overlay)
    assert (header.size, header.backing_file, header.backing_format) == (
        16 * M, str(tmp_path / "r0.raw"), "raw")


def test_created_qcow2_is_what_qemu_img_expects(tmp_path: Path) -> None:
    path = tmp_path / "x.qcow2"
    base = str(tmp_path / "base.raw")
    create_raw(base, 64 * M)
    create_qcow2(str(path), 64 * M, base, "raw")
    st = os.stat(path)
    assert (st.st_size, st.st_blocks * 512) == (196616, 200704)
    if shutil.which("qemu-img") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but qemu-img is missing")
        pytest.skip("qemu-img is needed to check the image")
    info = subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                          capture_output=True, text=True, check=True).stdout
    assert '"virtual-size": 67108864' in info
    assert '"format": "qcow2"' in info
    assert f'"backing-filename": "{base}"' in info
    assert '"backing-filename-format": "raw"' in info
    check = subprocess.run(["qemu-img", "check", str(path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_qcow2_writes_go_into_the_file(rig: Rig, tmp_path: Path) -> None:
    rig.write("disk0", 0x42, "1M", "100k")
    if shutil.which("qemu-io") is None:
        pytest.skip("qemu-io is needed to read the image back")
    rig.machine.graph.find("f0").protocol.flush()  # type: ignore[union-attr]
    out = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-r", "-U", "-c", "read -P 0x42 1M 100k",
         "-c", "read -P 0 1124k 28k", str(tmp_path / "d0.qcow2")],
        capture_output=True, text=True,
    ).stdout
    assert "Pattern verification failed" not in out and out.count("read ") == 2, out
    check = subprocess.run(["qemu-img", "check", "-U", str(tmp_path / "d0.qcow2")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_filter_node_takes_the_device_and_passes_writes_down(rig: Rig) -> None:
    graph = rig.machine.graph
    raw0 = graph.find("raw0")
    assert raw0 is not None
    rig.ok("block-dirty-bitmap-add", node="raw0", name="b0")
    seen: list[tuple[int, int]] = []
    raw0.before_write.append(lambda off, n: seen.append((off, n)))
    cbw = graph.insert_filter(raw0, "#block999")
    block = rig.ok("query-block")[0]["inserted"]
    assert (block["node-name"], block["drv"], block["backing_file_depth"]) == (
        "#block999", "copy-before-write", 1)
    assert block["image"]["format"] == "copy-before-write"
    assert block["image"]["backing-image"]["format"] == "raw"
    assert block["file"] == raw0.filename()
    assert [b.get("name") for b in block["dirty-bitmaps"]] == [None]
    rig.ok("human-monitor-command",
           **{"command-line": 'qemu-io -d vd0/virtio-backend "write -P 0x1 2M 1"'})
    assert seen == [(2 << 20, 1)]
    assert [(b.get("name"), b["count"]) for b in rig.bitmaps("raw0")][-1] == ("b0", 65536)
    flat = next(n for n in rig.ok("query-named-block-nodes", flat=True)
                if n["node-name"] == "#block999")
    assert flat["backing_file_depth"] == 0 and "backing-image" not in flat["image"]
    graph.remove_filter(cbw)
    assert rig.ok("query-block")[0]["inserted"]["node-name"] == "raw0"
    assert [b["name"] for b in rig.bitmaps("raw0")] == ["b0"]
    assert graph.find("#block999") is None


def test_internal_snapshots_are_stored_in_the_qcow2_file(rig: Rig, tmp_path: Path) -> None:
    rig.write("disk0", 0x42, "0", "128k")
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="before")
    rig.write("disk0", 0x43, "64k", "1")  # copy-on-write of a shared cluster
    rig.ok("blockdev-snapshot-internal-sync", device="disk0", name="after")
    rig.ok("blockdev-snapshot-delete-internal-sync", device="disk0", name="before")
    rig.machine.graph.find("f0").protocol.flush()  # type: ignore[union-attr]
    if shutil.which("qemu-img") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but qemu-img is missing")
        pytest.skip("qemu-img is needed to read the image back")
    path = str(tmp_path / "d0.qcow2")
    listing = subprocess.run(["qemu-img", "snapshot", "-U", "-l", path],
                             capture_output=True, text=True, check=True).stdout
    assert "after" in listing and "before" not in listing
    check = subprocess.run(["qemu-img", "check", "-U", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    out = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-r", "-U", "-c", "read -P 0x42 0 64k",
         "-c", "read -P 0x43 64k 1", "-c", "read -P 0x42 65537 65535", path],
        capture_output=True, text=True,
    ).stdout
    assert "Pattern verification failed" not in out and out.count("read ") == 3, out


def test_blockdev_add_and_del_texts_and_cascade(rig: Rig, tmp_path: Path) -> None:
    raw = str(tmp_path / "r0.raw")
    assert rig.error("blockdev-add", driver="raw", file="nosuch", **{"node-name": "x"}) == (
        "Cannot find device='nosuch' nor node-name='nosuch'")
    before = [n["node-name"] for n in rig.ok("query-named-block-nodes")]
    assert rig.error("blockdev-add", driver="qcow2", file={"driver": "file", "filename": raw},
                     **{"node-name": "q"}) == "Image is not in qcow2 format"
    assert [n["node-name"] for n in rig.ok("query-named-block-nodes")] == before
    rig.ok("blockdev-add", driver="raw", **{"node-name": "r1"},
           file={"driver": "file", "node-name": "fr1", "filename": raw, "read-only": True},
           **{"read-only": True})
    rig.ok("blockdev-add", driver="null-co", **{"node-name": "n1"})
    nodes = {n["node-name"]: n for n in rig.ok("query-named-block-nodes")}
    assert nodes["n1"]["file"] == "null-co://"
    assert rig.error("blockdev-del", **{"node-name": "nosuch"}) == (
        "Failed to find node with node-name='nosuch'")
    assert rig.error("blockdev-del", **{"node-name": "raw0"}) == "Node raw0 is in use"
    assert rig.error("blockdev-del", **{"node-name": "fr1"}) == (
        "Node fr1 is not owned by the monitor")
    assert rig.error("blockdev-del", **{"node-name": "f1"}) == "Block device f1 is in use"
    rig.ok("blockdev-del", **{"node-name": "r1"})
    names = [n["node-name"] for n in rig.ok("query-named-block-nodes")]
    assert "r1" not in names and "fr1" not in names


def test_qemu_io_write_permissions(tmp_path: Path) -> None:
    from qapigen.runtime.block.graph import write_unshared_by

    rig = Rig(tmp_path)
    try:
        graph = rig.machine.graph
        raw0, f1, f0 = graph.find("raw0"), graph.find("f1"), graph.find("f0")
        assert raw0 is not None and f1 is not None and f0 is not None
        assert write_unshared_by(graph, raw0) is None  # the device shares (share-rw=on)
        assert write_unshared_by(graph, f1) is None  # raw passes its parents' sharing on
        assert write_unshared_by(graph, f0) == (
            "unshared by node 'disk0' (uses node 'f0' as 'file' child)")  # qcow2 never shares
        graph.backends[0].share_write = False
        assert write_unshared_by(graph, raw0) == (
            "unshared by block device '/machine/peripheral/vd0/virtio-backend' "
            "(uses node 'raw0' as 'root' child)")
        assert write_unshared_by(graph, f1) == (
            "unshared by node 'raw0' (uses node 'f1' as 'file' child)")
        line = 'qemu-io raw0 "write -P 0x1 0 1"'
        assert rig.ok("human-monitor-command", **{"command-line": line}) == (
            "Permission conflict on node 'raw0': permissions 'write' are both required by an "
            "unnamed block device (uses node 'raw0' as 'root' child) and unshared by block "
            "device '/machine/peripheral/vd0/virtio-backend' (uses node 'raw0' as 'root' "
            "child).\r\n")
    finally:
        rig.close()


def test_qcow2_zeroes_and_discard_in_the_file(rig: Rig, tmp_path: Path) -> None:
    graph = rig.machine.graph
    disk0 = graph.find("disk0")
    assert disk0 is not None and disk0.qcow2 is not None
    disk0.discard_unmap = True
    rig.write("disk0", 0x11, "0", "256k")
    hmp = lambda line: rig.ok("human-monitor-command", **{"command-line": line})  # noqa: E731
    hmp('qemu-io disk0 "discard 0 64k"')  # a whole cluster: zero flag, host freed
    hmp('qemu-io disk0 "write -z 128k 64k"')  # a whole cluster: zero flag
    hmp('qemu-io disk0 "write -z 200k 4k"')  # partial, rest is data: zero bytes written
    assert disk0.read(0, 65536) == bytes(65536)
    assert disk0.read(65536, 65536) == b"\x11" * 65536
    assert disk0.read(131072, 65536) == bytes(65536)
    assert disk0.read(196608, 8192) == b"\x11" * 8192 and disk0.read(204800, 4096) == bytes(4096)
    assert not disk0.qcow2.memory  # everything went into the file
    rig.write("disk0", 0x22, "8M", "64k")  # reuses the freed cluster
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is needed to check the image")
    graph.find("f0").protocol.flush()  # type: ignore[union-attr]
    check = subprocess.run(["qemu-img", "check", "-U", str(tmp_path / "d0.qcow2")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_persistent_bitmaps_are_stored_at_close_and_loaded_at_open(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.ok("block-dirty-bitmap-add", node="disk0", name="p1", persistent=True)
    rig.ok("block-dirty-bitmap-add", node="disk0", name="p2", persistent=True, disabled=True,
           granularity=4096)
    rig.ok("block-dirty-bitmap-add", node="disk0", name="temp")
    rig.write("disk0", 0x11, "1M", "1")
    rig.write("disk0", 0x11, "40M", "3M")
    rig.close()
    if shutil.which("qemu-img") is not None:
        info = subprocess.run(["qemu-img", "info", str(tmp_path / "d0.qcow2")],
                              capture_output=True, text=True, check=True).stdout
        assert "name: p1" in info and "name: p2" in info and "temp" not in info
    again = Rig(tmp_path, fresh=False)
    try:
        assert [(b["name"], b["count"], b["recording"], b["persistent"])
                for b in again.bitmaps("disk0")] == [
            ("p1", 65536 + 3 * M, True, True), ("p2", 0, False, True)]
        disk0 = next(n for n in again.ok("query-named-block-nodes") if n["node-name"] == "disk0")
        assert disk0["image"]["format-specific"]["data"]["bitmaps"] == [
            {"name": "p2", "granularity": 4096, "flags": ["in-use"]},
            {"name": "p1", "granularity": 65536, "flags": ["in-use", "auto"]},
        ]
        again.ok("block-dirty-bitmap-remove", node="disk0", name="p2")
        disk0 = next(n for n in again.ok("query-named-block-nodes") if n["node-name"] == "disk0")
        assert [b["name"] for b in disk0["image"]["format-specific"]["data"]["bitmaps"]] == ["p1"]
    finally:
        again.close()
