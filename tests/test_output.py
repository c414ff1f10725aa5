"""Writing a generated package (qapigen.backends.python.output), directly:
the manifest's file format and tolerance, and what sync_tree writes,
keeps, deletes and reports, with and without check."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from qapigen.backends.python.output import MANIFEST, Manifest, WriteReport, digest, sync_tree


def test_digest_is_sha256_hex() -> None:
    assert digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert MANIFEST == ".qapigen-manifest.json"


def test_manifest_file_format(tmp_path: Path) -> None:
    Manifest("fp", {"b.json": "2", "a.json": "1"}, {"x.py": "3"}).save(tmp_path)
    text = (tmp_path / MANIFEST).read_text(encoding="utf-8")
    assert text == (
        '{\n "fingerprint": "fp",\n "inputs": {\n  "a.json": "1",\n  "b.json": "2"\n },\n'
        ' "outputs": {\n  "x.py": "3"\n }\n}\n'
    )
    loaded = Manifest.load(tmp_path)
    assert loaded == Manifest("fp", {"a.json": "1", "b.json": "2"}, {"x.py": "3"})


def test_manifest_save_leaves_an_identical_file_alone(tmp_path: Path) -> None:
    manifest = Manifest("fp", {}, {"x.py": "3"})
    manifest.save(tmp_path)
    path = tmp_path / MANIFEST
    os.utime(path, (1_000_000, 1_000_000))
    manifest.save(tmp_path)
    assert path.stat().st_mtime == 1_000_000
    Manifest("fp2", {}, {"x.py": "3"}).save(tmp_path)
    assert path.stat().st_mtime != 1_000_000
    assert json.loads(path.read_text())["fingerprint"] == "fp2"


@pytest.mark.parametrize(
    "text",
    [
        None,  # no file
        "not json",
        "[]",
        '{"fingerprint": "fp", "inputs": {}}',
        '{"fingerprint": "fp", "inputs": 1, "outputs": {}}',
        '{"fingerprint": "fp", "inputs": {}, "outputs": null}',
    ],
)
def test_unreadable_manifest_loads_empty(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        (tmp_path / MANIFEST).write_text(text)
    assert Manifest.load(tmp_path) == Manifest("", {}, {})


def test_manifest_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).mkdir()
    assert Manifest.load(tmp_path) == Manifest()


def test_records_match_ignores_the_fingerprint(tmp_path: Path) -> None:
    Manifest("old", {"a": "1"}, {"x": "2"}).save(tmp_path)
    assert Manifest("new", {"a": "1"}, {"x": "2"}).records_match(tmp_path)
    assert not Manifest("old", {"a": "9"}, {"x": "2"}).records_match(tmp_path)
    assert not Manifest("old", {"a": "1"}, {"x": "9"}).records_match(tmp_path)
    assert not Manifest("old", {"a": "1"}, {}).records_match(tmp_path)
    assert not Manifest("old", {"a": "1"}, {"x": "2"}).records_match(tmp_path / "nowhere")


def test_write_report_stale_is_written_and_deleted_sorted() -> None:
    report = WriteReport(written=["b.py", "d.py"], unchanged=["a.py"], deleted=["c.py"])
    assert report.stale == ["b.py", "c.py", "d.py"]
    assert WriteReport().stale == []


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST
    }  # fmt: skip


def test_sync_tree_writes_keeps_and_deletes(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "pkg"
    files = {"a.py": "A", "sub/b.py": "B", "c.py": "C"}
    first = sync_tree(root, files, Manifest("fp", {"s.json": "h"}))
    assert (first.written, first.unchanged, first.deleted) == (
        ["a.py", "c.py", "sub/b.py"], [], [],
    )  # fmt: skip
    assert _tree(root) == files
    saved = Manifest.load(root)
    assert saved == Manifest(
        "fp", {"s.json": "h"}, {rel: digest(text.encode()) for rel, text in files.items()}
    )
    # No temporary files left behind.
    assert sorted(p.name for p in root.iterdir()) == [MANIFEST, "a.py", "c.py", "sub"]

    (root / "mine.txt").write_text("user file")
    second = sync_tree(root, {"a.py": "A2", "sub/b.py": "B"}, Manifest("fp"))
    assert (second.written, second.unchanged, second.deleted) == (["a.py"], ["sub/b.py"], ["c.py"])
    assert _tree(root) == {"a.py": "A2", "mine.txt": "user file", "sub/b.py": "B"}
    assert Manifest.load(root).outputs == {"a.py": digest(b"A2"), "sub/b.py": digest(b"B")}


def test_sync_tree_does_not_delete_what_is_already_gone(tmp_path: Path) -> None:
    sync_tree(tmp_path, {"a.py": "A", "b.py": "B"}, Manifest("fp"))
    (tmp_path / "b.py").unlink()
    report = sync_tree(tmp_path, {"a.py": "A"}, Manifest("fp"))
    assert report.deleted == [] and report.unchanged == ["a.py"] and report.written == []


def test_sync_tree_check_touches_nothing(tmp_path: Path) -> None:
    sync_tree(tmp_path, {"a.py": "A", "b.py": "B"}, Manifest("fp"))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    manifest = Manifest("fp")
    report = sync_tree(tmp_path, {"a.py": "A2", "n.py": "N"}, manifest, check=True)
    assert (report.written, report.unchanged, report.deleted) == (
        ["a.py", "n.py", MANIFEST], [], ["b.py"],
    )  # fmt: skip
    assert report.stale == [MANIFEST, "a.py", "b.py", "n.py"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # The manifest it would have written, for the caller to see.
    assert manifest.outputs == {"a.py": digest(b"A2"), "n.py": digest(b"N")}


def test_sync_tree_check_of_an_up_to_date_tree(tmp_path: Path) -> None:
    sync_tree(tmp_path, {"a.py": "A"}, Manifest("fp", {"s.json": "1"}))
    report = sync_tree(tmp_path, {"a.py": "A"}, Manifest("other", {"s.json": "1"}), check=True)
    assert (report.written, report.unchanged, report.deleted) == ([], ["a.py"], [])
    report = sync_tree(tmp_path, {"a.py": "A"}, Manifest("fp", {"s.json": "2"}), check=True)
    assert report.written == [MANIFEST]


def test_sync_tree_writes_bytes_as_utf8(tmp_path: Path) -> None:
    sync_tree(tmp_path, {"a.py": "é\n"}, Manifest("fp"))
    assert (tmp_path / "a.py").read_bytes() == "é\n".encode()
    assert Manifest.load(tmp_path).outputs == {"a.py": digest("é\n".encode())}
