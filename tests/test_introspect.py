"""``query-qmp-schema`` output: QEMU's golden files, and the rules behind them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qapigen import load_schema
from qapigen.backends.introspect import introspect
from qapigen.dialect import Dialect
from qapigen.frontend.expression import Expression
from qapigen.frontend.source import SourceInfo
from qapigen.ir import Schema, build_schema
from tests.conftest import CORPUS, needs_corpus

_METAS = ("enum", "struct", "union", "alternate", "command", "event")


def _build(*definitions: dict[str, Any], dialect: Dialect = Dialect.QEMU) -> Schema:
    exprs = []
    for line, definition in enumerate(definitions, 1):
        info = SourceInfo("test.json", None, line)
        meta = next(m for m in _METAS if m in definition)
        info.set_defn(meta, definition[meta])
        exprs.append(Expression(definition, info))
    return build_schema(exprs, [], dialect, fname="test.json")


@needs_corpus
@pytest.mark.parametrize(
    ("release", "dialect"), [("qemu-10.2", Dialect.QEMU), ("qemu-3.1", Dialect.LEGACY)]
)
def test_golden(release: str, dialect: Dialect) -> None:
    schema = load_schema(str(CORPUS / release / "qapi" / "qapi-schema.json"), dialect)
    expected = json.loads((CORPUS / release / "expected" / "introspect.json").read_text())
    got = introspect(schema)
    assert json.loads(json.dumps(got)) == got  # plain JSON values only
    # Compare entry by entry first: a failure then names the first difference.
    for got_info, expected_info in zip(got, expected, strict=False):
        assert got_info == expected_info
    assert len(got) == len(expected)


_SCHEMA = (
    {"enum": "Color", "data": ["red", {"name": "green", "if": "GREEN", "features": ["f"]}]},
    {
        "struct": "Paint",
        "data": {
            "color": "Color",
            "*count": "uint8",
            "*layers": ["int16"],
            "*shine": {"type": "number", "if": "SHINE"},
        },
    },
    {"struct": "Unused", "data": {}},
    {"command": "paint", "data": "Paint", "boxed": True, "returns": ["Paint"]},
    {"command": "ping", "allow-oob": True, "features": ["unstable"]},
    {"event": "PAINTED", "data": {"when": "size"}, "if": "EVENTS"},
)


def test_order_and_shapes() -> None:
    infos = introspect(_build(*_SCHEMA))
    assert infos == [
        {"name": "paint", "meta-type": "command", "arg-type": "Paint", "ret-type": "[Paint]"},
        {
            "name": "ping",
            "meta-type": "command",
            "arg-type": "q_empty",
            "ret-type": "q_empty",
            "allow-oob": True,
            "features": ["unstable"],
        },
        {"name": "PAINTED", "meta-type": "event", "arg-type": "q_obj_PAINTED-arg"},
        {
            "name": "Paint",
            "meta-type": "object",
            "members": [
                {"name": "color", "type": "Color"},
                {"name": "count", "type": "int", "default": None},
                {"name": "layers", "type": "[int]", "default": None},
                {"name": "shine", "type": "number", "default": None},
            ],
        },
        {"name": "[Paint]", "meta-type": "array", "element-type": "Paint"},
        {"name": "q_empty", "meta-type": "object", "members": []},
        {
            "name": "q_obj_PAINTED-arg",
            "meta-type": "object",
            "members": [
                {"name": "when", "type": "int"},
            ],
        },
        {
            "name": "Color",
            "meta-type": "enum",
            "members": [{"name": "red"}, {"name": "green", "features": ["f"]}],
            "values": ["red", "green"],
        },
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
        {"name": "[int]", "meta-type": "array", "element-type": "int"},
        {"name": "number", "meta-type": "builtin", "json-type": "number"},
    ]


def test_conditions_against_defined_symbols() -> None:
    infos = introspect(_build(*_SCHEMA), defined={"SHINE"})
    names = [i["name"] for i in infos]
    assert "PAINTED" not in names and "q_obj_PAINTED-arg" not in names
    paint = next(i for i in infos if i["name"] == "Paint")
    members = paint["members"]
    assert isinstance(members, list)
    assert [m["name"] for m in members if isinstance(m, dict)] == [
        "color",
        "count",
        "layers",
        "shine",
    ]
    color = next(i for i in infos if i["name"] == "Color")
    assert color["values"] == ["red"]
    # Types are listed when used, even by something configured away.
    assert "int" in names


def test_legacy_enums_list_values_only() -> None:
    schema = _build(
        {"enum": "E", "data": ["a"]},
        {"union": "U", "data": {"e": "E"}},
        {"command": "c", "data": {"u": "U"}},
        dialect=Dialect.LEGACY,
    )
    infos = {i["name"]: i for i in introspect(schema)}
    assert infos["E"] == {"name": "E", "meta-type": "enum", "values": ["a"]}
    assert infos["U"] == {
        "name": "U",
        "meta-type": "object",
        "members": [{"name": "type", "type": "UKind"}],
        "tag": "type",
        "variants": [{"case": "e", "type": "q_obj_E-wrapper"}],
    }
    assert infos["q_obj_E-wrapper"]["members"] == [{"name": "data", "type": "E"}]


# Every kind of entity, with conditions and features everywhere, to check
# introspection against a set of defined symbols value by value (the golden
# files take every condition as true).
_CONDITIONAL = (
    {"enum": "Kind", "data": ["a", {"name": "b", "if": "X", "features": [
        {"name": "fb", "if": "X"}, "fb2"]}], "features": [{"name": "fk", "if": "X"}]},
    {"struct": "Opt", "data": {}, "if": "X", "features": ["fo"]},
    {"struct": "Base", "data": {"kind": "Kind", "*m": {"type": "str", "if": "X",
        "features": [{"name": "fm", "if": "X"}, "fm2"]}}},
    {"union": "Uni", "base": "Base", "discriminator": "kind",
     "data": {"a": "Opt", "b": {"type": "Opt", "if": "X"}}, "features": [{"name": "fu", "if": "X"}]},
    {"alternate": "Alt", "data": {"s": "str", "o": {"type": "Opt", "if": "X"}},
     "features": [{"name": "fa", "if": "X"}, "fa2"]},
    {"alternate": "AltX", "data": {"n": "number", "o": "Opt"}, "if": "X"},
    {"enum": "EnumX", "data": ["e"], "if": "X"},
    {"struct": "Args", "data": {"u": "Uni", "*alt": "Alt",
        "*old": {"type": ["Opt"], "if": "X"}, "*altx": {"type": "AltX", "if": "X"},
        "*ex": {"type": "EnumX", "if": "X"}}},
    {"command": "cmd", "data": "Args", "boxed": True,
     "features": [{"name": "fc", "if": "X"}, "fc2"]},
    {"command": "cmdx", "if": "X", "allow-oob": True},
    {"event": "EVX", "if": "X", "data": {"k": "Kind"}},
    {"event": "EV", "features": [{"name": "fe", "if": "X"}, "fe2"]},
)  # fmt: skip


def test_conditions_and_features_everywhere_without_x() -> None:
    """Everything under 'if': 'X' is left out: entities, members, enum
    values, branches, alternatives and features.  Types used only by
    something left out are still listed when they have no condition of
    their own (number, used by AltX), as QEMU does."""
    infos = introspect(_build(*_CONDITIONAL), defined=set())
    assert infos == [
        {"arg-type": "Args", "ret-type": "q_empty", "name": "cmd", "meta-type": "command",
         "features": ["fc2"]},
        {"arg-type": "q_empty", "name": "EV", "meta-type": "event", "features": ["fe2"]},
        {"members": [{"name": "u", "type": "Uni"}, {"name": "alt", "type": "Alt", "default": None}],
         "name": "Args", "meta-type": "object"},
        {"members": [], "name": "q_empty", "meta-type": "object"},
        {"members": [{"name": "kind", "type": "Kind"}], "tag": "kind",
         "variants": [{"case": "a", "type": "Opt"}], "name": "Uni", "meta-type": "object"},
        {"members": [{"type": "str"}], "name": "Alt", "meta-type": "alternate",
         "features": ["fa2"]},
        {"members": [{"name": "a"}], "values": ["a"], "name": "Kind", "meta-type": "enum"},
        {"json-type": "string", "name": "str", "meta-type": "builtin"},
        {"json-type": "number", "name": "number", "meta-type": "builtin"},
    ]  # fmt: skip


def test_conditions_and_features_everywhere_with_x() -> None:
    infos = introspect(_build(*_CONDITIONAL), defined={"X"})
    assert infos == [
        {"arg-type": "Args", "ret-type": "q_empty", "name": "cmd", "meta-type": "command",
         "features": ["fc", "fc2"]},
        {"arg-type": "q_empty", "ret-type": "q_empty", "allow-oob": True, "name": "cmdx",
         "meta-type": "command"},
        {"arg-type": "q_obj_EVX-arg", "name": "EVX", "meta-type": "event"},
        {"arg-type": "q_empty", "name": "EV", "meta-type": "event", "features": ["fe", "fe2"]},
        {"members": [{"name": "u", "type": "Uni"}, {"name": "alt", "type": "Alt", "default": None},
                     {"name": "old", "type": "[Opt]", "default": None},
                     {"name": "altx", "type": "AltX", "default": None},
                     {"name": "ex", "type": "EnumX", "default": None}],
         "name": "Args", "meta-type": "object"},
        {"members": [], "name": "q_empty", "meta-type": "object"},
        {"members": [{"name": "k", "type": "Kind"}], "name": "q_obj_EVX-arg",
         "meta-type": "object"},
        {"members": [{"name": "kind", "type": "Kind"},
                     {"name": "m", "type": "str", "default": None, "features": ["fm", "fm2"]}],
         "tag": "kind", "variants": [{"case": "a", "type": "Opt"}, {"case": "b", "type": "Opt"}],
         "name": "Uni", "meta-type": "object", "features": ["fu"]},
        {"members": [{"type": "str"}, {"type": "Opt"}], "name": "Alt", "meta-type": "alternate",
         "features": ["fa", "fa2"]},
        {"element-type": "Opt", "name": "[Opt]", "meta-type": "array"},
        {"members": [], "name": "Opt", "meta-type": "object", "features": ["fo"]},
        {"members": [{"type": "number"}, {"type": "Opt"}], "name": "AltX",
         "meta-type": "alternate"},
        {"members": [{"name": "e"}], "values": ["e"], "name": "EnumX", "meta-type": "enum"},
        {"members": [{"name": "a"}, {"name": "b", "features": ["fb", "fb2"]}],
         "values": ["a", "b"], "name": "Kind", "meta-type": "enum", "features": ["fk"]},
        {"json-type": "string", "name": "str", "meta-type": "builtin"},
        {"json-type": "number", "name": "number", "meta-type": "builtin"},
    ]  # fmt: skip
    # Key order as QEMU writes it: the kind's own keys, then name,
    # meta-type and features.
    assert [list(i) for i in infos[:2]] == [
        ["arg-type", "ret-type", "name", "meta-type", "features"],
        ["arg-type", "ret-type", "allow-oob", "name", "meta-type"],
    ]
    assert list(infos[-3]) == ["members", "values", "name", "meta-type", "features"]
    assert [i["name"] for i in infos].count("EnumX") == 1


def test_legacy_member_features_are_listed_as_5x_listed_them() -> None:
    """Member features came with QEMU 5.0, whose introspection lists them
    (as 5.2's qapi-gen.py does); a legacy schema that has them is of 5.x."""
    schema = _build(
        {"struct": "S", "data": {"m": {"type": "int", "features": ["f"]}}},
        {"command": "c", "data": "S", "boxed": True},
        dialect=Dialect.LEGACY,
    )
    infos = {i["name"]: i for i in introspect(schema)}
    assert infos["S"] == {
        "name": "S", "meta-type": "object",
        "members": [{"name": "m", "type": "int", "features": ["f"]}],
    }  # fmt: skip
