"""The compat output policy ``hide`` (issue 6, section 6), as QEMU applies it.

QEMU's QObject output visitor skips a member whose features the output
policy hides (required members too), in command replies and event data;
an event with such a feature is not sent at all; ``query-qmp-schema`` drops
entities and object members with ``deprecated`` (and only that feature);
enum values are encoded whatever their features.  The schema is
``tests/compat/output.json``.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.support.events import EventEmitter, event_message
from qapigen.support.policy import CompatPolicy, policy_in_force
from tests.conftest import REPO

ACCEPT = CompatPolicy()
HIDE_DEPRECATED = CompatPolicy(deprecated_output="hide")
HIDE_UNSTABLE = CompatPolicy(unstable_output="hide")
HIDE_BOTH = CompatPolicy(deprecated_output="hide", unstable_output="hide")


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("compat")
    generate(GenerateOptions(schema=REPO / "tests" / "compat" / "output.json", output=out,
                             package="compat_out", formatter="none", cache_dir=out / ".cache"))
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("compat_out")
    finally:
        sys.path.remove(str(out))


def _info(pkg: ModuleType) -> Any:
    return pkg.Info(
        id="i", old="o", old_opt=1, new=True, both="b", speed=pkg.Speed.SLOW,
        inner=[pkg.Inner(x=1, gone="g"), pkg.Inner(x=2)],
    )


FULL_INFO = {
    "id": "i", "old": "o", "old-opt": 1, "new": True, "both": "b", "speed": "slow",
    "inner": [{"x": 1, "gone": "g"}, {"x": 2}],
}

INFO_UNDER = [
    (ACCEPT, FULL_INFO),
    (HIDE_DEPRECATED, {"id": "i", "new": True, "speed": "slow", "inner": [{"x": 1}, {"x": 2}]}),
    (HIDE_UNSTABLE, {"id": "i", "old": "o", "old-opt": 1, "speed": "slow",
                     "inner": [{"x": 1, "gone": "g"}, {"x": 2}]}),
    (HIDE_BOTH, {"id": "i", "speed": "slow", "inner": [{"x": 1}, {"x": 2}]}),
]


@pytest.mark.parametrize(("policy", "expected"), INFO_UNDER)
def test_encoding_leaves_out_hidden_members(
    pkg: ModuleType, policy: CompatPolicy, expected: dict[str, Any]
) -> None:
    """Required and optional members alike; nested objects too; the
    deprecated enum value ``slow`` stays."""
    with policy_in_force(policy):
        assert _info(pkg).to_wire() == expected


def test_encoding_outside_a_policy_keeps_everything(pkg: ModuleType) -> None:
    assert _info(pkg).to_wire() == FULL_INFO


def _shape(pkg: ModuleType) -> Any:
    return pkg.ShapeBox(legacy=7, w=1, x_h=2)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ACCEPT, {"type": "box", "legacy": 7, "w": 1, "x-h": 2}),
        (HIDE_DEPRECATED, {"type": "box", "w": 1, "x-h": 2}),
        (HIDE_UNSTABLE, {"type": "box", "legacy": 7, "w": 1}),
    ],
)
def test_union_base_and_branch_members(
    pkg: ModuleType, policy: CompatPolicy, expected: dict[str, Any]
) -> None:
    with policy_in_force(policy):
        assert pkg.TYPES["Shape"].to_wire(_shape(pkg)) == expected


class _Server:
    """Handlers answering with every member set."""

    def __init__(self, pkg: ModuleType) -> None:
        self.pkg = pkg

    def query_info(self) -> Any:
        return _info(self.pkg)

    def query_shape(self) -> Any:
        return _shape(self.pkg)

    def old_command(self) -> Any:
        return self.pkg.Inner(x=3, gone="g")


def _session(pkg: ModuleType, policy: CompatPolicy) -> Any:
    dispatcher = pkg.make_dispatcher(_Server(pkg), compat=policy)
    assert dispatcher.dispatch({"execute": "qmp_capabilities"}) == {"return": {}}
    return dispatcher


@pytest.mark.parametrize(("policy", "expected"), INFO_UNDER)
def test_command_replies_under_the_dispatchers_policy(
    pkg: ModuleType, policy: CompatPolicy, expected: dict[str, Any]
) -> None:
    dispatcher = _session(pkg, policy)
    assert dispatcher.dispatch({"execute": "query-info", "id": 1}) == {"return": expected, "id": 1}
    # The policy covers the reply only, not what the caller encodes later.
    assert _info(pkg).to_wire() == FULL_INFO


def test_deprecated_command_still_answers_under_output_hide(pkg: ModuleType) -> None:
    """Output policy hides members of the reply, not the command (that is
    the input policy's business)."""
    dispatcher = _session(pkg, HIDE_DEPRECATED)
    assert dispatcher.dispatch({"execute": "old-command"}) == {"return": {"x": 3}}
    reply = dispatcher.dispatch({"execute": "query-shape"})
    assert reply == {"return": {"type": "box", "w": 1, "x-h": 2}}


@pytest.mark.parametrize(
    ("policy", "sent"),
    [
        (ACCEPT, ["INFO_CHANGED", "INNER_CHANGED", "OLD_EVENT", "NEW_EVENT"]),
        (HIDE_DEPRECATED, ["INFO_CHANGED", "INNER_CHANGED", "NEW_EVENT"]),
        (HIDE_UNSTABLE, ["INFO_CHANGED", "INNER_CHANGED", "OLD_EVENT"]),
        (HIDE_BOTH, ["INFO_CHANGED", "INNER_CHANGED"]),
    ],
)
def test_events_under_the_emitters_policy(
    pkg: ModuleType, policy: CompatPolicy, sent: list[str]
) -> None:
    emitter = EventEmitter(clock=lambda: 12.000005, compat=policy)
    received: list[dict[str, Any]] = []
    emitter.subscribe(received.append)
    events = [
        pkg.InfoChanged(data=_info(pkg)),
        pkg.InnerChanged(x=1, gone="g"),
        pkg.OldEvent(x=2),
        pkg.NewEvent(),
    ]
    returned = [emitter.emit(e) for e in events]
    assert [m["event"] for m in received] == sent
    assert [m for m in returned if m is not None] == received
    stamp = {"seconds": 12, "microseconds": 5}
    info = dict(INFO_UNDER)[policy]
    gone = {} if policy.deprecated_output == "hide" else {"gone": "g"}
    expected = {
        "INFO_CHANGED": {"timestamp": stamp, "event": "INFO_CHANGED", "data": info},
        "INNER_CHANGED": {"timestamp": stamp, "event": "INNER_CHANGED", "data": {"x": 1, **gone}},
        "OLD_EVENT": {"timestamp": stamp, "event": "OLD_EVENT", "data": {"x": 2}},
        "NEW_EVENT": {"timestamp": stamp, "event": "NEW_EVENT"},
    }
    assert received == [expected[name] for name in sent]


def test_emitter_without_a_policy_uses_the_one_in_force(pkg: ModuleType) -> None:
    emitter = EventEmitter(clock=lambda: 1.0)
    with policy_in_force(HIDE_DEPRECATED):
        assert emitter.emit(pkg.OldEvent(x=2)) is None
        message = emitter.emit(pkg.InnerChanged(x=1, gone="g"))
    assert message == {"timestamp": {"seconds": 1, "microseconds": 0},
                       "event": "INNER_CHANGED", "data": {"x": 1}}
    assert event_message(pkg.InnerChanged(x=1, gone="g"), now=1.0)["data"] == {"x": 1, "gone": "g"}


def _schema_reply(pkg: ModuleType, policy: CompatPolicy) -> list[dict[str, Any]]:
    reply = _session(pkg, policy).dispatch({"execute": "query-qmp-schema"})
    result: list[dict[str, Any]] = reply["return"]
    return result


def test_introspection_hides_deprecated_entities_and_members(pkg: ModuleType) -> None:
    full = _schema_reply(pkg, ACCEPT)
    assert full == pkg.SCHEMA_INFO
    hidden = _schema_reply(pkg, HIDE_DEPRECATED)
    names = {e["name"] for e in full} - {e["name"] for e in hidden}
    assert names == {"old-command", "OLD_EVENT"}
    info = next(e for e in hidden if e["name"] == "Info")
    assert [m["name"] for m in info["members"]] == ["id", "new", "speed", "inner"]
    # Enum values keep their features and stay listed, as in QEMU.
    speed = next(e for e in hidden if e["name"] == "Speed")
    assert speed == next(e for e in full if e["name"] == "Speed")
    assert speed["values"] == ["fast", "slow", "risky"]
    # The full data is not changed by filtering it.
    assert json.dumps(pkg.SCHEMA_INFO) == json.dumps(_schema_reply(pkg, ACCEPT))


def test_introspection_ignores_unstable_output_hide(pkg: ModuleType) -> None:
    """QEMU filters the schema for ``deprecated`` only."""
    assert _schema_reply(pkg, HIDE_UNSTABLE) == _schema_reply(pkg, ACCEPT)
