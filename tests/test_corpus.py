"""QEMU's own front-end test suite, byte for byte.

Each case runs from inside the suite folder with the bare file name, as
QEMU runs it, so the paths in error messages match the ``.err`` files.
"""

from __future__ import annotations

import pytest

from qapigen.cli import main
from tests.conftest import QEMU_SUITE, needs_corpus, suite_cases


@needs_corpus
@pytest.mark.parametrize("case", suite_cases())
def test_qemu_case(case: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(QEMU_SUITE)
    status = main(["dump", f"{case}.json"])
    out, err = capsys.readouterr()
    expected_err = (QEMU_SUITE / f"{case}.err").read_text()
    expected_out = (QEMU_SUITE / f"{case}.out").read_text()
    assert err == expected_err
    assert out == expected_out
    assert status == (1 if expected_err else 0)


@needs_corpus
def test_case_list_is_complete() -> None:
    assert len(suite_cases()) == 208
