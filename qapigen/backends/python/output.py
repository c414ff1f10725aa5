"""Writing a generated package: only what changed, nothing stale left.

A manifest in the package folder records what the last run read and wrote
(with content hashes).  It serves two purposes: files the last run wrote
but this one no longer produces are deleted (files the user put there are
left alone), and a run whose inputs are all unchanged, with outputs still
as written, can stop before even parsing the schema.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".qapigen-manifest.json"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Manifest:
    fingerprint: str = ""  # generator version, templates and options
    # schema file (relative to the package folder) -> hash
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # package file -> hash

    @classmethod
    def load(cls, root: Path) -> Manifest:
        try:
            data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
            return cls(data["fingerprint"], dict(data["inputs"]), dict(data["outputs"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def save(self, root: Path) -> None:
        text = json.dumps(
            {"fingerprint": self.fingerprint, "inputs": self.inputs, "outputs": self.outputs},
            indent=1,
            sort_keys=True,
        )
        path = root / MANIFEST
        try:
            if path.read_text(encoding="utf-8") == text + "\n":
                return
        except OSError:
            pass
        path.write_text(text + "\n", encoding="utf-8")

    def up_to_date(self, root: Path, fingerprint: str) -> bool:
        """Whether the inputs, options and outputs are all as recorded."""
        if not self.outputs or fingerprint != self.fingerprint:
            return False
        for path, expected in self.inputs.items():
            try:
                if digest((root / path).read_bytes()) != expected:
                    return False
            except OSError:
                return False
        for rel, expected in self.outputs.items():
            try:
                if digest((root / rel).read_bytes()) != expected:
                    return False
            except OSError:
                return False
        return True


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def stale(self) -> list[str]:
        """Files that differ from what generation produces."""
        return sorted(self.written + self.deleted)


def sync_tree(
    root: Path, files: dict[str, str], manifest: Manifest, check: bool = False
) -> WriteReport:
    """Make *root* hold exactly *files* (relative path -> text), deleting
    what the previous run wrote and this one does not.  With *check*,
    nothing is touched: the report says what would change."""
    report = WriteReport()
    previous = Manifest.load(root)
    outputs: dict[str, str] = {}
    for rel, text in sorted(files.items()):
        path = root / rel
        data = text.encode("utf-8")
        outputs[rel] = digest(data)
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
    for rel in previous.outputs:
        if rel not in files and (root / rel).exists():
            report.deleted.append(rel)
            if not check:
                (root / rel).unlink()
    if not check:
        manifest.outputs = outputs
        manifest.save(root)
    return report
