"""Shared test fixtures: where QEMU's corpus lives, and skipping without it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "qapi-corpus"
QEMU_SUITE = CORPUS / "qemu-10.2" / "tests" / "qapi-schema"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)",
)
