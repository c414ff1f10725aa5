"""CI never skips QEMU's corpus; local runs skip it with a reason and a count.

Each case runs pytest in a subprocess on a small corpus test file, with
``QAPIGEN_CORPUS`` pointing at a folder that does not exist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _pytest(corpus: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    env["QAPIGEN_CORPUS"] = str(corpus)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_corpus.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_ci_without_corpus_fails_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    run = _pytest(missing, "1")
    assert run.returncode == 4, run.stdout + run.stderr
    message = (
        f"CI is set but QEMU's QAPI corpus is missing at {missing}: CI must not skip "
        "the corpus tests (provide ../shared/qapi-corpus or set QAPIGEN_CORPUS)"
    )
    assert message in run.stdout + run.stderr
    assert "passed" not in run.stdout and "skipped" not in run.stdout


def test_ci_true_counts_as_set(tmp_path: Path) -> None:
    """CI runners set CI=true; that is "set" too."""
    run = _pytest(tmp_path / "missing", "true")
    assert run.returncode == 4
    assert f"corpus is missing at {tmp_path / 'missing'}" in run.stdout + run.stderr


def test_without_ci_the_corpus_tests_skip_with_reason_and_count(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    run = _pytest(missing, None)
    assert run.returncode == 0, run.stdout + run.stderr
    reason = f"QEMU's QAPI corpus is not at {missing} (CI provides it as ../shared)"
    skips = re.findall(r"^SKIPPED \[1\] tests/test_corpus.py:\d+: (.*)$", run.stdout, re.M)
    assert skips == [reason, reason]
    assert re.search(r"^2 skipped in ", run.stdout, re.M), run.stdout


def test_ci_run_sets_ci() -> None:
    """``.ci/run`` exports CI itself, in case the runner does not."""
    script = (REPO / ".ci" / "run").read_text()
    assert 'export CI="${CI:-1}"' in script
    assert script.index("export CI=") < script.index("python -m pytest")
