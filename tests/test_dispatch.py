"""The QMP dispatcher: QEMU's protocol errors, negotiation and responses.

Every error text of ``/work/shared/spec/qemu-behaviour.md`` sections A.3
(capabilities negotiation), A.4 (request object validation) and A.5
(responses) is checked here, each with and without an ``id``, against
:class:`qapigen.support.dispatch.Dispatcher`.  The command table is built by
hand from :class:`CommandSpec` and small decoders written with the
``qapigen.support.wire`` helpers, so nothing here depends on generated code.

Where the spec and the dispatcher could disagree, the tests follow the
spec; where the spec is silent, QEMU 10.2's ``qmp_dispatch()`` and
``qmp_qmp_capabilities()`` decide (noted at the test).  Hypothesis then
throws arbitrary JSON values and request-shaped dicts at whole sessions:
``dispatch()`` must answer every one with a well-formed response (or
nothing, for a ``success-response: false`` command) and never raise.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qapigen.support import wire
from qapigen.support.dispatch import (
    CommandSpec,
    Dispatcher,
    NotImplementedCommand,
    Response,
    no_arguments,
)
from qapigen.support.enums import WireEnum
from qapigen.support.errors import ERROR_CLASSES, QMPError
from qapigen.support.policy import CompatPolicy, PolicyCrash
from tests.conftest import hypothesis_settings

EXPECTING = "Expecting capabilities negotiation with 'qmp_capabilities'"
ALREADY = "Capabilities negotiation is already complete, command ignored"

GENERIC = "GenericError"
NOT_FOUND = "CommandNotFound"

# --------------------------------------------------------------------------
# A small schema, by hand: types, decoders, handlers and the command table.


class RunState(WireEnum):
    RUNNING = "running"
    PAUSED = "paused"


class ShutdownMode(WireEnum):
    POWERDOWN = "powerdown"
    HALT = "halt"
    REBOOT = "reboot"

    __special__: ClassVar[dict[str, tuple[bool, bool]]] = {"halt": (True, False)}


class Capability(WireEnum):
    """QMPCapability with one more value, to see lists of refused ones."""

    OOB = "oob"
    X_TEST = "x-test"


@dataclass(frozen=True)
class StatusInfo:
    running: bool
    status: RunState

    def to_wire(self) -> dict[str, object]:
        return {"running": self.running, "status": self.status.to_wire()}


@dataclass(frozen=True)
class CommandInfo:
    name: str

    def to_wire(self) -> dict[str, object]:
        return {"name": self.name}


@dataclass(frozen=True)
class BlockDirtyBitmap:
    node: str
    name: str


@dataclass(frozen=True)
class BitmapAddArgs:
    node: str
    name: str
    granularity: int | None = None
    persistent: bool | None = None
    disabled: bool | None = None


@dataclass(frozen=True)
class BitmapMergeArgs:
    node: str
    target: str
    bitmaps: list[str | BlockDirtyBitmap]


@dataclass(frozen=True)
class JobStartArgs:
    job_id: str
    speed: int | None = None  # feature 'deprecated'
    x_perf: bool | None = None  # feature 'unstable'


@dataclass(frozen=True)
class DeviceArgs:
    device: str


@dataclass(frozen=True)
class ShutdownArgs:
    mode: ShutdownMode | None = None


@dataclass(frozen=True)
class CapabilitiesArgs:
    enable: list[Capability] | None = None


def _decode_bitmap(value: object, path: str = "", name: str = "null") -> BlockDirtyBitmap:
    d = wire.object_(value, path)
    result = BlockDirtyBitmap(wire.req_str(d, "node", path), wire.req_str(d, "name", path))
    wire.check_extra(d, frozenset({"node", "name"}), path)
    return result


def _decode_bitmap_or_str(value: object, path: str, name: str) -> str | BlockDirtyBitmap:
    if type(value) is str:
        return value
    if type(value) is dict:
        return _decode_bitmap(value, path, name)
    wire.alternate_mismatch(name, "BlockDirtyBitmapOrStr")


def _decode_bitmap_add(value: object, path: str = "", name: str = "null") -> BitmapAddArgs:
    d = wire.object_(value, path)
    result = BitmapAddArgs(
        wire.req_str(d, "node", path),
        wire.req_str(d, "name", path),
        wire.opt(d, "granularity", path, wire.uint32_value),
        wire.opt_bool(d, "persistent", path),
        wire.opt_bool(d, "disabled", path),
    )
    wire.check_extra(d, frozenset({"node", "name", "granularity", "persistent", "disabled"}), path)
    return result


def _decode_bitmap_merge(value: object, path: str = "", name: str = "null") -> BitmapMergeArgs:
    d = wire.object_(value, path)
    result = BitmapMergeArgs(
        wire.req_str(d, "node", path),
        wire.req_str(d, "target", path),
        wire.req_list(d, "bitmaps", path, _decode_bitmap_or_str),
    )
    wire.check_extra(d, frozenset({"node", "target", "bitmaps"}), path)
    return result


def _decode_job_start(value: object, path: str = "", name: str = "null") -> JobStartArgs:
    d = wire.object_(value, path)
    result = JobStartArgs(
        wire.req_str(d, "job-id", path),
        wire.opt_special(d, "speed", path, wire.int_value, True, False),
        wire.opt_special(d, "x-perf", path, wire.bool_value, False, True),
    )
    wire.check_extra(d, frozenset({"job-id", "speed", "x-perf"}), path)
    return result


def _decode_device(value: object, path: str = "", name: str = "null") -> DeviceArgs:
    d = wire.object_(value, path)
    result = DeviceArgs(wire.req_str(d, "device", path))
    wire.check_extra(d, frozenset({"device"}), path)
    return result


def _decode_shutdown(value: object, path: str = "", name: str = "null") -> ShutdownArgs:
    d = wire.object_(value, path)
    result = ShutdownArgs(wire.opt(d, "mode", path, ShutdownMode.from_wire))
    wire.check_extra(d, frozenset({"mode"}), path)
    return result


def _decode_capabilities(value: object, path: str = "", name: str = "null") -> CapabilitiesArgs:
    d = wire.object_(value, path)
    result = CapabilitiesArgs(wire.opt_list(d, "enable", path, Capability.from_wire))
    wire.check_extra(d, frozenset({"enable"}), path)
    return result


class Handlers:
    """What a generated ``Handlers`` base class does: every command raises
    :class:`NotImplementedCommand` until a subclass implements it."""

    def query_status(self) -> StatusInfo:
        raise NotImplementedCommand("query-status")

    def stop(self) -> None:
        raise NotImplementedCommand("stop")

    def block_dirty_bitmap_add(self, args: BitmapAddArgs) -> None:
        raise NotImplementedCommand("block-dirty-bitmap-add")

    def block_dirty_bitmap_merge(self, args: BitmapMergeArgs) -> None:
        raise NotImplementedCommand("block-dirty-bitmap-merge")

    def job_start(self, args: JobStartArgs) -> None:
        raise NotImplementedCommand("job-start")

    def migrate_pause(self) -> None:
        raise NotImplementedCommand("migrate-pause")

    def guest_shutdown(self, args: ShutdownArgs) -> None:
        raise NotImplementedCommand("guest-shutdown")

    def drive_backup(self, args: DeviceArgs) -> None:
        raise NotImplementedCommand("drive-backup")

    def x_query_debug(self) -> dict[str, object]:
        raise NotImplementedCommand("x-query-debug")

    def x_old_debug(self) -> None:
        raise NotImplementedCommand("x-old-debug")

    def block_job_cancel(self, args: DeviceArgs) -> None:
        raise NotImplementedCommand("block-job-cancel")

    def eject(self, args: DeviceArgs) -> None:
        raise NotImplementedCommand("eject")

    def job_cancel(self, args: DeviceArgs) -> None:
        raise NotImplementedCommand("job-cancel")

    def query_block_jobs(self) -> list[object]:
        raise NotImplementedCommand("query-block-jobs")

    async def query_async(self) -> StatusInfo:
        raise NotImplementedCommand("query-async")

    async def query_async_unimplemented(self) -> StatusInfo:
        raise NotImplementedCommand("query-async-unimplemented")


@dataclass
class Impl(Handlers):
    """Implements every command but ``query-block-jobs`` and
    ``query-async-unimplemented``, recording the calls it gets."""

    calls: list[tuple[str, object]] = field(default_factory=list)

    def query_status(self) -> StatusInfo:
        self.calls.append(("query-status", None))
        return StatusInfo(True, RunState.RUNNING)

    def stop(self) -> None:
        self.calls.append(("stop", None))

    def block_dirty_bitmap_add(self, args: BitmapAddArgs) -> None:
        self.calls.append(("block-dirty-bitmap-add", args))
        granularity = args.granularity
        if granularity is not None and (granularity < 512 or granularity & (granularity - 1)):
            raise QMPError("Granularity must be power of 2 and at least 512")

    def block_dirty_bitmap_merge(self, args: BitmapMergeArgs) -> None:
        self.calls.append(("block-dirty-bitmap-merge", args))

    def job_start(self, args: JobStartArgs) -> None:
        self.calls.append(("job-start", args))

    def migrate_pause(self) -> None:
        self.calls.append(("migrate-pause", None))

    def guest_shutdown(self, args: ShutdownArgs) -> None:
        self.calls.append(("guest-shutdown", args))

    def drive_backup(self, args: DeviceArgs) -> None:
        self.calls.append(("drive-backup", args))

    def x_query_debug(self) -> dict[str, object]:
        self.calls.append(("x-query-debug", None))
        return {"debug": True}

    def x_old_debug(self) -> None:
        self.calls.append(("x-old-debug", None))

    def block_job_cancel(self, args: DeviceArgs) -> None:
        raise QMPError(f"Block job '{args.device}' not found", "DeviceNotActive")

    def eject(self, args: DeviceArgs) -> None:
        raise QMPError(f"Device '{args.device}' not found", "DeviceNotFound")

    def job_cancel(self, args: DeviceArgs) -> None:
        raise QMPError("Job not found")

    async def query_async(self) -> StatusInfo:
        await asyncio.sleep(0)
        self.calls.append(("query-async", None))
        return StatusInfo(False, RunState.PAUSED)


def _encode_object(value: Any) -> object:
    return value.to_wire()


def _encode_command_infos(values: list[CommandInfo]) -> object:
    return [v.to_wire() for v in values]


def _spec(
    name: str,
    call: Callable[[Any, Any], Any],
    decode: Callable[[object, str, str], Any] = no_arguments,
    **options: Any,
) -> CommandSpec:
    return CommandSpec(name=name, call=call, decode=decode, **options)


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        _spec("query-status", lambda h, a: h.query_status(), encode=_encode_object),
        _spec("stop", lambda h, a: h.stop()),
        _spec(
            "block-dirty-bitmap-add", lambda h, a: h.block_dirty_bitmap_add(a), _decode_bitmap_add
        ),
        _spec(
            "block-dirty-bitmap-merge",
            lambda h, a: h.block_dirty_bitmap_merge(a),
            _decode_bitmap_merge,
        ),
        _spec("job-start", lambda h, a: h.job_start(a), _decode_job_start),
        _spec("migrate-pause", lambda h, a: h.migrate_pause(), allow_oob=True),
        _spec(
            "guest-shutdown",
            lambda h, a: h.guest_shutdown(a),
            _decode_shutdown,
            success_response=False,
        ),
        _spec("drive-backup", lambda h, a: h.drive_backup(a), _decode_device, deprecated=True),
        _spec("x-query-debug", lambda h, a: h.x_query_debug(), encode=dict, unstable=True),
        _spec("x-old-debug", lambda h, a: h.x_old_debug(), deprecated=True, unstable=True),
        _spec("block-job-cancel", lambda h, a: h.block_job_cancel(a), _decode_device),
        _spec("eject", lambda h, a: h.eject(a), _decode_device),
        _spec("job-cancel", lambda h, a: h.job_cancel(a), _decode_device),
        _spec("query-block-jobs", lambda h, a: h.query_block_jobs(), encode=list),
        _spec("query-async", lambda h, a: h.query_async(), encode=_encode_object, coroutine=True),
        _spec(
            "query-async-unimplemented",
            lambda h, a: h.query_async_unimplemented(),
            encode=_encode_object,
            coroutine=True,
        ),
        _spec("query-commands", lambda h, a: None, encode=_encode_command_infos),
    )
}
# Commands without "return" on success.
NO_RESPONSE = frozenset(name for name, spec in COMMANDS.items() if not spec.success_response)
# The table with a schema-defined qmp_capabilities (capabilities: oob, x-test).
COMMANDS_WITH_CAPABILITIES: dict[str, CommandSpec] = {
    "qmp_capabilities": _spec(
        "qmp_capabilities", lambda h, a: None, _decode_capabilities, allow_preconfig=True
    ),
    **COMMANDS,
}

# Arguments each command accepts (others take none).
VALID_ARGUMENTS: dict[str, dict[str, object]] = {
    "block-dirty-bitmap-add": {"node": "disk0", "name": "b0", "granularity": 65536},
    "block-dirty-bitmap-merge": {"node": "disk0", "target": "b0", "bitmaps": ["b1"]},
    "job-start": {"job-id": "j", "speed": 100, "x-perf": True},
    "guest-shutdown": {"mode": "reboot"},
    "drive-backup": {"device": "d0"},
    "block-job-cancel": {"device": "job0"},
    "eject": {"device": "cd0"},
    "job-cancel": {"device": "job0"},
}

REJECT = CompatPolicy(deprecated_input="reject", unstable_input="reject")
REJECT_DEPRECATED = CompatPolicy(deprecated_input="reject")
REJECT_UNSTABLE = CompatPolicy(unstable_input="reject")

# Protocol states: a new session, negotiated without and with OOB, and
# negotiated without OOB on a monitor that offered it.
NEGOTIATION = "negotiation"
COMMAND = "command"
OOB = "oob"
OOB_OFFERED = "oob-offered"


OMIT = object()


def qmp(name: str, arguments: object = OMIT, **more: object) -> dict[str, object]:
    """A request ``{"execute": name, "arguments": arguments, **more}``,
    without "arguments" when they are OMIT."""
    request: dict[str, object] = {"execute": name}
    if arguments is not OMIT:
        request["arguments"] = arguments
    request.update(more)
    return request


def negotiate(dispatcher: Dispatcher, *enable: str) -> None:
    """Leave negotiation mode the way a client does."""
    arguments = {"enable": list(enable)} if enable else OMIT
    assert dispatcher.dispatch(qmp("qmp_capabilities", arguments)) == {"return": {}}


def make(
    state: str = COMMAND,
    *,
    commands: Mapping[str, CommandSpec] = COMMANDS,
    handlers: Handlers | None = None,
    **options: Any,
) -> Dispatcher:
    """A dispatcher in *state*; *options* are further Dispatcher fields."""
    options.setdefault("oob_offered", state in (OOB, OOB_OFFERED))
    if handlers is None:
        handlers = Impl()
    dispatcher = Dispatcher(handlers=handlers, commands=commands, **options)
    if state == OOB:
        negotiate(dispatcher, "oob")
    elif state != NEGOTIATION:
        negotiate(dispatcher)
    return dispatcher


def error(desc: str, error_class: str = GENERIC) -> Response:
    return {"error": {"class": error_class, "desc": desc}}


# --------------------------------------------------------------------------
# The id echo rule: every id below, or none, on every response.

NO_ID = object()


@dataclass(frozen=True)
class IdVariant:
    """An id value and where the id key goes in the request (members are
    checked in order, so an id before or after the bad member must not
    matter)."""

    value: object
    first: bool = False


ID_VARIANTS = [
    pytest.param(IdVariant(NO_ID), id="no-id"),
    pytest.param(IdVariant(1), id="id-int"),
    pytest.param(IdVariant("abc", first=True), id="id-str-first"),
    pytest.param(IdVariant(None), id="id-null"),
    pytest.param(IdVariant([1, "two", None], first=True), id="id-list-first"),
    pytest.param(IdVariant({"a": {"b": [1.5, False]}, "": None}), id="id-object"),
    pytest.param(IdVariant(-0.25, first=True), id="id-float-first"),
    pytest.param(IdVariant(True), id="id-bool"),
    pytest.param(IdVariant(2**64 + 5), id="id-huge-int"),
    pytest.param(IdVariant({}, first=True), id="id-empty-object-first"),
]


def with_id(request: dict[str, object], variant: IdVariant) -> dict[str, object]:
    if variant.value is NO_ID:
        return dict(request)
    if variant.first:
        return {"id": variant.value, **request}
    return {**request, "id": variant.value}


def expect_echo(response: Response | None, expected: Response, variant: IdVariant) -> None:
    """*response* is *expected* plus the id of *variant*, echoed unchanged."""
    assert response is not None
    if variant.value is NO_ID:
        assert "id" not in response
        assert response == expected
    else:
        assert response == {**expected, "id": variant.value}
        assert response["id"] is variant.value  # the very same value


# --------------------------------------------------------------------------
# Every protocol error, each with and without id.


@dataclass(frozen=True)
class Case:
    request: dict[str, object]
    desc: str
    error_class: str = GENERIC
    state: str = COMMAND
    options: Mapping[str, Any] = field(default_factory=dict)


def _cases() -> Iterator[Any]:
    def case(
        test_id: str,
        request: dict[str, object],
        desc: str,
        error_class: str = GENERIC,
        state: str = COMMAND,
        **options: Any,
    ) -> Any:
        return pytest.param(Case(request, desc, error_class, state, options), id=test_id)

    # A.3: negotiation mode.  Only qmp_capabilities exists; any other
    # command, known or unknown, is CommandNotFound with one text.
    for name in ("query-status", "stop", "migrate-pause", "drive-backup", "foo", ""):
        yield case(
            f"negotiation-{name or 'empty-name'}", qmp(name), EXPECTING, NOT_FOUND, NEGOTIATION
        )
    yield case(
        "negotiation-bad-arguments-not-checked",
        qmp("block-dirty-bitmap-add", {"node": 1, "bogus": True}),
        EXPECTING,
        NOT_FOUND,
        NEGOTIATION,
    )
    yield case("negotiation-arguments-empty", qmp("stop", {}), EXPECTING, NOT_FOUND, NEGOTIATION)
    # "Any CommandNotFound error raised in negotiation mode has its desc
    # rewritten": a disabled or policy-refused command too.
    yield case(
        "negotiation-disabled",
        qmp("stop"),
        EXPECTING,
        NOT_FOUND,
        NEGOTIATION,
        disabled={"stop": "no reason"},
    )
    yield case(
        "negotiation-deprecated-rejected",
        qmp("drive-backup", {"device": "d"}),
        EXPECTING,
        NOT_FOUND,
        NEGOTIATION,
        compat=REJECT,
    )
    # The request object is checked before the command is looked up, so
    # these stay GenericError in negotiation mode.
    yield case(
        "negotiation-execute-not-string",
        {"execute": 1},
        "QMP input member 'execute' must be a string",
        state=NEGOTIATION,
    )
    yield case(
        "negotiation-unexpected-member",
        qmp("query-status", foo=1),
        "QMP input member 'foo' is unexpected",
        state=NEGOTIATION,
    )
    yield case(
        "negotiation-exec-oob-unexpected",
        {"exec-oob": "migrate-pause"},
        "QMP input member 'exec-oob' is unexpected",
        state=NEGOTIATION,
        oob_offered=True,
    )
    yield case(
        "negotiation-exec-oob-capabilities",
        {"exec-oob": "qmp_capabilities"},
        "QMP input member 'exec-oob' is unexpected",
        state=NEGOTIATION,
        oob_offered=True,
    )
    yield case(
        "negotiation-lacks-execute",
        {"arguments": {}},
        "QMP input lacks member 'execute'",
        state=NEGOTIATION,
    )
    yield case(
        "negotiation-arguments-not-object",
        qmp("qmp_capabilities", []),
        "QMP input member 'arguments' must be an object",
        state=NEGOTIATION,
    )

    # A.3: qmp_capabilities arguments and capabilities.
    for test_id, arguments, desc in [
        ("caps-oob-not-offered", {"enable": ["oob"]}, "Capability oob not available"),
        (
            "caps-oob-twice-not-offered",
            {"enable": ["oob", "oob"]},
            "Capability oob, oob not available",
        ),
        ("caps-bad-value", {"enable": ["foo"]}, "Parameter 'null' does not accept value 'foo'"),
        (
            "caps-bad-value-after-good",
            {"enable": ["oob", "foo"]},
            "Parameter 'null' does not accept value 'foo'",
        ),
        (
            "caps-value-not-string",
            {"enable": [1]},
            "Invalid parameter type for 'enable[0]', expected: string",
        ),
        (
            "caps-wrong-type",
            {"enable": "oob"},
            "Invalid parameter type for 'enable', expected: array",
        ),
        (
            "caps-wrong-type-object",
            {"enable": {"oob": True}},
            "Invalid parameter type for 'enable', expected: array",
        ),
        ("caps-null", {"enable": None}, "Invalid parameter type for 'enable', expected: array"),
        ("caps-unexpected", {"foo": 1}, "Parameter 'foo' is unexpected"),
        ("caps-unexpected-after-enable", {"enable": [], "foo": 1}, "Parameter 'foo' is unexpected"),
    ]:
        yield case(test_id, qmp("qmp_capabilities", arguments), desc, state=NEGOTIATION)
    # With oob offered only unknown values and wrong types are refused.
    yield case(
        "caps-offered-bad-value",
        qmp("qmp_capabilities", {"enable": ["oob", "foo"]}),
        "Parameter 'null' does not accept value 'foo'",
        state=NEGOTIATION,
        oob_offered=True,
    )
    # A schema whose QMPCapability has two values: refused ones are
    # comma-joined in request order.
    yield case(
        "caps-list-not-offered",
        qmp("qmp_capabilities", {"enable": ["x-test", "oob", "x-test"]}),
        "Capability x-test, oob, x-test not available",
        state=NEGOTIATION,
        commands=COMMANDS_WITH_CAPABILITIES,
    )
    yield case(
        "caps-list-partly-offered",
        qmp("qmp_capabilities", {"enable": ["oob", "x-test"]}),
        "Capability x-test not available",
        state=NEGOTIATION,
        commands=COMMANDS_WITH_CAPABILITIES,
        oob_offered=True,
    )
    yield case(
        "caps-schema-bad-value",
        qmp("qmp_capabilities", {"enable": ["x-nope"]}),
        "Parameter 'null' does not accept value 'x-nope'",
        state=NEGOTIATION,
        commands=COMMANDS_WITH_CAPABILITIES,
    )

    # A.3: a second qmp_capabilities.
    yield case("caps-again", qmp("qmp_capabilities"), ALREADY, NOT_FOUND)
    yield case("caps-again-empty", qmp("qmp_capabilities", {}), ALREADY, NOT_FOUND)
    yield case(
        "caps-again-oob", qmp("qmp_capabilities", {"enable": ["oob"]}), ALREADY, NOT_FOUND, OOB
    )
    yield case(
        "caps-again-not-offered", qmp("qmp_capabilities", {"enable": ["oob"]}), ALREADY, NOT_FOUND
    )
    # QEMU's marshaller decodes the arguments before qmp_qmp_capabilities()
    # looks at the state, so bad arguments win over "already complete".
    yield case(
        "caps-again-bad-arguments",
        qmp("qmp_capabilities", {"enable": ["foo"]}),
        "Parameter 'null' does not accept value 'foo'",
    )

    # A.4 step 2: member by member, in order.
    not_strings: list[tuple[str, object]] = [
        ("int", 1),
        ("null", None),
        ("list", ["stop"]),
        ("object", {}),
        ("bool", True),
        ("float", 1.5),
    ]
    for test_id, value in not_strings:
        yield case(
            f"execute-{test_id}", {"execute": value}, "QMP input member 'execute' must be a string"
        )
    yield case(
        "exec-oob-not-string",
        {"exec-oob": 7},
        "QMP input member 'exec-oob' must be a string",
        state=OOB,
    )
    yield case(
        "exec-oob-null",
        {"exec-oob": None},
        "QMP input member 'exec-oob' must be a string",
        state=OOB,
    )
    yield case(
        "clash-exec-oob-second",
        {"execute": "stop", "exec-oob": "migrate-pause"},
        "QMP input member 'exec-oob' clashes with 'execute'",
        state=OOB,
    )
    yield case(
        "clash-execute-second",
        {"exec-oob": "migrate-pause", "execute": "stop"},
        "QMP input member 'execute' clashes with 'exec-oob'",
        state=OOB,
    )
    yield case(
        "clash-same-command",
        {"execute": "migrate-pause", "exec-oob": "migrate-pause"},
        "QMP input member 'exec-oob' clashes with 'execute'",
        state=OOB,
    )
    # The type check of a member comes before the clash check.
    yield case(
        "clash-second-not-string",
        {"execute": "stop", "exec-oob": 1},
        "QMP input member 'exec-oob' must be a string",
        state=OOB,
    )
    yield case(
        "clash-first-not-string",
        {"exec-oob": [], "execute": "stop"},
        "QMP input member 'exec-oob' must be a string",
        state=OOB,
    )
    not_objects: list[tuple[str, object]] = [
        ("null", None),
        ("list", []),
        ("string", "{}"),
        ("int", 0),
        ("bool", False),
        ("list-of-object", [{}]),
    ]
    for test_id, value in not_objects:
        yield case(
            f"arguments-{test_id}",
            qmp("stop", value),
            "QMP input member 'arguments' must be an object",
        )
    yield case(
        "arguments-not-object-unknown-command",
        qmp("foo", "x"),
        "QMP input member 'arguments' must be an object",
    )
    yield case("unexpected-member", qmp("stop", foo=1), "QMP input member 'foo' is unexpected")
    yield case(
        "unexpected-member-null", qmp("stop", foo=None), "QMP input member 'foo' is unexpected"
    )
    yield case(
        "unexpected-member-empty-key",
        {"": 1, "execute": "stop"},
        "QMP input member '' is unexpected",
    )
    yield case(
        "unexpected-member-case", {"Execute": "stop"}, "QMP input member 'Execute' is unexpected"
    )
    # exec-oob is an unknown member unless OOB is enabled, offered or not.
    yield case(
        "exec-oob-not-enabled",
        {"exec-oob": "migrate-pause"},
        "QMP input member 'exec-oob' is unexpected",
    )
    yield case(
        "exec-oob-offered-not-enabled",
        {"exec-oob": "migrate-pause"},
        "QMP input member 'exec-oob' is unexpected",
        state=OOB_OFFERED,
    )
    yield case(
        "exec-oob-not-enabled-with-execute",
        {"execute": "stop", "exec-oob": "stop"},
        "QMP input member 'exec-oob' is unexpected",
    )
    yield case(
        "exec-oob-not-enabled-not-string",
        {"exec-oob": 1},
        "QMP input member 'exec-oob' is unexpected",
    )
    # The first failure in member order wins.
    yield case(
        "order-unexpected-before-execute",
        {"foo": 1, "execute": 1},
        "QMP input member 'foo' is unexpected",
    )
    yield case(
        "order-execute-before-unexpected",
        {"execute": 1, "foo": 1},
        "QMP input member 'execute' must be a string",
    )
    yield case(
        "order-arguments-before-execute",
        {"arguments": [], "execute": 5},
        "QMP input member 'arguments' must be an object",
    )
    yield case(
        "order-execute-before-arguments",
        {"execute": 5, "arguments": []},
        "QMP input member 'execute' must be a string",
    )
    yield case(
        "order-unexpected-before-arguments",
        {"bar": {}, "arguments": None},
        "QMP input member 'bar' is unexpected",
    )
    yield case("order-unexpected-before-lacks", {"foo": 1}, "QMP input member 'foo' is unexpected")

    # A.4 step 3: no execute.
    yield case("lacks-execute-empty", {}, "QMP input lacks member 'execute'")
    yield case("lacks-execute-arguments", {"arguments": {}}, "QMP input lacks member 'execute'")
    yield case(
        "lacks-execute-oob", {"arguments": {"a": 1}}, "QMP input lacks member 'execute'", state=OOB
    )

    # A.4 step 4: unknown command.
    yield case("unknown", qmp("foo"), "The command foo has not been found", NOT_FOUND)
    yield case(
        "unknown-with-arguments",
        qmp("foo", {"x": 1}),
        "The command foo has not been found",
        NOT_FOUND,
    )
    yield case("unknown-empty-name", qmp(""), "The command  has not been found", NOT_FOUND)
    yield case(
        "unknown-near-miss",
        qmp("query_status"),
        "The command query_status has not been found",
        NOT_FOUND,
    )
    yield case(
        "unknown-oob", {"exec-oob": "foo"}, "The command foo has not been found", NOT_FOUND, OOB
    )
    yield case(
        "unknown-disabled",
        qmp("foo"),
        "The command foo has not been found",
        NOT_FOUND,
        disabled={"foo": None},
    )

    # A.4 step 5: disabled commands and the compat policy.
    yield case(
        "disabled",
        qmp("stop"),
        "Command stop has been disabled",
        NOT_FOUND,
        disabled={"stop": None},
    )
    yield case(
        "disabled-empty-reason",
        qmp("stop"),
        "Command stop has been disabled",
        NOT_FOUND,
        disabled={"stop": ""},
    )
    yield case(
        "disabled-reason",
        qmp("stop"),
        "Command stop has been disabled: not available with -only-migratable",
        NOT_FOUND,
        disabled={"stop": "not available with -only-migratable"},
    )
    yield case(
        "disabled-arguments-not-checked",
        qmp("block-dirty-bitmap-add", {}),
        "Command block-dirty-bitmap-add has been disabled",
        NOT_FOUND,
        disabled={"block-dirty-bitmap-add": None},
    )
    yield case(
        "disabled-before-oob-check",
        {"exec-oob": "query-status"},
        "Command query-status has been disabled",
        NOT_FOUND,
        OOB,
        disabled={"query-status": None},
    )
    yield case(
        "disabled-oob-command",
        {"exec-oob": "migrate-pause"},
        "Command migrate-pause has been disabled",
        NOT_FOUND,
        OOB,
        disabled={"migrate-pause": None},
    )
    yield case(
        "deprecated-command-rejected",
        qmp("drive-backup", {"device": "d"}),
        "Deprecated command drive-backup disabled by policy",
        NOT_FOUND,
        compat=REJECT_DEPRECATED,
    )
    yield case(
        "deprecated-command-arguments-not-checked",
        qmp("drive-backup", {"x": 1}),
        "Deprecated command drive-backup disabled by policy",
        NOT_FOUND,
        compat=REJECT_DEPRECATED,
    )
    yield case(
        "unstable-command-rejected",
        qmp("x-query-debug"),
        "Unstable command x-query-debug disabled by policy",
        NOT_FOUND,
        compat=REJECT_UNSTABLE,
    )
    yield case(
        "deprecated-and-unstable-both-rejected",
        qmp("x-old-debug"),
        "Deprecated command x-old-debug disabled by policy",
        NOT_FOUND,
        compat=REJECT,
    )
    yield case(
        "deprecated-and-unstable-unstable-rejected",
        qmp("x-old-debug"),
        "Unstable command x-old-debug disabled by policy",
        NOT_FOUND,
        compat=REJECT_UNSTABLE,
    )
    # QEMU 10.2 checks the policy before the disabled flag and OOB.
    yield case(
        "policy-before-disabled",
        qmp("drive-backup"),
        "Deprecated command drive-backup disabled by policy",
        NOT_FOUND,
        compat=REJECT,
        disabled={"drive-backup": "gone"},
    )
    yield case(
        "policy-before-oob",
        {"exec-oob": "x-query-debug"},
        "Unstable command x-query-debug disabled by policy",
        NOT_FOUND,
        OOB,
        compat=REJECT,
    )
    # Deprecated and unstable arguments (GenericError, from the decoder).
    yield case(
        "deprecated-argument-rejected",
        qmp("job-start", {"job-id": "j", "speed": 10}),
        "Deprecated parameter speed disabled by policy",
        compat=REJECT_DEPRECATED,
    )
    yield case(
        "unstable-argument-rejected",
        qmp("job-start", {"job-id": "j", "x-perf": True}),
        "Unstable parameter x-perf disabled by policy",
        compat=REJECT_UNSTABLE,
    )

    # A.4 step 6: exec-oob of a command without allow-oob.
    yield case(
        "oob-not-supported",
        {"exec-oob": "query-status"},
        "The command query-status does not support OOB",
        state=OOB,
    )
    yield case(
        "oob-not-supported-arguments-not-checked",
        {"exec-oob": "block-dirty-bitmap-add", "arguments": {"x": 1}},
        "The command block-dirty-bitmap-add does not support OOB",
        state=OOB,
    )
    yield case(
        "oob-not-supported-capabilities",
        {"exec-oob": "qmp_capabilities"},
        "The command qmp_capabilities does not support OOB",
        state=OOB,
    )

    # A.4 step 7 and A.7: the arguments (absent ones are {}).
    yield case(
        "missing-arguments-are-empty", qmp("block-dirty-bitmap-add"), "Parameter 'node' is missing"
    )
    yield case(
        "missing-member",
        qmp("block-dirty-bitmap-add", {"node": "disk0"}),
        "Parameter 'name' is missing",
    )
    yield case("extra-argument", qmp("stop", {"foo": 1}), "Parameter 'foo' is unexpected")
    yield case(
        "extra-argument-after-members",
        qmp("block-dirty-bitmap-add", {"x": 1, "node": "n", "name": "b"}),
        "Parameter 'x' is unexpected",
    )
    yield case(
        "argument-uint32",
        qmp("block-dirty-bitmap-add", {"node": "n", "name": "b", "granularity": 2**40}),
        "Parameter 'granularity' expects uint32_t",
    )
    yield case(
        "argument-alternate",
        qmp("block-dirty-bitmap-merge", {"node": "n", "target": "t", "bitmaps": ["a", 1]}),
        "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr",
    )
    yield case(
        "argument-enum",
        qmp("guest-shutdown", {"mode": "off"}),
        "Parameter 'mode' does not accept value 'off'",
    )
    yield case(
        "deprecated-enum-value-rejected",
        qmp("guest-shutdown", {"mode": "halt"}),
        "Deprecated value halt disabled by policy",
        compat=REJECT_DEPRECATED,
    )
    yield case(
        "oob-argument",
        {"exec-oob": "migrate-pause", "arguments": {"x": None}},
        "Parameter 'x' is unexpected",
        state=OOB,
    )

    # A.5: errors raised by commands keep their class; a command with
    # success-response false still reports errors.
    yield case("handler-generic", qmp("job-cancel", {"device": "job0"}), "Job not found")
    yield case(
        "handler-device-not-active",
        qmp("block-job-cancel", {"device": "job0"}),
        "Block job 'job0' not found",
        "DeviceNotActive",
    )
    yield case(
        "handler-device-not-found",
        qmp("eject", {"device": "cd0"}),
        "Device 'cd0' not found",
        "DeviceNotFound",
    )
    yield case(
        "handler-range-error",
        qmp("block-dirty-bitmap-add", {"node": "n", "name": "b", "granularity": 513}),
        "Granularity must be power of 2 and at least 512",
    )
    yield case(
        "no-success-response-error",
        qmp("guest-shutdown", {"mode": 1}),
        "Invalid parameter type for 'mode', expected: string",
    )
    # A command nobody implemented: GenericError, never a crash.
    yield case(
        "not-implemented",
        qmp("query-block-jobs"),
        "The command query-block-jobs has not been implemented",
    )


@pytest.mark.parametrize("variant", ID_VARIANTS)
@pytest.mark.parametrize("case", list(_cases()))
def test_protocol_error(case: Case, variant: IdVariant) -> None:
    dispatcher = make(case.state, **case.options)
    response = dispatcher.dispatch(with_id(case.request, variant))
    expect_echo(response, error(case.desc, case.error_class), variant)


# A.4 step 1: not an object.  No id, whatever the value holds.
NOT_OBJECTS = [
    None,
    True,
    False,
    0,
    -1,
    2**70,
    1.5,
    "",
    "query-status",
    [],
    [{"execute": "stop"}],
    [{"execute": "stop", "id": 1}],
    ["id", 1],
]


@pytest.mark.parametrize("state", [NEGOTIATION, COMMAND, OOB])
@pytest.mark.parametrize("request_", NOT_OBJECTS, ids=repr)
def test_not_an_object(state: str, request_: object) -> None:
    response = make(state).dispatch(request_)
    assert response == error("QMP input must be a JSON object")


# --------------------------------------------------------------------------
# Successful requests, each with and without id.


@dataclass(frozen=True)
class Success:
    request: dict[str, object]
    result: object
    state: str = COMMAND
    options: Mapping[str, Any] = field(default_factory=dict)


SUCCESSES = [
    pytest.param(Success(qmp("qmp_capabilities"), {}, NEGOTIATION), id="capabilities"),
    pytest.param(Success(qmp("qmp_capabilities", {}), {}, NEGOTIATION), id="capabilities-empty"),
    pytest.param(
        Success(qmp("qmp_capabilities", {"enable": []}), {}, NEGOTIATION),
        id="capabilities-enable-none",
    ),
    pytest.param(
        Success(
            qmp("qmp_capabilities", {"enable": ["oob"]}), {}, NEGOTIATION, {"oob_offered": True}
        ),
        id="capabilities-oob",
    ),
    pytest.param(
        Success(
            qmp("qmp_capabilities", {"enable": ["oob", "oob"]}),
            {},
            NEGOTIATION,
            {"oob_offered": True},
        ),
        id="capabilities-oob-twice",
    ),
    pytest.param(
        Success(qmp("query-status"), {"running": True, "status": "running"}), id="return-value"
    ),
    pytest.param(
        Success(qmp("query-status", {}), {"running": True, "status": "running"}),
        id="return-value-empty-arguments",
    ),
    pytest.param(Success(qmp("stop"), {}), id="no-return-type"),
    pytest.param(
        Success(
            qmp("block-dirty-bitmap-add", {"node": "disk0", "name": "b0", "granularity": 65536}), {}
        ),
        id="arguments",
    ),
    pytest.param(
        Success(
            qmp(
                "block-dirty-bitmap-merge",
                {
                    "node": "disk0",
                    "target": "b0",
                    "bitmaps": ["b1", {"node": "disk1", "name": "b2"}],
                },
            ),
            {},
        ),
        id="arguments-alternate",
    ),
    pytest.param(Success({"exec-oob": "migrate-pause"}, {}, OOB), id="exec-oob"),
    pytest.param(Success(qmp("migrate-pause"), {}, OOB), id="oob-command-in-band"),
    pytest.param(Success(qmp("migrate-pause"), {}), id="oob-command-without-oob"),
    pytest.param(Success(qmp("drive-backup", {"device": "d"}), {}), id="deprecated-accepted"),
    pytest.param(
        Success(qmp("x-query-debug"), {"debug": True}, options={"compat": REJECT_DEPRECATED}),
        id="unstable-accepted",
    ),
    pytest.param(
        Success(qmp("job-start", {"job-id": "j", "speed": 5, "x-perf": False}), {}),
        id="special-arguments-accepted",
    ),
    pytest.param(
        Success(qmp("job-start", {"job-id": "j"}), {}, options={"compat": REJECT}),
        id="special-arguments-absent-under-reject",
    ),
    pytest.param(
        Success(qmp("stop"), {}, options={"disabled": {"eject": None}}), id="other-command-disabled"
    ),
    pytest.param(
        Success(
            qmp("query-commands"),
            [{"name": n} for n in COMMANDS if n != "eject"],
            options={"disabled": {"eject": None}},
        ),
        id="query-commands",
    ),
]


@pytest.mark.parametrize("variant", ID_VARIANTS)
@pytest.mark.parametrize("success", SUCCESSES)
def test_success(success: Success, variant: IdVariant) -> None:
    dispatcher = make(success.state, **success.options)
    response = dispatcher.dispatch(with_id(success.request, variant))
    expect_echo(response, {"return": success.result}, variant)
    json.dumps(response)  # plain JSON


@pytest.mark.parametrize("variant", ID_VARIANTS)
@pytest.mark.parametrize("arguments", [OMIT, {}, {"mode": "halt"}], ids=["none", "empty", "halt"])
def test_no_success_response(arguments: object, variant: IdVariant) -> None:
    handlers = Impl()
    dispatcher = make(handlers=handlers)
    assert dispatcher.dispatch(with_id(qmp("guest-shutdown", arguments), variant)) is None
    mode = ShutdownMode.HALT if arguments is not OMIT and arguments else None
    assert handlers.calls == [("guest-shutdown", ShutdownArgs(mode))]


# --------------------------------------------------------------------------
# Negotiation: state changes.


def test_negotiation_then_commands() -> None:
    handlers = Impl()
    dispatcher = make(NEGOTIATION, handlers=handlers)
    assert not dispatcher.negotiated
    assert dispatcher.dispatch(qmp("query-status", id=1)) == {
        **error(EXPECTING, NOT_FOUND),
        "id": 1,
    }
    assert handlers.calls == []
    assert dispatcher.dispatch(qmp("qmp_capabilities", id=2)) == {"return": {}, "id": 2}
    assert dispatcher.negotiated
    assert not dispatcher.oob_enabled
    assert dispatcher.dispatch(qmp("query-status")) == {
        "return": {"running": True, "status": "running"}
    }
    assert dispatcher.dispatch(qmp("qmp_capabilities")) == error(ALREADY, NOT_FOUND)
    assert dispatcher.negotiated
    assert handlers.calls == [("query-status", None)]


@pytest.mark.parametrize(
    ("arguments", "options"),
    [
        ({"enable": ["oob"]}, {}),
        ({"enable": ["oob", "oob"]}, {}),
        ({"enable": ["foo"]}, {"oob_offered": True}),
        ({"enable": "oob"}, {"oob_offered": True}),
        ({"foo": 1}, {}),
        ([], {}),
        (
            {"enable": ["x-test", "oob"]},
            {"commands": COMMANDS_WITH_CAPABILITIES, "oob_offered": True},
        ),
    ],
    # Not repr: the command table holds functions, whose reprs carry
    # addresses that differ between xdist workers.
    ids=lambda value: repr(value) if "commands" not in repr(value) else "two-capabilities",
)
def test_failed_negotiation_keeps_negotiation_mode(
    arguments: object, options: dict[str, Any]
) -> None:
    dispatcher = make(NEGOTIATION, **options)
    response = dispatcher.dispatch(qmp("qmp_capabilities", arguments))
    assert response is not None
    assert response["error"]["class"] == GENERIC
    assert not dispatcher.negotiated
    assert not dispatcher.oob_enabled
    assert dispatcher.dispatch(qmp("stop")) == error(EXPECTING, NOT_FOUND)
    assert dispatcher.dispatch(qmp("qmp_capabilities")) == {"return": {}}
    assert dispatcher.dispatch(qmp("stop")) == {"return": {}}


def test_oob_only_when_offered_and_enabled() -> None:
    # Not offered: enabling fails, exec-oob stays an unknown member.
    dispatcher = make(NEGOTIATION)
    assert dispatcher.dispatch(qmp("qmp_capabilities", {"enable": ["oob"]})) == error(
        "Capability oob not available"
    )
    negotiate(dispatcher)
    assert dispatcher.dispatch({"exec-oob": "migrate-pause"}) == error(
        "QMP input member 'exec-oob' is unexpected"
    )
    # Offered but not enabled.
    dispatcher = make(OOB_OFFERED)
    assert not dispatcher.oob_enabled
    assert dispatcher.dispatch({"exec-oob": "migrate-pause"}) == error(
        "QMP input member 'exec-oob' is unexpected"
    )
    # A second qmp_capabilities cannot enable it afterwards.
    assert dispatcher.dispatch(qmp("qmp_capabilities", {"enable": ["oob"]})) == error(
        ALREADY, NOT_FOUND
    )
    assert dispatcher.dispatch({"exec-oob": "migrate-pause"}) == error(
        "QMP input member 'exec-oob' is unexpected"
    )
    # Offered and enabled.
    handlers = Impl()
    dispatcher = make(OOB, handlers=handlers)
    assert dispatcher.oob_enabled
    assert dispatcher.dispatch({"exec-oob": "migrate-pause", "id": "o1"}) == {
        "return": {},
        "id": "o1",
    }
    assert dispatcher.dispatch({"exec-oob": "stop"}) == error(
        "The command stop does not support OOB"
    )
    assert handlers.calls == [("migrate-pause", None)]


def test_schema_capabilities_enable_oob() -> None:
    dispatcher = make(NEGOTIATION, commands=COMMANDS_WITH_CAPABILITIES, oob_offered=True)
    negotiate(dispatcher, "oob", "oob")
    assert dispatcher.oob_enabled
    assert dispatcher.dispatch({"exec-oob": "migrate-pause"}) == {"return": {}}


def test_reset_returns_to_negotiation() -> None:
    dispatcher = make(OOB)
    dispatcher.reset()
    assert not dispatcher.negotiated
    assert not dispatcher.oob_enabled
    assert dispatcher.dispatch(qmp("stop")) == error(EXPECTING, NOT_FOUND)
    assert dispatcher.dispatch({"exec-oob": "migrate-pause"}) == error(
        "QMP input member 'exec-oob' is unexpected"
    )
    negotiate(dispatcher)
    assert dispatcher.dispatch(qmp("stop")) == {"return": {}}


# --------------------------------------------------------------------------
# Compat policy and arguments as the handler sees them.


def test_policy_accept_lets_special_input_through() -> None:
    handlers = Impl()
    dispatcher = make(handlers=handlers, compat=CompatPolicy())
    assert dispatcher.dispatch(qmp("drive-backup", {"device": "d0"})) == {"return": {}}
    assert dispatcher.dispatch(qmp("x-old-debug")) == {"return": {}}
    request = qmp("job-start", {"job-id": "j", "speed": 7, "x-perf": True})
    assert dispatcher.dispatch(request) == {"return": {}}
    assert handlers.calls == [
        ("drive-backup", DeviceArgs("d0")),
        ("x-old-debug", None),
        ("job-start", JobStartArgs("j", 7, True)),
    ]


def test_policy_crash_aborts() -> None:
    """``crash`` is QEMU's abort(): the one thing dispatch() lets escape."""
    dispatcher = make(compat=CompatPolicy(deprecated_input="crash"))
    with pytest.raises(PolicyCrash):
        dispatcher.dispatch(qmp("drive-backup", {"device": "d0"}))
    with pytest.raises(PolicyCrash):
        dispatcher.dispatch(qmp("job-start", {"job-id": "j", "speed": 1}))


def test_policy_is_scoped_to_the_request() -> None:
    rejecting = make(compat=REJECT)
    accepting = make()
    request = qmp("job-start", {"job-id": "j", "speed": 1})
    assert rejecting.dispatch(request) == error("Deprecated parameter speed disabled by policy")
    assert accepting.dispatch(request) == {"return": {}}
    assert rejecting.dispatch(request) == error("Deprecated parameter speed disabled by policy")


def test_missing_arguments_are_an_empty_object() -> None:
    handlers = Impl()
    dispatcher = make(handlers=handlers)
    assert dispatcher.dispatch(qmp("guest-shutdown")) is None
    assert dispatcher.dispatch(qmp("job-start")) == error("Parameter 'job-id' is missing")
    assert handlers.calls == [("guest-shutdown", ShutdownArgs())]


def test_handler_gets_decoded_arguments() -> None:
    handlers = Impl()
    dispatcher = make(handlers=handlers)
    request = qmp(
        "block-dirty-bitmap-merge",
        {"node": "disk0", "target": "b0", "bitmaps": ["b1", {"node": "disk1", "name": "b2"}]},
    )
    assert dispatcher.dispatch(request) == {"return": {}}
    assert handlers.calls == [
        (
            "block-dirty-bitmap-merge",
            BitmapMergeArgs("disk0", "b0", ["b1", BlockDirtyBitmap("disk1", "b2")]),
        )
    ]


def test_not_implemented_never_crashes() -> None:
    dispatcher = make(handlers=Handlers())
    asynchronous = {"query-async", "query-async-unimplemented"}
    for name in COMMANDS.keys() - asynchronous - {"query-commands"}:
        response = dispatcher.dispatch(qmp(name, VALID_ARGUMENTS.get(name, OMIT), id=name))
        assert response == {**error(f"The command {name} has not been implemented"), "id": name}
    for name in asynchronous:
        response = run(dispatcher.dispatch_async(qmp(name)))
        assert response == error(f"The command {name} has not been implemented")


@pytest.mark.parametrize("error_class", ERROR_CLASSES)
def test_handler_error_classes(error_class: str) -> None:
    """A.5: whatever class a command's error has goes on the wire as is."""

    def fail(handlers: object, args: object) -> None:
        raise QMPError(f"failed with {error_class}", error_class)

    dispatcher = make(commands={"fail": _spec("fail", fail)})
    assert dispatcher.dispatch(qmp("fail", id=error_class)) == {
        "error": {"class": error_class, "desc": f"failed with {error_class}"},
        "id": error_class,
    }


def test_bad_return_value_is_an_error() -> None:
    dispatcher = make(
        commands={"query-status": _spec("query-status", lambda h, a: None, encode=_encode_object)}
    )
    response = dispatcher.dispatch(qmp("query-status", id=3))
    assert response is not None
    assert response["id"] == 3
    assert response["error"]["class"] == GENERIC
    assert response["error"]["desc"].startswith("The command query-status returned an invalid")


# --------------------------------------------------------------------------
# Async handlers.


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize("variant", ID_VARIANTS[:4])
def test_async_handler(variant: IdVariant) -> None:
    handlers = Impl()
    dispatcher = make(handlers=handlers)
    response = run(dispatcher.dispatch_async(with_id(qmp("query-async"), variant)))
    expect_echo(response, {"return": {"running": False, "status": "paused"}}, variant)
    assert handlers.calls == [("query-async", None)]


def test_dispatch_async_runs_sync_handlers_and_errors() -> None:
    dispatcher = make(NEGOTIATION)
    assert run(dispatcher.dispatch_async(qmp("stop", id=1))) == {
        **error(EXPECTING, NOT_FOUND),
        "id": 1,
    }
    assert run(dispatcher.dispatch_async(qmp("qmp_capabilities"))) == {"return": {}}
    assert run(dispatcher.dispatch_async(qmp("query-status"))) == {
        "return": {"running": True, "status": "running"}
    }
    assert run(dispatcher.dispatch_async(qmp("guest-shutdown"))) is None
    assert run(dispatcher.dispatch_async([])) == error("QMP input must be a JSON object")
    assert run(dispatcher.dispatch_async(qmp("eject", {"device": "cd0"}, id=[2]))) == {
        **error("Device 'cd0' not found", "DeviceNotFound"),
        "id": [2],
    }
    assert run(dispatcher.dispatch_async(qmp("query-async-unimplemented", id=None))) == {
        **error("The command query-async-unimplemented has not been implemented"),
        "id": None,
    }
    assert run(dispatcher.dispatch_async(qmp("query-block-jobs"))) == error(
        "The command query-block-jobs has not been implemented"
    )


def test_async_handler_raising_qmp_error() -> None:
    async def fail(handlers: object, args: object) -> None:
        await asyncio.sleep(0)
        raise QMPError("Job not found")

    dispatcher = make(commands={"job-cancel": _spec("job-cancel", fail, coroutine=True)})
    assert run(dispatcher.dispatch_async(qmp("job-cancel", id=9))) == {
        **error("Job not found"),
        "id": 9,
    }


def test_sync_dispatch_of_async_handler() -> None:
    """dispatch() cannot await: it answers GenericError and closes the
    coroutine (no "never awaited" warning)."""
    dispatcher = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = dispatcher.dispatch(qmp("query-async", id="a"))
        gc.collect()
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert response is not None
    assert response["id"] == "a"
    assert response["error"]["class"] == GENERIC
    assert "query-async" in response["error"]["desc"]


# --------------------------------------------------------------------------
# Hypothesis: nothing makes dispatch() raise, and every answer is well formed.

FUZZ = hypothesis_settings(
    max_examples=400,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**65), max_value=2**65)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=16,
)
MEMBER_NAMES = sorted(
    {
        "node",
        "name",
        "granularity",
        "persistent",
        "disabled",
        "target",
        "bitmaps",
        "job-id",
        "speed",
        "x-perf",
        "device",
        "mode",
        "enable",
    }
)
# Values that get past the first type checks, to reach deeper ones.
plausible_values = (
    st.sampled_from(["disk0", "b0", "oob", "x-test", "halt", "j"])
    | st.sampled_from([0, 512, 65536, 2**32, -1, 2**64, True, False, None])
    | st.lists(
        st.sampled_from(["oob", "b1", "foo", 3])
        | st.fixed_dictionaries({"node": st.sampled_from(["disk1", 1]), "name": st.just("b2")}),
        max_size=3,
    )
)
argument_objects = st.dictionaries(
    st.sampled_from(MEMBER_NAMES) | st.text(max_size=4),
    plausible_values | json_values,
    max_size=5,
)
command_names = st.sampled_from(["qmp_capabilities", *COMMANDS]) | st.text(max_size=6)
REQUEST_KEYS = ["execute", "exec-oob", "arguments", "id"]


@st.composite
def requests(draw: st.DrawFn) -> dict[str, object]:
    """Objects with random members, in random order, mostly the right ones."""
    keys = draw(
        st.lists(st.sampled_from(REQUEST_KEYS) | st.text(max_size=5), unique=True, max_size=4)
    )
    request: dict[str, object] = {}
    for key in keys:
        if key in ("execute", "exec-oob"):
            request[key] = draw(command_names | json_values)
        elif key == "arguments":
            request[key] = draw(argument_objects | st.just({}) | json_values)
        else:
            request[key] = draw(json_values)
    return request


@st.composite
def dispatchers(draw: st.DrawFn) -> Dispatcher:
    return make(
        draw(st.sampled_from([NEGOTIATION, COMMAND, OOB, OOB_OFFERED])),
        commands=draw(st.sampled_from([COMMANDS, COMMANDS_WITH_CAPABILITIES])),
        compat=draw(st.sampled_from([CompatPolicy(), REJECT_DEPRECATED, REJECT_UNSTABLE, REJECT])),
        disabled=draw(
            st.dictionaries(
                st.sampled_from(sorted(COMMANDS)), st.none() | st.text(max_size=5), max_size=3
            )
        ),
    )


valid_requests = st.builds(
    lambda name, ident: qmp(name, VALID_ARGUMENTS.get(name, OMIT), **ident),
    st.sampled_from(["qmp_capabilities", *COMMANDS]),
    st.just({}) | st.builds(lambda v: {"id": v}, json_values),
)
messages = st.lists(valid_requests | requests() | json_values, min_size=1, max_size=8)


def dispatch_checked(dispatcher: Dispatcher, request: object) -> None:
    negotiated = dispatcher.negotiated
    before = copy.deepcopy(request)
    response = dispatcher.dispatch(request)
    assert request == before  # the request is left alone
    check_response(request, response, negotiated)
    if negotiated:
        assert dispatcher.negotiated  # nothing goes back to negotiation mode


def check_response(request: object, response: Response | None, negotiated: bool) -> None:
    """The shape of every answer (A.3 to A.5)."""
    if response is None:
        # Only a successful command with success-response false.
        assert isinstance(request, dict)
        name = request.get("execute", request.get("exec-oob"))
        assert name in NO_RESPONSE
        assert negotiated
        return
    assert type(response) is dict
    json.dumps(response)  # plain JSON values only
    if isinstance(request, dict) and "id" in request:
        assert response.keys() in ({"return", "id"}, {"error", "id"})
        assert response["id"] is request["id"]
    else:
        assert response.keys() in ({"return"}, {"error"})
    if "error" in response:
        err = response["error"]
        assert type(err) is dict
        assert err.keys() == {"class", "desc"}
        assert err["class"] in ERROR_CLASSES
        assert type(err["desc"]) is str
        assert err["desc"]
        if not negotiated and err["class"] == NOT_FOUND:
            assert err["desc"] == EXPECTING
        if not isinstance(request, dict):
            assert err == {"class": GENERIC, "desc": "QMP input must be a JSON object"}
    elif not negotiated:
        assert isinstance(request, dict)
        assert request.get("execute") == "qmp_capabilities"
        assert response["return"] == {}


@FUZZ
@given(dispatcher=dispatchers(), session=messages)
def test_dispatch_never_raises(dispatcher: Dispatcher, session: list[object]) -> None:
    for request in session:
        dispatch_checked(dispatcher, request)


@settings(hypothesis_settings(FUZZ, max_examples=150))
@given(dispatcher=dispatchers(), session=messages)
def test_dispatch_async_never_raises(dispatcher: Dispatcher, session: list[object]) -> None:
    async def play() -> None:
        for request in session:
            negotiated = dispatcher.negotiated
            check_response(request, await dispatcher.dispatch_async(request), negotiated)

    asyncio.run(play())


@FUZZ
@given(value=json_values)
def test_any_json_value(value: object) -> None:
    for state in (NEGOTIATION, COMMAND, OOB):
        dispatch_checked(make(state), value)
