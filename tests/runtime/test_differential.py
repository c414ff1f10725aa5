"""Every scenario in tests/runtime/scenarios/, against QEMU 7.2 and ``qapigen serve``.

The two normalized transcripts must be identical (see harness.py for what
is normalized), and so must the bytes of the scenario's ``compare_files``.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from tests.runtime import scenarios as scenarios_package
from tests.runtime.harness import Scenario, iter_scenarios, run_scenario


def _all_scenarios() -> list[Scenario]:
    modules = [
        importlib.import_module(f"{scenarios_package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(scenarios_package.__path__), key=lambda i: i.name)
    ]
    return list(iter_scenarios(modules))


SCENARIOS = _all_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_serve_matches_qemu(scenario: Scenario, qemu_binary: str) -> None:
    expected = run_scenario(scenario, "qemu")
    actual = run_scenario(scenario, "serve")
    assert actual.transcript == expected.transcript
    for name in scenario.compare_files:
        assert actual.files[name] == expected.files[name], f"file {name} differs"
