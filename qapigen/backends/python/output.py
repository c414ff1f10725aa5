"""Writing a generated package: only what changed, nothing stale left.

A manifest beside the package lists the files the last run produced, so a
file that is no longer produced is removed while files the user put there
themselves are left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".qapigen-manifest"


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def stale(self) -> list[str]:
        """Files that differ from what generation would produce."""
        return sorted(self.written + self.deleted)


def _read_manifest(root: Path) -> list[str]:
    try:
        return (root / MANIFEST).read_text(encoding="utf-8").split()
    except OSError:
        return []


def sync_tree(root: Path, files: dict[str, str], check: bool = False) -> WriteReport:
    """Make *root* hold exactly *files* (relative path -> text).

    With *check*, nothing is touched: the report says what would change.
    """
    report = WriteReport()
    for rel, text in sorted(files.items()):
        path = root / rel
        data = text.encode("utf-8")
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if same:
            report.unchanged.append(rel)
            continue
        report.written.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
    for rel in _read_manifest(root):
        if rel not in files and (root / rel).exists():
            report.deleted.append(rel)
            if not check:
                (root / rel).unlink()
    manifest = "".join(f"{rel}\n" for rel in sorted(files))
    if not check:
        root.mkdir(parents=True, exist_ok=True)
        if (
            not (root / MANIFEST).is_file()
            or (root / MANIFEST).read_text(encoding="utf-8") != manifest
        ):
            (root / MANIFEST).write_text(manifest, encoding="utf-8")
        _remove_empty_dirs(root)
    return report


def _remove_empty_dirs(root: Path) -> None:
    for folder, dirs, files in os.walk(root, topdown=False):
        if (folder != str(root) and not dirs and not files) or (folder != str(root) and not os.listdir(folder)):
            os.rmdir(folder)
