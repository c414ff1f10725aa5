"""Direct tests of qapigen.support: the pieces generated code calls.

Most of this module is exercised through generated packages (see
test_roundtrip.py and test_dispatch.py); the tests here pin what those
leave implicit, found by mutation testing (docs/mutation.md): factories
that module import runs once, the compat policy's flags one by one, the
reprs of the sentinels, and the bare-name half of the error messages.
"""

from __future__ import annotations

import copy
import enum
import pickle
from typing import Any

import pytest

from qapigen.support import MISSING, NULL, Null, QMPError, codec, policy, wire
from qapigen.support.dispatch import CommandSpec, Dispatcher, no_arguments
from qapigen.support.enums import WireEnum
from qapigen.support.policy import CompatPolicy, PolicyCrash, policy_in_force


def _error(fn: Any, *args: Any) -> str:
    with pytest.raises(QMPError) as excinfo:
        fn(*args)
    assert excinfo.value.error_class == "GenericError"
    return str(excinfo.value)


def test_qmp_error() -> None:
    err = QMPError("went wrong", "DeviceNotFound")
    assert (str(err), err.desc, err.error_class) == ("went wrong", "went wrong", "DeviceNotFound")
    assert err.to_wire() == {"class": "DeviceNotFound", "desc": "went wrong"}
    assert QMPError("x").to_wire() == {"class": "GenericError", "desc": "x"}
    with pytest.raises(ValueError) as excinfo:
        QMPError("x", "Bogus")
    assert str(excinfo.value) == "unknown QMP error class 'Bogus'"


# -- sentinels -------------------------------------------------------------------------


def test_null_is_one_singleton_that_survives_copy_and_pickle() -> None:
    assert Null() is NULL
    assert repr(NULL) == "NULL" and repr(MISSING) == "MISSING"
    assert copy.copy(NULL) is NULL and copy.deepcopy(NULL) is NULL
    assert pickle.loads(pickle.dumps(NULL)) is NULL
    assert NULL.__reduce__() == "NULL"


# -- integer decoders built by factories at import time ----------------------------------


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_signed_decoder_factory(bits: int) -> None:
    decode = wire._signed(bits)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    assert decode(lo, "", "n") == lo and decode(hi, "", "n") == hi and decode(0, "", "n") == 0
    # Out of the type's range but a valid int64: "expects intN_t", bare name.
    assert _error(decode, hi + 1, ("args", "n"), "n") == f"Parameter 'n' expects int{bits}_t"
    assert _error(decode, lo - 1, ("args", "n"), "n") == f"Parameter 'n' expects int{bits}_t"
    # Not an int64 at all: the integer type error, with the full path.
    assert _error(decode, 2**63, ("args", "n"), "n") == (
        "Invalid parameter type for 'args.n', expected: integer"
    )
    assert _error(decode, "1", "", "n") == "Invalid parameter type for 'n', expected: integer"
    assert _error(decode, True, "", "n") == "Invalid parameter type for 'n', expected: integer"


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_unsigned_decoder_factory(bits: int) -> None:
    decode = wire._unsigned(bits)
    hi = 2**bits - 1
    assert decode(0, "", "n") == 0 and decode(hi, "", "n") == hi
    assert _error(decode, hi + 1, ("args", "n"), "n") == f"Parameter 'n' expects uint{bits}_t"
    # Negative numbers wrap modulo 2**64 (QEMU's compatibility rule), which
    # is then out of range for the narrower type.
    assert _error(decode, -1, ("args", "n"), "n") == f"Parameter 'n' expects uint{bits}_t"
    assert _error(decode, 2**64, ("args", "n"), "n") == "Parameter 'args.n' expects uint64"
    assert _error(decode, 1.0, "", "n") == "Parameter 'n' expects uint64"


def test_the_module_level_integer_decoders() -> None:
    assert _error(wire.int8_value, 128, "", "x") == "Parameter 'x' expects int8_t"
    assert _error(wire.int16_value, -32769, "", "x") == "Parameter 'x' expects int16_t"
    assert _error(wire.int32_value, 2**31, "", "x") == "Parameter 'x' expects int32_t"
    assert _error(wire.uint8_value, 256, "", "x") == "Parameter 'x' expects uint8_t"
    assert _error(wire.uint16_value, 65536, "", "x") == "Parameter 'x' expects uint16_t"
    assert _error(wire.uint32_value, 2**32, "", "x") == "Parameter 'x' expects uint32_t"
    assert wire.int64_value is wire.int_value
    assert wire.uint64_value(-1, "", "x") == 2**64 - 1
    assert _error(wire.uint64_value, "1", "", "x") == "Parameter 'x' expects uint64"
    assert _error(wire.uint64_value, 2**64, ("o", "x"), "x") == "Parameter 'o.x' expects uint64"
    assert _error(wire.size_value, "1", "", "x") == "Parameter 'x' expects uint64"
    assert _error(wire.int_value, 2**63, "", "x") == (
        "Invalid parameter type for 'x', expected: integer"
    )
    assert wire.size_value(-(2**63), "", "x") == 2**63
    assert _error(wire.size_value, -(2**63) - 1, "", "x") == "Parameter 'x' expects uint64"


# -- list decoders -------------------------------------------------------------------------


def test_list_decoder_reports_the_bare_name_for_a_non_list() -> None:
    decode = wire.list_decoder(wire.str_value)
    assert decode(["a", "b"], "", "xs") == ["a", "b"]
    assert _error(decode, "a", "", "xs") == "Invalid parameter type for 'xs', expected: array"
    assert _error(decode, ["a", 1], ("o", "xs"), "xs") == (
        "Invalid parameter type for 'o.xs[1]', expected: string"
    )


# -- members with the deprecated or unstable feature ----------------------------------------

REJECT_BOTH = CompatPolicy(deprecated_input="reject", unstable_input="reject")


@pytest.mark.parametrize("fn", [wire.req_special, wire.opt_special])
def test_special_member_checks_the_policy_only_when_present(fn: Any) -> None:
    d = {"x": 1}
    with policy_in_force(REJECT_BOTH):
        assert _error(fn, d, "x", "", wire.int_value, True, False) == (
            "Deprecated parameter x disabled by policy"
        )
        assert _error(fn, d, "x", "", wire.int_value, False, True) == (
            "Unstable parameter x disabled by policy"
        )
        # Absent: no policy check (and the usual missing/None outcome).
        if fn is wire.opt_special:
            assert fn({}, "x", "", wire.int_value, True, True) is None
        else:
            assert _error(fn, {}, "x", "", wire.int_value, True, True) == (
                "Parameter 'x' is missing"
            )
    assert fn(d, "x", "", wire.int_value, True, True) == 1  # default policy: accept


def test_check_value_passes_both_flags() -> None:
    with policy_in_force(CompatPolicy(unstable_input="reject")):
        policy.check_value("v", True, False)
        assert _error(policy.check_value, "v", False, True) == "Unstable value v disabled by policy"
    with policy_in_force(CompatPolicy(deprecated_input="reject")):
        policy.check_value("v", False, True)
        assert _error(policy.check_value, "v", True, False) == (
            "Deprecated value v disabled by policy"
        )


def test_check_member_passes_both_flags() -> None:
    with policy_in_force(CompatPolicy(unstable_input="reject")):
        policy.check_member("m", True, False)
        assert _error(policy.check_member, "m", False, True) == (
            "Unstable parameter m disabled by policy"
        )
    with policy_in_force(CompatPolicy(deprecated_input="crash")), pytest.raises(PolicyCrash) as crash:
        policy.check_member("m", True, False)
    assert str(crash.value) == "Deprecated parameter m used under policy 'crash'"


def test_check_input_error_class_and_crash_texts() -> None:
    strict = CompatPolicy(deprecated_input="reject", unstable_input="crash")
    with pytest.raises(QMPError) as excinfo:
        strict.check_input("command", "c", True, False, error_class="CommandNotFound")
    assert (str(excinfo.value), excinfo.value.error_class) == (
        "Deprecated command c disabled by policy", "CommandNotFound",
    )  # fmt: skip
    with pytest.raises(PolicyCrash) as crash:
        strict.check_input("command", "c", False, True)
    assert str(crash.value) == "Unstable command c used under policy 'crash'"
    # Both flags: the deprecated check comes first.
    with pytest.raises(QMPError) as excinfo:
        strict.check_input("value", "v", True, True)
    assert str(excinfo.value) == "Deprecated value v disabled by policy"
    CompatPolicy().check_input("command", "c", True, True)


@pytest.mark.parametrize(
    ("deprecated_output", "unstable_output", "deprecated", "unstable", "hidden"),
    [
        ("accept", "accept", True, True, False),
        ("hide", "accept", True, False, True),
        ("hide", "accept", False, True, False),
        ("hide", "accept", False, False, False),
        ("accept", "hide", False, True, True),
        ("accept", "hide", True, False, False),
        ("hide", "hide", False, False, False),
        ("hide", "hide", True, True, True),
    ],
)
def test_output_policy_hides(
    deprecated_output: Any, unstable_output: Any, deprecated: bool, unstable: bool, hidden: bool
) -> None:
    compat = CompatPolicy(deprecated_output=deprecated_output, unstable_output=unstable_output)
    assert compat.hides(deprecated, unstable) is hidden


def test_policy_in_force_is_restored_after_an_error() -> None:
    assert policy.current_policy() is policy.DEFAULT_POLICY
    with pytest.raises(RuntimeError), policy_in_force(REJECT_BOTH):
        assert policy.current_policy() is REJECT_BOTH
        raise RuntimeError
    assert policy.current_policy() is policy.DEFAULT_POLICY


# -- enums -----------------------------------------------------------------------------------


class Color(WireEnum):
    RED = "red"
    OLD = "old"
    NEW = "x-new"


Color.__special__ = {"old": (True, False), "x-new": (False, True)}


def test_wire_enum_decodes_and_checks_special_values() -> None:
    assert Color.from_wire("red") is Color.RED and Color.RED.to_wire() == "red"
    assert _error(Color.from_wire, "blue", ("a", "c"), "c") == (
        "Parameter 'c' does not accept value 'blue'"
    )
    assert _error(Color.from_wire, 1, ("a", "c"), "c") == (
        "Invalid parameter type for 'a.c', expected: string"
    )
    with policy_in_force(REJECT_BOTH):
        assert Color.from_wire("red") is Color.RED
        assert _error(Color.from_wire, "old") == "Deprecated value old disabled by policy"
        assert _error(Color.from_wire, "x-new") == "Unstable value x-new disabled by policy"
        assert _error(wire.req_enum, {"c": "old"}, "c", "", Color) == (
            "Deprecated value old disabled by policy"
        )
        assert _error(wire.opt_enum, {"c": "x-new"}, "c", "", Color) == (
            "Unstable value x-new disabled by policy"
        )
    # The defaults: the arguments object itself, bare name "null".
    assert _error(Color.from_wire, "blue") == "Parameter 'null' does not accept value 'blue'"
    assert _error(Color.from_wire, 1) == "Invalid parameter type for 'null', expected: string"
    assert wire.req_enum({"c": "old"}, "c", "", Color) is Color.OLD
    assert wire.opt_enum({}, "c", "", Color) is None


class Plain(enum.Enum):
    A = "a"


def test_enum_value_on_a_plain_enum() -> None:
    assert wire.enum_value(Plain, "a", "", "p") is Plain.A
    assert _error(wire.enum_value, Plain, "b", "", "p") == "Parameter 'p' does not accept value 'b'"


# -- codecs ----------------------------------------------------------------------------------


def test_builtin_codecs() -> None:
    assert sorted(codec.BUILTINS) == sorted([
        "str", "number", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        "uint64", "size", "bool", "null", "any",
    ])  # fmt: skip
    for name, c in codec.BUILTINS.items():
        assert (c.name, c.kind) == (name, "builtin")
    assert codec.BUILTINS["null"].from_wire(None) is NULL
    assert codec.BUILTINS["null"].to_wire(NULL) is None
    assert codec.BUILTINS["any"].to_wire({"a": NULL}) == {"a": NULL}
    assert codec.BUILTINS["int8"].from_wire(-128) == -128
    assert _error(codec.BUILTINS["uint8"].from_wire, 256, ("o", "m"), "m") == (
        "Parameter 'm' expects uint8_t"
    )
    assert _error(codec.BUILTINS["str"].from_wire, 1) == (
        "Invalid parameter type for 'null', expected: string"
    )


class Box:
    def __init__(self, v: int) -> None:
        self.v = v

    @classmethod
    def from_wire(cls, value: object, path: wire.Path = "", name: str = "null") -> Box:
        return cls(wire.int_value(value, path, name))

    def to_wire(self) -> object:
        return self.v


def test_array_codec_of_a_class_and_of_a_codec() -> None:
    boxes = codec.array_codec("[Box]", Box)
    assert (boxes.name, boxes.kind) == ("[Box]", "array")
    decoded = boxes.from_wire([1, 2], ("o", "xs"), "xs")
    assert [b.v for b in decoded] == [1, 2]
    assert boxes.to_wire(decoded) == [1, 2]
    assert _error(boxes.from_wire, [1, "2"], ("o", "xs"), "xs") == (
        "Invalid parameter type for 'o.xs[1]', expected: integer"
    )
    assert _error(boxes.from_wire, 1, "", "xs") == "Invalid parameter type for 'xs', expected: array"
    nulls = codec.array_codec("[null]", codec.BUILTINS["null"])
    assert nulls.from_wire([None]) == [NULL]
    assert nulls.to_wire([NULL]) == [None]
    assert codec.encode_object(Box(3)) == 3


# -- dispatcher state ------------------------------------------------------------------------


def test_reset_returns_to_negotiation_mode() -> None:
    spec = CommandSpec(name="ping", call=lambda handlers, args: None, decode=no_arguments)
    dispatcher = Dispatcher(handlers=object(), commands={"ping": spec}, oob_offered=True)
    assert dispatcher.dispatch({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}})
    assert (dispatcher.negotiated, dispatcher.oob_enabled) == (True, True)
    dispatcher.reset()
    assert dispatcher.negotiated is False and dispatcher.oob_enabled is False
    assert dispatcher.dispatch({"execute": "ping"}) == {
        "error": {
            "class": "CommandNotFound",
            "desc": "Expecting capabilities negotiation with 'qmp_capabilities'",
        }
    }


# -- member helpers, called directly -------------------------------------------------------
#
# Generated decoders inline the fast path and call these helpers only when
# it misses; here each helper's own fast path and every outcome is pinned.


@pytest.mark.parametrize(
    ("helper", "good", "kind"),
    [(wire.req_str, "s", "string"), (wire.opt_str, "s", "string"),
     (wire.req_bool, False, "boolean"), (wire.opt_bool, True, "boolean")],
)  # fmt: skip
def test_member_helpers(helper: Any, good: object, kind: str) -> None:
    required = helper in (wire.req_str, wire.req_bool)
    assert helper({"m": good}, "m", "") == good
    assert helper({"m": good, "n": 1}, "m", ("o", "p")) == good
    assert _error(helper, {"m": 1}, "m", ("o", "p")) == (
        f"Invalid parameter type for 'o.p.m', expected: {kind}"
    )
    assert _error(helper, {"m": None}, "m", "") == (
        f"Invalid parameter type for 'm', expected: {kind}"
    )
    if required:
        assert _error(helper, {}, "m", ("o", "p")) == "Parameter 'o.p.m' is missing"
    else:
        assert helper({}, "m", "") is None


def test_generic_member_helpers() -> None:
    assert wire.req({"m": 5}, "m", "", wire.int_value) == 5
    assert _error(wire.req, {}, "m", "o", wire.int_value) == "Parameter 'o.m' is missing"
    assert _error(wire.req, {"m": "x"}, "m", "o", wire.int_value) == (
        "Invalid parameter type for 'o.m', expected: integer"
    )
    assert wire.opt({}, "m", "", wire.int_value) is None
    assert wire.opt({"m": None}, "m", "", wire.any_value) is NULL
    assert _error(wire.opt, {"m": None}, "m", "", wire.int_value) == (
        "Invalid parameter type for 'm', expected: integer"
    )
    assert wire.req_list({"m": [1]}, "m", "", wire.int_value) == [1]
    assert _error(wire.req_list, {}, "m", "o", wire.int_value) == "Parameter 'o.m' is missing"
    assert _error(wire.req_list, {"m": 1}, "m", "o", wire.int_value) == (
        "Invalid parameter type for 'o.m', expected: array"
    )
    assert _error(wire.req_list, {"m": [1, "x"]}, "m", "o", wire.int_value) == (
        "Invalid parameter type for 'o.m[1]', expected: integer"
    )
    assert wire.opt_list({}, "m", "", wire.int_value) is None
    assert wire.opt_list({"m": []}, "m", "", wire.int_value) == []
    assert _error(wire.opt_list, {"m": {}}, "m", "", wire.int_value) == (
        "Invalid parameter type for 'm', expected: array"
    )


def test_enum_member_helpers() -> None:
    assert wire.req_enum({"c": "red"}, "c", "", Color) is Color.RED
    assert wire.opt_enum({"c": "red"}, "c", "", Color) is Color.RED
    assert _error(wire.req_enum, {}, "c", "o", Color) == "Parameter 'o.c' is missing"
    assert _error(wire.req_enum, {"c": "blue"}, "c", "o", Color) == (
        "Parameter 'c' does not accept value 'blue'"
    )
    assert _error(wire.opt_enum, {"c": "blue"}, "c", "o", Color) == (
        "Parameter 'c' does not accept value 'blue'"
    )
    assert _error(wire.req_enum, {"c": 1}, "c", "o", Color) == (
        "Invalid parameter type for 'o.c', expected: string"
    )
    assert _error(wire.opt_enum, {"c": None}, "c", "o", Color) == (
        "Invalid parameter type for 'o.c', expected: string"
    )


def test_object_helpers() -> None:
    d = {"a": 1}
    assert wire.object_(d, "") is d
    assert _error(wire.object_, [], "") == "Invalid parameter type for 'null', expected: object"
    assert _error(wire.object_, 1, ("o", "p")) == (
        "Invalid parameter type for 'o.p', expected: object"
    )
    assert str(wire.not_an_object("")) == "Invalid parameter type for 'null', expected: object"
    assert str(wire.not_an_object("x")) == "Invalid parameter type for 'x', expected: object"
    known = frozenset({"a", "b"})
    wire.check_extra({"a": 1, "b": 2}, known, "")
    wire.report_extra({"a": 1}, known, "")
    for check in (wire.check_extra, wire.report_extra):
        assert _error(check, {"a": 1, "z": 2, "y": 3}, known, ("o", "p")) == (
            "Parameter 'o.p.z' is unexpected"
        )
    instance = wire.new_object(Box)
    assert type(instance) is Box and not hasattr(instance, "v")


def test_scalar_decoders() -> None:
    assert wire.str_value("s", "", "n") == "s"
    assert wire.bool_value(True, "", "n") is True
    assert wire.number_value(1, "", "n") == 1.0 and type(wire.number_value(1, "", "n")) is float
    assert wire.number_value(0.5, "", "n") == 0.5
    assert wire.null_value(None, "", "n") is NULL
    assert wire.any_value(None, "", "n") is NULL and wire.any_value([1], "", "n") == [1]
    for decode, value, kind in (
        (wire.str_value, 1, "string"), (wire.bool_value, 1, "boolean"),
        (wire.number_value, "1", "number"), (wire.number_value, True, "number"),
        (wire.null_value, 0, "null"), (wire.int_value, 1.0, "integer"),
    ):  # fmt: skip
        assert _error(decode, value, "", "n") == f"Invalid parameter type for 'n', expected: {kind}"
        assert _error(decode, value, ("o", "n"), "n") == (
            f"Invalid parameter type for 'o.n', expected: {kind}"
        )


def test_paths_render_as_qemu_prints_them() -> None:
    assert wire.render("") == ""
    assert wire.render("top") == "top"
    assert wire.render(wire.join("", "a")) == "a"
    assert wire.render(wire.item(wire.join(wire.join("", "actions"), "x"), 0)) == "actions.x[0]"
    assert wire.render(wire.join(wire.item(wire.join("", "actions"), 2), "data")) == (
        "actions[2].data"
    )
    assert wire.render(wire.item("", 3)) == "[3]"
    assert wire.render(wire.join(wire.item("", 3), "n")) == "[3].n"
    assert wire.join("p", "n") == ("p", "n") and wire.item("p", 1) == ("p", 1)


def test_alternate_mismatch_and_encode_scalar() -> None:
    assert _error(wire.alternate_mismatch, "m", "StrOrNull") == (
        "Invalid parameter type for 'm', expected: StrOrNull"
    )
    assert wire.encode_scalar(NULL) is None
    assert wire.encode_scalar(0) == 0 and wire.encode_scalar("") == ""


class SubBox(Box):
    def to_wire(self) -> object:
        return {"sub": self.v}


def test_array_codec_encodes_each_element_by_its_own_class() -> None:
    boxes = codec.array_codec("[Box]", Box)
    assert boxes.to_wire([Box(1), SubBox(2)]) == [1, {"sub": 2}]


def test_paths_passed_on_by_the_member_helpers() -> None:
    assert _error(wire.req, {"m": 300}, "m", "o", wire.int8_value) == (
        "Parameter 'm' expects int8_t"
    )
    assert _error(wire.opt, {"m": "x"}, "m", ("o", "p"), wire.int_value) == (
        "Invalid parameter type for 'o.p.m', expected: integer"
    )
    assert _error(wire.opt_special, {"m": "x"}, "m", ("o", "p"), wire.int_value, False, False) == (
        "Invalid parameter type for 'o.p.m', expected: integer"
    )
    assert _error(wire.req_special, {"m": "x"}, "m", ("o", "p"), wire.int_value, False, False) == (
        "Invalid parameter type for 'o.p.m', expected: integer"
    )
    assert _error(wire.size_value, "1", ("o", "x"), "x") == "Parameter 'o.x' expects uint64"
    # The boundaries of int64, and uint64's top reaching a narrower type.
    assert wire.int_value(-(2**63), "", "x") == -(2**63)
    assert wire.int_value(2**63 - 1, "", "x") == 2**63 - 1
    assert _error(wire.int_value, -(2**63) - 1, "", "x") == (
        "Invalid parameter type for 'x', expected: integer"
    )
    assert _error(wire.uint8_value, 2**64 - 1, ("o", "n"), "n") == "Parameter 'n' expects uint8_t"
    assert wire.uint64_value(-(2**63), "", "x") == 2**63


# -- the dispatcher's built-in commands and handler lookup -----------------------------------


class Handlers:
    def ping(self, args: object) -> str:
        return "pong"


def _spec(name: str, **kwargs: Any) -> CommandSpec:
    return CommandSpec(name=name, decode=no_arguments, **kwargs)


def _negotiated(**kwargs: Any) -> Dispatcher:
    dispatcher = Dispatcher(**kwargs)
    assert dispatcher.dispatch({"execute": "qmp_capabilities"}) == {"return": {}}
    return dispatcher


def test_no_arguments() -> None:
    no_arguments({})
    assert _error(no_arguments, 1) == "Invalid parameter type for 'null', expected: object"
    assert _error(no_arguments, 1, ("o", "p")) == (
        "Invalid parameter type for 'o.p', expected: object"
    )
    assert _error(no_arguments, {"x": 1}) == "Parameter 'x' is unexpected"
    assert _error(no_arguments, {"x": 1}, "a") == "Parameter 'a.x' is unexpected"


def test_not_implemented_command() -> None:
    from qapigen.support.dispatch import NotImplementedCommand

    err = NotImplementedCommand("frob")
    assert (str(err), err.command) == ("frob", "frob")


def test_handler_method_lookup() -> None:
    commands = {
        "ping": _spec("ping", method="ping", call=lambda h, a: h.ping(a), encode=str),
        "pong": _spec("pong", method="pong", call=lambda h, a: h.pong(a), encode=str),
        "anon": _spec("anon", call=lambda h, a: "anonymous", encode=str),
    }
    dispatcher = _negotiated(handlers=Handlers(), commands=commands)
    assert dispatcher.dispatch({"execute": "ping", "id": 1}) == {"return": "pong", "id": 1}
    assert dispatcher.dispatch({"execute": "pong"}) == {
        "error": {"class": "GenericError", "desc": "The command pong has not been implemented"}
    }
    assert dispatcher.dispatch({"execute": "anon"}) == {"return": "anonymous"}


def test_qmp_capabilities_never_calls_a_handler() -> None:
    called: list[object] = []
    commands = {
        "qmp_capabilities": _spec(
            "qmp_capabilities", call=lambda h, a: called.append(a), method="qmp_capabilities",
            allow_preconfig=True,
        ),
    }  # fmt: skip
    _negotiated(handlers=object(), commands=commands)
    assert called == []


def test_query_qmp_schema_answers_schema_info_unencoded() -> None:
    info = [{"name": "ping", "meta-type": "command"}]
    commands = {
        "query-qmp-schema": _spec(
            "query-qmp-schema", call=lambda h, a: "from the handler",
            encode=lambda v: {"encoded": v},
        ),
        "ping": _spec("ping", method="ping", call=lambda h, a: h.ping(a), encode=lambda v: [v]),
    }  # fmt: skip
    dispatcher = _negotiated(handlers=Handlers(), commands=commands, schema_info=lambda: info)
    assert dispatcher.dispatch({"execute": "query-qmp-schema"}) == {"return": info}
    # Other commands are not affected by schema_info.
    assert dispatcher.dispatch({"execute": "ping"}) == {"return": ["pong"]}
    # Without schema_info, query-qmp-schema is an ordinary command.
    plain = _negotiated(handlers=Handlers(), commands=commands)
    assert plain.dispatch({"execute": "query-qmp-schema"}) == {
        "return": {"encoded": "from the handler"}
    }


def test_decoders_get_the_arguments_object_as_null() -> None:
    seen: list[tuple[object, object, object]] = []

    def decode(value: object, path: wire.Path, name: str) -> None:
        seen.append((value, path, name))

    dispatcher = _negotiated(handlers=object(), commands={
        "c": CommandSpec(name="c", decode=decode, call=lambda h, a: None)})  # fmt: skip
    dispatcher.dispatch({"execute": "c", "arguments": {"a": 1}})
    dispatcher.dispatch({"execute": "c"})
    assert seen == [({"a": 1}, "", "null"), ({}, "", "null")]


def test_preconfig_allows_only_preconfig_commands() -> None:
    commands = {
        "early": _spec("early", call=lambda h, a: None, allow_preconfig=True),
        "late": _spec("late", call=lambda h, a: None),
    }
    dispatcher = _negotiated(handlers=object(), commands=commands, preconfig=True)
    assert dispatcher.dispatch({"execute": "early"}) == {"return": {}}
    assert dispatcher.dispatch({"execute": "late", "id": "x"}) == {
        "error": {
            "class": "GenericError",
            "desc": "The command 'late' is permitted only after machine initialization "
            "has completed",
        },
        "id": "x",
    }


def test_capabilities_without_an_enable_member() -> None:
    """A schema's qmp_capabilities may take no arguments at all."""
    commands = {"qmp_capabilities": _spec("qmp_capabilities", call=lambda h, a: None,
                                          allow_preconfig=True)}  # fmt: skip
    dispatcher = _negotiated(handlers=object(), commands=commands)
    assert dispatcher.negotiated is True and dispatcher.oob_enabled is False


def test_sync_dispatch_of_an_awaitable_without_close() -> None:
    """A handler may return any awaitable (a Future has no close());
    dispatch() refuses it with one clear error."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        commands = {"slow": _spec("slow", call=lambda h, a: future)}
        dispatcher = _negotiated(handlers=object(), commands=commands)
        assert dispatcher.dispatch({"execute": "slow"}) == {
            "error": {
                "class": "GenericError",
                "desc": "The command slow has an asynchronous handler; "
                "dispatch it with dispatch_async()",
            }
        }
    finally:
        loop.close()
