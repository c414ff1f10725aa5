"""The hypothesis profiles: derandomized by default (CI), and
``QAPIGEN_HYPOTHESIS=thorough`` for ten times the examples from random
seeds.  Each case imports the test settings in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
from hypothesis import settings
from tests.conftest import hypothesis_settings
own = hypothesis_settings(max_examples=7, deadline=None)
child = hypothesis_settings(own, max_examples=3)
inherited = hypothesis_settings(own)
default = settings.default
print(own.max_examples, own.derandomize, child.max_examples, child.derandomize,
      inherited.max_examples, default.max_examples, default.derandomize, default.database)
"""


def _probe(profile: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QAPIGEN_HYPOTHESIS"}
    if profile is not None:
        env["QAPIGEN_HYPOTHESIS"] = profile
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_default_profile_is_derandomized() -> None:
    run = _probe(None)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["7", "True", "3", "True", "7", "100", "True", "None"]
    assert _probe("ci").stdout == run.stdout


def test_thorough_profile_has_ten_times_the_examples_and_random_seeds() -> None:
    run = _probe("thorough")
    assert run.returncode == 0, run.stderr
    # A parent's count is scaled once, not again in its children.
    assert run.stdout.split() == ["70", "False", "30", "False", "70", "1000", "False", "None"]


def test_unknown_profile_is_an_error() -> None:
    run = _probe("fast")
    assert run.returncode != 0
    assert "QAPIGEN_HYPOTHESIS='fast': expected 'ci' (the default) or 'thorough'" in run.stderr
