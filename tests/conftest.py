"""Shared test fixtures: where QEMU's corpus lives, and what its absence means.

Outside CI a missing corpus skips the tests that read it, each skip with
its reason (``-rs`` in pytest's addopts lists them, and the summary line
counts them).  In CI (the environment variable ``CI`` is set, as CI
runners and ``.ci/run`` do) a missing corpus is an error at session start:
a green run that silently dropped half the suite would hide everything
the corpus tests guard.

``QAPIGEN_CORPUS`` points the tests at another copy of the corpus (the
mutation runs work in a copy of the tree, and the CI check itself is
tested by pointing it at a folder that does not exist).

Property tests take their settings from :func:`hypothesis_settings`: by
default derandomized (CI sees the same examples every run), and with
``QAPIGEN_HYPOTHESIS=thorough`` ten times the examples from random seeds,
for a local run before a release (see README, "Testing").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("QAPIGEN_CORPUS") or REPO.parent / "shared" / "qapi-corpus")
QEMU_SUITE = CORPUS / "qemu-10.2" / "tests" / "qapi-schema"

NO_CORPUS_REASON = f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS_REASON)


def in_ci() -> bool:
    """True when the environment variable CI is set to anything but empty,
    "0" or "false" (GitHub, GitLab and our own .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def corpus_missing_message() -> str | None:
    """The error for a CI run without the corpus, or None when all is well."""
    if not in_ci() or CORPUS.is_dir():
        return None
    return (
        f"CI is set but QEMU's QAPI corpus is missing at {CORPUS}: "
        "CI must not skip the corpus tests (provide ../shared/qapi-corpus "
        "or set QAPIGEN_CORPUS)"
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    message = corpus_missing_message()
    if message is not None:
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)


# -- hypothesis ------------------------------------------------------------------------

HYPOTHESIS_PROFILE = os.environ.get("QAPIGEN_HYPOTHESIS", "ci") or "ci"
if HYPOTHESIS_PROFILE not in ("ci", "thorough"):
    raise pytest.UsageError(
        f"QAPIGEN_HYPOTHESIS={HYPOTHESIS_PROFILE!r}: expected 'ci' (the default) or 'thorough'"
    )
#: How many times the examples of every property test the profile runs.
EXAMPLES_FACTOR = 10 if HYPOTHESIS_PROFILE == "thorough" else 1

# For @given tests without settings of their own.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile(
    "thorough", max_examples=100 * EXAMPLES_FACTOR, derandomize=False, database=None
)
settings.load_profile(HYPOTHESIS_PROFILE)


def hypothesis_settings(parent: settings | None = None, **kwargs: Any) -> settings:
    """``settings(parent, **kwargs)`` under the selected profile.

    ``ci``: derandomized, exactly the *max_examples* given.  ``thorough``:
    ten times the *max_examples* given here (a parent's count is already
    scaled) and a random seed each run; hypothesis prints the seed of a
    failure (rerun with ``--hypothesis-seed``).
    """
    if "max_examples" in kwargs:
        kwargs["max_examples"] *= EXAMPLES_FACTOR
    kwargs["derandomize"] = HYPOTHESIS_PROFILE == "ci"
    return settings(parent, **kwargs)


def suite_cases() -> list[object]:
    """The case names of QEMU's qapi-schema test suite, for parametrize.

    Without the corpus this is one parameter that skips with the corpus
    reason, rather than an empty list (which pytest would skip with the
    unhelpful "got empty parameter set").
    """
    cases = QEMU_SUITE / "CASES"
    if cases.is_file():
        return list(cases.read_text().split())
    return [pytest.param("no-corpus", marks=needs_corpus, id="no-corpus")]
