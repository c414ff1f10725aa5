"""The IR: entities, checks, visit order and the test dump.

Most tests build expressions by hand (as the expression checks would hand
them on: raw, unnormalised, with ``info.set_defn`` done), so they exercise
the IR alone.  QEMU's whole front-end suite runs in ``test_corpus.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qapigen import load_schema
from qapigen.backends.dump import dump_schema
from qapigen.dialect import Dialect
from qapigen.errors import QAPIError
from qapigen.frontend.expression import Expression
from qapigen.frontend.source import SourceInfo
from qapigen.ir import (
    AlternateType,
    ArrayType,
    Command,
    EnumType,
    Event,
    IfAll,
    IfAny,
    IfCExpr,
    IfNot,
    IfOption,
    Module,
    ObjectType,
    Schema,
    SchemaVisitor,
    build_schema,
)
from qapigen.ir.entities import Entity
from qapigen.ir.ifcond import parse_ifcond
from qapigen.ir.naming import c_name
from tests import schema_by_eye as by_eye
from tests.conftest import CORPUS, needs_corpus

_METAS = ("enum", "struct", "union", "alternate", "command", "event")


def _expressions(
    *definitions: dict[str, Any], fname: str = "test.json", parent: SourceInfo | None = None
) -> list[Expression]:
    """Expressions as the checks hand them on, one per line of *fname*."""
    exprs = []
    for line, definition in enumerate(definitions, 1):
        info = SourceInfo(fname, parent, line)
        meta = next((m for m in _METAS if m in definition), None)
        if meta:
            info.set_defn(meta, definition[meta])
        exprs.append(Expression(definition, info))
    return exprs


def _build(*definitions: dict[str, Any], dialect: Dialect = Dialect.QEMU) -> Schema:
    return build_schema(_expressions(*definitions), [], dialect, fname="test.json")


def _error(*definitions: dict[str, Any], dialect: Dialect = Dialect.QEMU) -> str:
    with pytest.raises(QAPIError) as excinfo:
        _build(*definitions, dialect=dialect)
    return str(excinfo.value)


# -- predefined entities ------------------------------------------------------


def test_predefined_entities() -> None:
    schema = _build()
    assert [m.name for m in schema.modules] == ["./builtin", "test.json"]
    builtin = schema.modules[0]
    names = [getattr(e, "name", None) for e in builtin.entities]
    assert names[:4] == ["str", "strList", "number", "numberList"]
    assert names[-2:] == ["q_empty", "QType"]
    qtype = schema.lookup_type("QType")
    assert isinstance(qtype, EnumType) and qtype.is_implicit() and qtype.prefix is None
    assert qtype.member_names() == ["none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool"]
    assert schema.empty_type.is_empty() and schema.empty_type.name == "q_empty"
    int_list = schema.lookup_type("intList")
    assert isinstance(int_list, ArrayType) and int_list.element_type.name == "int"
    assert int_list.module.is_builtin
    assert [f.name for f in schema.features()] == ["deprecated", "unstable"]


def test_legacy_predefined_entities() -> None:
    schema = _build(dialect=Dialect.LEGACY)
    qtype = schema.lookup_type("QType")
    assert isinstance(qtype, EnumType) and qtype.prefix == "QTYPE"
    assert schema.features() == []


# -- implicit types -------------------------------------------------------------


def test_command_with_inline_arguments() -> None:
    schema = _build(
        {"struct": "Info", "data": {"a": "int"}},
        {
            "command": "query-info",
            "data": {"name": "str", "*verbose": {"type": "bool", "features": ["unstable"]}},
            "returns": ["Info"],
            "features": ["unstable"],
        },
    )
    cmd = schema.lookup_entity("query-info")
    assert isinstance(cmd, Command)
    arg_type = cmd.arg_type
    assert arg_type is not None and arg_type.name == "q_obj_query-info-arg"
    assert arg_type.is_implicit() and arg_type.info is cmd.info
    assert [(m.name, m.type.name, m.optional) for m in arg_type.members] == [
        ("name", "str", False),
        ("verbose", "bool", True),
    ]
    assert [f.name for f in arg_type.members[1].features] == ["unstable"]
    ret = cmd.ret_type
    assert isinstance(ret, ArrayType) and ret.name == "InfoList"
    assert ret.element_type is schema.lookup_type("Info")
    assert ret.module.name == "test.json"  # arrays live with their element
    assert [f.name for f in cmd.features] == ["unstable"]
    assert [c.name for c in schema.commands()] == ["query-info"]


def test_union_implicit_base_and_default_branches() -> None:
    schema = _build(
        {"enum": "Kind", "data": ["one", {"name": "two", "if": "TWO"}, "three"]},
        {"struct": "One", "data": {"x": "int"}},
        {
            "union": "U",
            "base": {"kind": "Kind", "*common": "str"},
            "discriminator": "kind",
            "data": {"one": "One"},
        },
    )
    union = schema.lookup_type("U")
    assert isinstance(union, ObjectType) and union.meta == "union"
    assert union.base is not None and union.base.name == "q_obj_U-base"
    assert [m.name for m in union.members] == ["kind", "common"]
    branches = union.branches
    assert branches is not None and branches.tag_member.name == "kind"
    assert [(v.name, v.type.name) for v in branches.variants] == [
        ("one", "One"),
        ("two", "q_empty"),
        ("three", "q_empty"),
    ]
    # An added branch inherits the tag value's condition.
    assert branches.variants[1].ifcond == IfOption("TWO")


def test_alternate() -> None:
    schema = _build(
        {"struct": "S", "data": {}},
        {"alternate": "Alt", "data": {"s": "S", "n": {"type": "number"}, "l": ["int"]}},
    )
    alt = schema.lookup_type("Alt")
    assert isinstance(alt, AlternateType)
    assert alt.alternatives.tag_member.type.name == "QType"
    assert [(v.name, v.type.name) for v in alt.alternatives] == [
        ("s", "S"),
        ("n", "number"),
        ("l", "intList"),
    ]


# -- errors (QEMU 10.2 wording) -------------------------------------------------


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        (
            [{"struct": "S", "data": {"m": "Nope"}}],
            "test.json: In struct 'S':\ntest.json:1: member 'm' uses unknown type 'Nope'",
        ),
        (
            [{"command": "c", "data": {"m": ["Nope"]}}],
            "test.json: In command 'c':\ntest.json:1: command uses unknown type 'Nope'",
        ),
        (
            [{"struct": "S", "data": {"a-b": "int", "a_b": "str"}}],
            "test.json: In struct 'S':\ntest.json:1: member 'a_b' collides with member 'a-b'",
        ),
        (
            [
                {"struct": "B", "data": {"x": "int"}},
                {"struct": "S", "base": "B", "data": {"x": "int"}},
            ],
            "test.json: In struct 'S':\ntest.json:2: member 'x' collides with member 'x' of type 'B'",
        ),
        (
            [{"struct": "S", "data": {}}, {"enum": "S", "data": []}],
            "test.json: In enum 'S':\ntest.json:2: 'S' is already defined\n"
            "test.json: In struct 'S':\ntest.json:1: previous definition",
        ),
        (
            [{"struct": "int", "data": {}}],
            "test.json: In struct 'int':\ntest.json:1: built-in type 'int' is already defined",
        ),
        (
            [{"struct": "A", "base": "B", "data": {}}, {"struct": "B", "base": "A", "data": {}}],
            "test.json: In struct 'A':\ntest.json:1: object A contains itself",
        ),
        (
            [{"alternate": "Alt", "data": {"a": "number", "b": "str"}}],
            "test.json: In alternate 'Alt':\ntest.json:1: branch 'b' can't be distinguished from 'a'",
        ),
        (
            [{"alternate": "Alt", "data": {"a": "any"}}],
            "test.json: In alternate 'Alt':\ntest.json:1: branch 'a' cannot use built-in type 'any'",
        ),
        (
            [{"struct": "S", "data": {}, "features": ["deprecated"]}],
            "test.json: In struct 'S':\ntest.json:1: feature 'deprecated' is not supported for types",
        ),
        (
            [{"command": "c", "returns": "int"}],
            "test.json: In command 'c':\ntest.json:1: command's 'returns' cannot take built-in type 'int'",
        ),
        (
            [{"event": "E", "data": {"a": {"type": "int", "if": "X"}}}],
            "test.json: In event 'E':\ntest.json:1: conditional event arguments require 'boxed': true",
        ),
        (
            [
                {"enum": "E", "data": ["a"]},
                {"union": "U", "base": {"*t": "E"}, "discriminator": "t", "data": {}},
            ],
            "test.json: In union 'U':\ntest.json:2: discriminator member 't' of 'base' must not be optional",
        ),
    ],
)
def test_errors(definitions: list[dict[str, Any]], message: str) -> None:
    assert _error(*definitions) == message


def test_too_many_features() -> None:
    features = [f"f{i:02}" for i in range(63)]
    message = _error({"command": "c", "features": features})
    assert message == (
        "test.json: In command 'c':\ntest.json:1: Maximum of 64 schema features is permitted"
    )


# -- the legacy dialect -----------------------------------------------------------


def test_legacy_simple_union() -> None:
    schema = _build(
        {"struct": "A", "data": {"x": "int"}, "if": "defined(CONFIG_A)"},
        {"union": "U", "data": {"a": "A", "b": "A", "c": ["str"]}},
        {"union": "V", "data": {"a": {"type": "A", "if": ["defined(X)", "defined(Y)"]}}},
        dialect=Dialect.LEGACY,
    )
    kind = schema.lookup_type("UKind")
    assert isinstance(kind, EnumType) and kind.is_implicit()
    assert kind.member_names() == ["a", "b", "c"]
    union = schema.lookup_type("U")
    assert isinstance(union, ObjectType) and union.branches is not None
    assert [m.name for m in union.local_members] == ["type"]
    assert union.branches.tag_member.type is kind
    assert [(v.name, v.type.name) for v in union.branches.variants] == [
        ("a", "q_obj_A-wrapper"),
        ("b", "q_obj_A-wrapper"),
        ("c", "q_obj_strList-wrapper"),
    ]
    wrapper = schema.lookup_type("q_obj_A-wrapper")
    assert isinstance(wrapper, ObjectType)
    assert [(m.name, m.type.name) for m in wrapper.members] == [("data", "A")]
    # A wrapper exists when the wrapped type does.
    assert wrapper.ifcond == IfAll((IfCExpr("defined(CONFIG_A)"),), as_list=True)
    v_kind = schema.lookup_type("VKind")
    assert isinstance(v_kind, EnumType)
    assert v_kind.members[0].ifcond is not None
    assert v_kind.members[0].ifcond.to_json() == ["defined(X)", "defined(Y)"]


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        (
            [{"struct": "S", "data": {"a-b": "int", "a_b": "str"}}],
            "test.json:1: 'a_b' (member of S) collides with 'a-b' (member of S)",
        ),
        (
            [{"command": "c", "data": {"Arg": "int"}}],
            "test.json:1: 'Arg' (parameter of c) should not use uppercase",
        ),
        (
            [{"union": "U", "data": {"type-x": "int", "type_x": "str"}}],
            "test.json:1: 'type_x' (branch of U) collides with 'type-x' (branch of U)",
        ),
        (
            [{"struct": "A", "base": "A", "data": {}}],
            "test.json:1: Object A contains itself",
        ),
        (
            [{"struct": "E", "data": {}}, {"command": "c", "data": "E", "boxed": True}],
            "test.json:2: Cannot use 'boxed' with empty type",
        ),
        ([{"event": "E", "boxed": True}], "test.json:1: Use of 'boxed' requires 'data'"),
    ],
)
def test_legacy_errors(definitions: list[dict[str, Any]], message: str) -> None:
    got = _error(*definitions, dialect=Dialect.LEGACY)
    assert got.split("\n")[-1] == message


def test_legacy_name_case_pragma() -> None:
    exprs = _expressions({"enum": "Slot", "data": ["DIMM"]})
    exprs[0].info.pragma.member_name_exceptions.append("Slot")
    schema = build_schema(exprs, [], Dialect.LEGACY, fname="test.json")
    assert schema.lookup_type("Slot") is not None


# -- modules and visit order --------------------------------------------------------


class _Recorder(SchemaVisitor):
    def __init__(self) -> None:
        self.events: list[str] = []

    def visit_module(self, module: Module) -> None:
        self.events.append(f"module {module.name}")

    def visit_needed(self, entity: Entity) -> bool:
        return entity.info is not None  # skip the predefined entities

    def visit_include(self, include: Any) -> None:
        self.events.append(f"include {include.sub_module.name}")

    def visit_object_type(self, typ: ObjectType) -> None:
        self.events.append(typ.name)


def _with_include(dialect: Dialect) -> list[str]:
    main = _expressions({"struct": "A", "data": {}}, {"include": "sub/sub.json"}, fname="m.json")
    sub = _expressions({"struct": "B", "data": {}}, fname="sub/sub.json", parent=main[1].info)
    last = _expressions({"struct": "C", "data": {}}, fname="m.json")
    schema = build_schema([*main, *sub, *last], [], dialect, fname="m.json")
    assert [m.name for m in schema.modules] == ["./builtin", "m.json", "sub/sub.json"]
    recorder = _Recorder()
    schema.visit(recorder)
    return recorder.events


def test_visit_order_by_module() -> None:
    assert _with_include(Dialect.QEMU) == [
        "module ./builtin",
        "module m.json",
        "A",
        "include sub/sub.json",
        "C",
        "module sub/sub.json",
        "B",
    ]


def test_legacy_visit_order_by_definition() -> None:
    assert _with_include(Dialect.LEGACY) == [
        "module m.json",
        "A",
        "include sub/sub.json",
        "module sub/sub.json",
        "B",
        "module m.json",
        "C",
    ]


# -- conditions and names -------------------------------------------------------------


def test_ifcond_modern() -> None:
    raw = {"all": ["A", {"any": ["B", {"not": "C"}]}]}
    cond = parse_ifcond(raw, Dialect.QEMU)
    assert cond == IfAll((IfOption("A"), IfAny((IfOption("B"), IfNot(IfOption("C"))))))
    assert cond.to_json() == raw
    assert str(cond) == "{'all': ['A', {'any': ['B', {'not': 'C'}]}]}"
    assert cond.c_expr() == "defined(A) && (defined(B) || !defined(C))"
    assert cond.doc_text() == "A and (B or not C)"
    assert cond.evaluate({"A"}) and not cond.evaluate({"A", "C"})
    assert list(cond.options()) == ["A", "B", "C"]
    assert str(parse_ifcond("X", Dialect.QEMU)) == "X"
    assert parse_ifcond(None, Dialect.QEMU) is None


def test_ifcond_legacy() -> None:
    cond = parse_ifcond("defined(CONFIG_SPICE)", Dialect.LEGACY)
    assert cond is not None and cond.to_json() == ["defined(CONFIG_SPICE)"]
    assert str(cond) == "['defined(CONFIG_SPICE)']"
    assert cond.c_expr() == "defined(CONFIG_SPICE)"
    assert cond.evaluate({"CONFIG_SPICE"}) and not cond.evaluate(set())
    two = parse_ifcond(["defined(A)", "!defined(B)"], Dialect.LEGACY)
    assert two is not None and two.c_expr() == "(defined(A)) && (!defined(B))"
    assert two.evaluate({"A"}) and not two.evaluate({"A", "B"})


def test_c_name() -> None:
    assert c_name("a-b.c") == "a_b_c"
    assert c_name("if") == "q_if" and c_name("if", protect=False) == "if"
    assert c_name("linux") == "q_linux" and c_name("linux", legacy=True) == "linux"
    assert c_name("1st") == "q_1st" and c_name("1st", legacy=True) == "1st"


# -- the dump ----------------------------------------------------------------------------


def test_dump() -> None:
    schema = _build(
        {"enum": "E", "data": [{"name": "a", "if": "A", "features": ["f"]}], "prefix": "PFX"},
        {"struct": "S", "data": {"*l": ["E"]}, "if": {"not": "B"}},
        {"command": "c", "data": "S", "boxed": True, "allow-oob": True, "coroutine": True},
        {"event": "EV", "features": [{"name": "g", "if": "G"}]},
    )
    assert dump_schema(schema).split("module test.json\n")[1] == (
        "enum E\n"
        "    prefix PFX\n"
        "    member a\n"
        "        if A\n"
        "        feature f\n"
        "array EList E\n"
        "object S\n"
        "    member l: EList optional=True\n"
        "    if {'not': 'B'}\n"
        "command c S -> None\n"
        "    gen=True success_response=True boxed=True oob=True preconfig=False coroutine=True\n"
        "event EV None\n"
        "    boxed=False\n"
        "    feature g\n"
        "        if G\n"
    )


def test_dump_empty_schema(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("")
    dump = dump_schema(load_schema(str(tmp_path / "empty.json")))
    assert dump.startswith("module ./builtin\nobject q_empty\nenum QType\n")
    assert dump.endswith("    member qbool\nmodule empty.json\n")


# -- whole schemas --------------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize(
    ("path", "dialect"),
    [
        ("qemu-10.2/qapi/qapi-schema.json", Dialect.QEMU),
        ("qemu-10.2/qga/qapi-schema.json", Dialect.QEMU),
        ("qemu-10.2/storage-daemon/qapi/qapi-schema.json", Dialect.QEMU),
        ("qemu-3.1/qapi/qapi-schema.json", Dialect.LEGACY),
        ("qemu-3.1/qga/qapi-schema.json", Dialect.LEGACY),
    ],
)
def test_real_schemas(path: str, dialect: Dialect) -> None:
    """The IR of each real schema has exactly the definitions an
    independent reading of the files finds (tests/schema_by_eye.py), in
    source order, each struct and command with its declared members; the
    dump lists every one of them."""
    schema = load_schema(str(CORPUS / path), dialect)
    for entity in schema.entities:
        assert entity.checked and entity.module in schema.modules
    for typ in schema.types():
        if isinstance(typ, ObjectType):
            assert all(m.type for m in typ.members)
    expected = by_eye.definitions(CORPUS / path)
    explicit = [
        e for e in schema.entities
        if isinstance(e, (ObjectType, EnumType, AlternateType, Command, Event)) and not e.is_implicit()
    ]  # fmt: skip
    assert [(e.meta, e.name) for e in explicit] == [(d.meta, d.name) for d in expected]
    for entity, defn in zip(explicit, expected, strict=True):
        if isinstance(entity, ObjectType) and defn.meta == "struct":
            local = [(m.name, m.optional) for m in entity.local_members]
            assert local == by_eye.members(defn.expr), entity.name
        elif isinstance(entity, Command) and isinstance(defn.expr.get("data"), dict):
            assert entity.arg_type is not None
            args = [(m.name, m.optional) for m in entity.arg_type.members]
            assert args == by_eye.members(defn.expr), entity.name
    dump = dump_schema(schema)
    assert dump.startswith("module ./builtin\n")
    header = {"struct": "object", "union": "object"}
    for defn in expected:
        line = f"\n{header.get(defn.meta, defn.meta)} {defn.name}"
        assert f"{line}\n" in dump or f"{line} " in dump, defn.name


@needs_corpus
@pytest.mark.parametrize("release", ["qemu-10.2", "qemu-3.1"])
def test_real_schema_commands_and_events_match_qemus_introspection(release: str) -> None:
    """QEMU's own generator lists the same commands and events (with the
    same argument types' members) as the IR."""
    dialect = Dialect.QEMU if release == "qemu-10.2" else Dialect.LEGACY
    schema = load_schema(str(CORPUS / release / "qapi" / "qapi-schema.json"), dialect)
    golden = json.loads((CORPUS / release / "expected" / "introspect.json").read_text())
    by_name = {info["name"]: info for info in golden}
    for meta, cls in (("command", Command), ("event", Event)):
        ours = sorted(e.name for e in schema.entities if isinstance(e, cls))
        assert ours == sorted(i["name"] for i in golden if i["meta-type"] == meta)
    for command in (e for e in schema.entities if isinstance(e, Command)):
        arg_type = by_name[by_name[command.name]["arg-type"]]
        expected = [(m["name"], "default" in m) for m in arg_type.get("members", [])]
        ours = [] if command.arg_type is None else command.arg_type.members
        assert [(m.name, m.optional) for m in ours] == expected, command.name


# -- doc comments -------------------------------------------------------------------------

_DOCUMENTED = """\
##
# @Args:
# @a: an argument
##
{ 'struct': 'Args', 'data': { 'a': 'int' } }

##
# @cmd:
# @a: documented, but the arguments are a named type
##
{ 'command': 'cmd', 'data': 'Args' }
"""


def test_docs_are_connected_after_checking(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(_DOCUMENTED)
    with pytest.raises(QAPIError) as excinfo:
        load_schema(str(tmp_path / "s.json"))
    assert str(excinfo.value).endswith("s.json:9: documented member 'a' does not exist")


def test_legacy_docs_are_checked_as_qemu_3_1_did(tmp_path: Path) -> None:
    # QEMU 3.1 checked a doc only with an object or alternate type, so a
    # command whose arguments are a named type may document them.
    (tmp_path / "s.json").write_text(_DOCUMENTED)
    schema = load_schema(str(tmp_path / "s.json"), Dialect.LEGACY)
    args = schema.lookup_type("Args")
    doc = schema.docs[0]
    assert isinstance(args, ObjectType) and doc.args["a"].member is args.members[0]
    (tmp_path / "s.json").write_text(
        _DOCUMENTED + "\n##\n# @S:\n# @x: a member\n# @bogus: none\n##\n"
        "{ 'struct': 'S', 'data': { 'x': 'int' } }\n"
    )
    with pytest.raises(QAPIError) as excinfo:
        load_schema(str(tmp_path / "s.json"), Dialect.LEGACY)
    assert str(excinfo.value).endswith("s.json:13: documented member 'bogus' does not exist")
