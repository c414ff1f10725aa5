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
