"""The expression checks (``qapigen.frontend.checks``).

Three kinds of evidence:

- QEMU's own suite: every case whose error QEMU 10.2 raises while checking
  expressions (``expr.py``, including the doc comment checks it calls)
  must give the ``.err`` text byte for byte; every other case that parses
  must pass the checks (its error, if any, is the IR's or the doc
  module's).  The real schemas pass, unchanged.
- Hand-built expressions for the rules the suite doesn't reach: pragma
  exceptions, name prefixes, nested conditions, and the legacy dialect,
  whose order of checks is QEMU 3.1's (see the module docstring).
- Property tests: any JSON at all gives a QAPISourceError or nothing, and
  never a changed expression.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qapigen.dialect import Dialect
from qapigen.errors import QAPIError, QAPISourceError
from qapigen.frontend.checks import check_exprs
from qapigen.frontend.expression import Expression
from qapigen.frontend.parser import parse_schema
from qapigen.frontend.source import Pragma, SourceInfo
from tests.conftest import CORPUS, QEMU_SUITE, hypothesis_settings, needs_corpus, suite_cases

QEMU = Dialect.QEMU
LEGACY = Dialect.LEGACY

CASES_DIR = Path(__file__).resolve().parent / "checks_cases"

# The cases of QEMU's suite whose error QEMU raises from check_exprs().
EXPR_CASES = frozenset(
    line
    for line in (CASES_DIR / "expr-cases.txt").read_text().splitlines()
    if line and not line.startswith("#")
)

REAL_SCHEMAS = [
    ("qemu-10.2/qapi/qapi-schema.json", QEMU),
    ("qemu-10.2/qga/qapi-schema.json", QEMU),
    ("qemu-10.2/storage-daemon/qapi/qapi-schema.json", QEMU),
    ("qemu-3.1/qapi/qapi-schema.json", LEGACY),
    ("qemu-3.1/qga/qapi-schema.json", LEGACY),
]


# ------------------------------------------------------------------ helpers


class FakeDoc:
    """Stands in for a QAPIDoc: a symbol, and a record of check_expr calls."""

    def __init__(self, symbol: str | None, error: str | None = None) -> None:
        self.symbol = symbol
        self.error = error
        self.checked: list[Expression] = []

    def check_expr(self, expr: Expression) -> None:
        self.checked.append(expr)
        if self.error:
            raise QAPISourceError(expr.info, self.error)


def make(
    *defs: dict[str, Any], pragma: Pragma | None = None, docs: dict[int, Any] | None = None
) -> list[Expression]:
    """Expressions on lines 1, 2, ... of f.json, sharing one pragma;
    *docs* maps a line to the doc in front of that expression."""
    root = SourceInfo("f.json", None)
    if pragma is not None:
        root.pragma = pragma
    docs = docs or {}
    return [
        Expression(copy.deepcopy(d), root.at_line(line), docs.get(line))
        for line, d in enumerate(defs, 1)
    ]


def error(dialect: Dialect, *defs: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(QAPISourceError) as excinfo:
        check_exprs(make(*defs, **kwargs), dialect)
    return str(excinfo.value)


def ok(dialect: Dialect, *defs: dict[str, Any], **kwargs: Any) -> list[Expression]:
    """Check definitions that must pass, and assert what passing means:
    no error, the same list back, every expression exactly as written, and
    each definition carrying its "In META 'NAME':" context."""
    exprs = make(*defs, **kwargs)
    before = [copy.deepcopy(dict(expr)) for expr in exprs]
    assert check_exprs(exprs, dialect) is exprs
    assert [dict(expr) for expr in exprs] == before
    for expr in exprs:
        if "include" not in expr:
            meta = next(iter(expr))
            assert (expr.info.defn_meta, expr.info.defn_name) == (meta, expr[meta])
    return exprs


def contexts(exprs: list[Expression]) -> list[str]:
    return [expr.info.in_defn() for expr in exprs]


def at(line: int, msg: str, defn: str = "") -> str:
    """An error message at f.json:LINE, after an "In META 'NAME':" line."""
    context = f"f.json: In {defn}:\n" if defn else ""
    return f"{context}f.json:{line}: {msg}"


# ----------------------------------------------------------- QEMU's suite


@needs_corpus
@pytest.mark.parametrize("case", suite_cases())
def test_qemu_suite_case(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(QEMU_SUITE)
    try:
        parsed = parse_schema(f"{case}.json", QEMU)
    except QAPIError:
        # A syntax error: the expression checks never see this case.
        assert case not in EXPR_CASES
        return
    if case in EXPR_CASES:
        with pytest.raises(QAPIError) as excinfo:
            check_exprs(parsed.exprs, QEMU)
        assert str(excinfo.value) + "\n" == (QEMU_SUITE / f"{case}.err").read_text()
    else:
        check_exprs(parsed.exprs, QEMU)


@needs_corpus
def test_suite_case_list_is_current() -> None:
    assert set(suite_cases()) >= EXPR_CASES


@needs_corpus
@pytest.mark.parametrize(("path", "dialect"), REAL_SCHEMAS, ids=[p for p, _ in REAL_SCHEMAS])
def test_real_schema_passes_unchanged(path: str, dialect: Dialect) -> None:
    exprs = parse_schema(str(CORPUS / path), dialect).exprs
    before = [copy.deepcopy(dict(expr)) for expr in exprs]
    assert check_exprs(exprs, dialect) is exprs
    assert [dict(expr) for expr in exprs] == before


@needs_corpus
def test_qemu_suite_read_as_legacy_only_raises_qapi_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every file of QEMU 10.2's suite, read as legacy (3.1) schema, either
    passes or raises a QAPIError located in that file (or in a file it
    includes); nothing else escapes.  The files that pass are exactly those
    written in 3.1's language: a change to that list is a change of what
    the legacy dialect accepts, and must be deliberate."""
    monkeypatch.chdir(QEMU_SUITE)
    accepted: list[str] = []
    rejected = 0
    for path in sorted(Path().glob("*.json")):
        try:
            exprs = parse_schema(str(path), LEGACY).exprs
            check_exprs(exprs, LEGACY)
        except QAPIError as exc:
            rejected += 1
            message = str(exc)
            assert message.startswith((f"{path}:", f"In file included from {path}:")), message
            assert re.search(r"\.json:\d+(:\d+)?: \S", message), message
        else:
            accepted.append(path.name)
    assert accepted == LEGACY_ACCEPTS_FROM_QEMU_SUITE
    assert rejected == 174


# The files of QEMU 10.2's suite that the legacy dialect accepts: they use
# only 3.1's syntax, and their errors (in 10.2) are ones 3.1 did not check
# (doc comment rules, 'if' forms, name clashes found later in the IR).
LEGACY_ACCEPTS_FROM_QEMU_SUITE = [
    "args-if-implicit.json", "args-if-unboxed.json", "bad-if.json",
    "base-cycle-direct.json", "base-cycle-indirect.json", "comments.json",
    "doc-bad-alternate-member.json", "doc-bad-boxed-command-arg.json",
    "doc-bad-command-arg.json", "doc-bad-enum-member.json", "doc-bad-event-arg.json",
    "doc-bad-feature.json", "doc-bad-indent.json", "doc-bad-space-between-sentences.json",
    "doc-bad-union-member.json", "doc-duplicate-features.json", "doc-empty-features.json",
    "doc-empty-section.json", "doc-invalid-return2.json", "doc-long-line.json",
    "doc-undoc-feature.json", "empty.json", "event-args-if-unboxed.json", "event-case.json",
    "features-deprecated-type.json", "features-duplicate-name.json", "features-too-many.json",
    "ident-with-escape.json", "include-repetition-sub.json", "include-repetition.json",
    "include-simple-sub.json", "include-simple.json", "indented-expr.json",
    "reserved-member-u.json", "struct-base-clash-deep.json", "struct-base-clash.json",
    "sub-sub-module.json", "type-case.json", "union-bad-base.json", "union-clash-member.json",
]  # fmt: skip


# ------------------------------------------------------- 10.2: definitions


@pytest.mark.parametrize("dialect", [QEMU, LEGACY])
def test_include_directives_are_skipped(dialect: Dialect) -> None:
    """The parser checks include directives; check_exprs neither checks
    them (even a malformed one passes) nor gives them a definition context."""
    exprs = ok(dialect, {"include": "sub.json"}, {"enum": "Color", "data": ["red"]})
    assert contexts(exprs) == ["", "f.json: In enum 'Color':\n"]
    exprs = ok(dialect, {"include": 1}, {"enum": "Color", "data": ["red"]})
    assert contexts(exprs) == ["", "f.json: In enum 'Color':\n"]


def test_set_defn_gives_later_errors_their_context() -> None:
    exprs = make({"struct": "Point", "data": {"x": "int"}}, {"command": "move"})
    check_exprs(exprs, QEMU)
    assert [str(expr.info) for expr in exprs] == [
        "f.json: In struct 'Point':\nf.json:1",
        "f.json: In command 'move':\nf.json:2",
    ]


def test_no_context_before_the_name_is_known() -> None:
    assert error(QEMU, {"struct": ["Point"], "data": {}}) == at(
        1, "'struct' requires a string name"
    )


def test_shorthand_is_not_normalized_in_place() -> None:
    exprs = make(
        {"enum": "Color", "data": ["red", {"name": "green"}]},
        {"struct": "Point", "data": {"x": "int", "*y": ["int"]}, "features": ["deprecated"]},
        {
            "union": "Uni",
            "base": {"kind": "Color"},
            "discriminator": "kind",
            "data": {"red": "Point"},
        },
    )
    check_exprs(exprs, QEMU)
    assert exprs[0]["data"] == ["red", {"name": "green"}]
    assert exprs[1]["data"] == {"x": "int", "*y": ["int"]}
    assert exprs[1]["features"] == ["deprecated"]
    assert exprs[2]["base"] == {"kind": "Color"}
    assert exprs[2]["data"] == {"red": "Point"}


@pytest.mark.parametrize(
    ("defn", "msg"),
    [
        ({"struct": "q_obj_Foo", "data": {}}, "struct has an invalid name"),
        ({"struct": "Foo_Bar", "data": {}}, "name of struct must use CamelCase"),
        ({"struct": "x-Foo", "data": {}}, None),
        ({"struct": "__org.qemu_Foo", "data": {}}, None),
        ({"struct": "__org.qemu_x-Foo", "data": {}}, None),
        ({"struct": "x-__org.qemu_Foo", "data": {}}, "struct has an invalid name"),
        ({"struct": "FOO", "data": {}}, "name of struct must use CamelCase"),
        ({"enum": "FooList", "data": []}, "enum name should not end in 'List'"),
        ({"enum": "FooKind", "data": []}, None),
        ({"event": "FOO_BAR", "data": {}}, None),
        ({"event": "x-FOO", "data": {}}, None),
        ({"event": "FOO-BAR"}, "name of event must not use lowercase or '-'"),
        ({"command": "do-it"}, None),
        ({"command": "x-do-it"}, None),
        ({"command": "Do-it"}, "name of command must not use uppercase or '_'"),
        ({"command": "do_it"}, "name of command must not use uppercase or '_'"),
        ({"command": "q-it"}, "command has an invalid name"),
    ],
)
def test_definition_names(defn: dict[str, Any], msg: str | None) -> None:
    name = next(v for k, v in defn.items() if k != "data")
    meta = next(k for k in defn if k != "data")
    if msg is None:
        ok(QEMU, defn)
    else:
        assert error(QEMU, defn) == at(1, msg, f"{meta} '{name}'")


def test_command_name_exceptions() -> None:
    pragma = Pragma(command_name_exceptions=["do_it"])
    ok(QEMU, {"command": "do_it"}, pragma=pragma)
    assert error(QEMU, {"command": "Do_it"}, pragma=pragma) == at(
        1, "name of command must not use uppercase or '_'", "command 'Do_it'"
    )


def test_member_name_exceptions() -> None:
    pragma = Pragma(member_name_exceptions=["Point", "Color", "Uni"])
    ok(
        QEMU,
        {"struct": "Point", "data": {"X_pos": "int"}},
        {"enum": "Color", "data": ["Dark_Red"]},
        {"union": "Uni", "base": {"Kind_Of": "Color"}, "discriminator": "Kind_Of", "data": {}},
        pragma=pragma,
    )
    # Only the listed definition's own members, and never command arguments.
    assert error(QEMU, {"command": "point", "data": {"X": "int"}}, pragma=pragma) == at(
        1, "name of 'data' member 'X' must not use uppercase or '_'", "command 'point'"
    )
    assert error(QEMU, {"struct": "Other", "data": {"X": "int"}}, pragma=pragma) == at(
        1, "name of 'data' member 'X' must not use uppercase or '_'", "struct 'Other'"
    )


def test_enum_values_may_start_with_a_digit() -> None:
    ok(QEMU, {"enum": "Speed", "data": ["1000", "10g", "x-fast"]})
    assert error(QEMU, {"enum": "Speed", "data": [""]}) == at(
        1, "'data' member '' has an invalid name", "enum 'Speed'"
    )


def test_enum_value_features_and_conditions() -> None:
    """A value's ``if`` and ``features`` are checked like a member's:
    the good ones pass, a bad name or condition in them is reported."""
    exprs = ok(
        QEMU,
        {
            "enum": "Color",
            "data": [{"name": "red", "if": "CONFIG_RED", "features": ["deprecated"]}],
        },
    )
    assert contexts(exprs) == ["f.json: In enum 'Color':\n"]
    bad_feature = {"name": "red", "if": "CONFIG_RED", "features": ["bad name"]}
    assert error(QEMU, {"enum": "Color", "data": [bad_feature]}) == at(
        1, "'features' member 'bad name' has an invalid name", "enum 'Color'"
    )
    bad_if = {"name": "red", "if": "config_red", "features": ["deprecated"]}
    assert error(QEMU, {"enum": "Color", "data": [bad_if]}) == at(
        1, "'if' condition 'config_red' of 'data' member 'red' is not a valid identifier",
        "enum 'Color'",
    )


@pytest.mark.parametrize(
    ("key", "msg"),
    [
        ("u", "'data' member 'u' uses reserved name"),
        ("*u", "'data' member '*u' uses reserved name"),
        ("has-x", "'data' member 'has-x' uses reserved name"),
        ("*has-x", "'data' member '*has-x' uses reserved name"),
        ("us", None),
        ("hash", None),
    ],
)
def test_reserved_member_names(key: str, msg: str | None) -> None:
    """The generated C has a member ``u`` (union branches) and ``has_X``
    (presence flags) next to the schema's members."""
    defn = {"struct": "Oops", "data": {key: "int"}}
    if msg is None:
        ok(QEMU, defn)
    else:
        assert error(QEMU, defn) == at(1, msg, "struct 'Oops'")


@pytest.mark.parametrize(
    "cond",
    [
        "CONFIG_X",
        {"not": "CONFIG_X"},
        {"all": ["A", {"any": ["B", {"not": "C"}]}]},
        {"any": [{"all": ["A1", "B_2"]}]},
    ],
)
def test_good_conditions(cond: object) -> None:
    """Good conditions pass on a definition and on a member, and are left
    as written (``ok`` compares every expression with a copy)."""
    exprs = ok(QEMU, {"struct": "Stru", "data": {"m": {"type": "int", "if": cond}}, "if": cond})
    assert exprs[0]["if"] == cond
    assert exprs[0]["data"] == {"m": {"type": "int", "if": cond}}


@pytest.mark.parametrize(
    ("cond", "msg"),
    [
        ("config_x", "'if' condition 'config_x' of struct is not a valid identifier"),
        ("1X", "'if' condition '1X' of struct is not a valid identifier"),
        ({"any": "A"}, "'any' condition of struct must be an array"),
        ({"any": []}, "'if' condition [] of struct is useless"),
        ({"not": ["A"]}, "'if' condition of struct must be a string or an object"),
        ({}, "'if' condition of struct has conflicting keys"),
        (
            {"all": ["A", {"nor": []}]},
            "'if' condition of struct has unknown key 'nor'\nValid keys are 'all', 'any', 'not'.",
        ),
        (True, "'if' condition of struct must be a string or an object"),
    ],
)
def test_bad_conditions(cond: object, msg: str) -> None:
    assert error(QEMU, {"struct": "Stru", "data": {}, "if": cond}) == at(1, msg, "struct 'Stru'")


def test_feature_names_and_member_features() -> None:
    ok(
        QEMU,
        {
            "struct": "Stru",
            "data": {"m": {"type": "int", "features": ["unstable", {"name": "x-f", "if": "A"}]}},
            "features": [{"name": "deprecated"}],
        },
    )
    assert error(QEMU, {"command": "c", "features": ["Bad"]}) == at(
        1, "name of 'features' member 'Bad' must not use uppercase or '_'", "command 'c'"
    )
    assert error(QEMU, {"struct": "Stru", "data": {"m": {"type": "int", "features": "f"}}}) == at(
        1, "'features' must be an array", "struct 'Stru'"
    )


def test_keys_messages_are_sorted_and_pluralized() -> None:
    assert error(QEMU, {"union": "Uni"}) == at(
        1, "union misses keys 'base', 'data', 'discriminator'", "union 'Uni'"
    )
    assert error(QEMU, {"event": "E", "zz": 1, "aa": 2}) == at(
        1,
        "event has unknown keys 'aa', 'zz'\nValid keys are 'boxed', 'data', 'event', 'features', 'if'.",
        "event 'E'",
    )


def test_order_within_a_definition() -> None:
    """Keys before the body, the body before 'if', 'if' before features,
    features before flags."""
    assert error(QEMU, {"command": "c", "data": 1, "if": 1, "gen": True}) == at(
        1, "'data' should be an object or type name", "command 'c'"
    )
    assert error(QEMU, {"command": "c", "if": 1, "features": 1, "gen": True}) == at(
        1, "'if' condition of command must be a string or an object", "command 'c'"
    )
    assert error(QEMU, {"command": "c", "features": 1, "gen": True}) == at(
        1, "'features' must be an array", "command 'c'"
    )


def test_boxed_arguments() -> None:
    ok(
        QEMU,
        {"command": "c", "data": "Args", "boxed": True},
        {"event": "E", "data": "A", "boxed": True},
    )
    assert error(QEMU, {"event": "E", "data": ["A"], "boxed": True}) == at(
        1, "'data' should be a type name", "event 'E'"
    )


def test_alternate_may_have_array_branches() -> None:
    """QEMU 10.2 allows array branches in an alternate; 3.1 did not."""
    alt = {"alternate": "Alt", "data": {"one": ["int"], "two": "Obj"}}
    exprs = ok(QEMU, alt)
    assert exprs[0]["data"] == {"one": ["int"], "two": "Obj"}
    assert error(LEGACY, alt) == at(1, "'data' member 'one' cannot be an array", "alternate 'Alt'")


# ------------------------------------------------------------ 10.2: docs


def test_doc_must_name_the_definition_and_is_checked() -> None:
    doc = FakeDoc("Point")
    exprs = make({"struct": "Point", "data": {}}, docs={1: doc})
    check_exprs(exprs, QEMU)
    assert doc.checked == [exprs[0]]
    assert error(QEMU, {"struct": "Point", "data": {}}, docs={1: FakeDoc("Pointe")}) == at(
        1, "documentation comment is for 'Pointe'", "struct 'Point'"
    )


def test_doc_check_runs_before_the_definition_checks() -> None:
    doc = FakeDoc("Point", error="from the doc")
    assert error(QEMU, {"struct": "Point", "data": 1}, docs={1: doc}) == at(
        1, "from the doc", "struct 'Point'"
    )


def test_doc_required() -> None:
    pragma = Pragma(doc_required=True)
    assert error(QEMU, {"struct": "Point", "data": {}}, pragma=pragma) == at(
        1, "documentation comment required", "struct 'Point'"
    )
    ok(QEMU, {"struct": "Point", "data": {}}, pragma=pragma, docs={1: FakeDoc("Point")})


# ------------------------------------------------------- legacy dialect


def test_legacy_simple_union() -> None:
    ok(
        LEGACY,
        {"struct": "Point", "data": {"x": "int"}},
        {"union": "Shape", "data": {"point": "Point", "radius": "int", "names": ["str"]}},
        # Its implicit enum can be referenced.
        {"struct": "Holder", "data": {"kind": "ShapeKind"}},
    )
    assert error(LEGACY, {"union": "U", "base": "B", "data": {"a": "int"}}) == at(
        1, "'base' requires 'discriminator'", "union 'U'"
    )
    assert error(LEGACY, {"union": "U", "data": {"a": ["int", "str"]}}) == at(
        1, "'data' member 'a': array type must contain single type name", "union 'U'"
    )
    assert error(LEGACY, {"union": "U", "data": {"*a": "int"}}) == at(
        1, "'data' member '*a' has an invalid name", "union 'U'"
    )
    assert error(LEGACY, {"union": "U", "data": {"a": "Missing"}}) == at(
        1, "branch 'a' uses unknown type 'Missing'", "union 'U'"
    )


FLAT_BASE: list[dict[str, Any]] = [
    {"enum": "Kind1", "data": ["a", "b"]},
    {"struct": "A", "data": {"x": "int"}},
    {"struct": "Base", "data": {"kind": "Kind1", "*opt": "Kind1", "name": "str"}},
]


@pytest.mark.parametrize(
    ("union", "msg"),
    [
        ({"base": "Base", "discriminator": "kind", "data": {"a": "A"}}, None),
        ({"base": {"kind": "Kind1"}, "discriminator": "kind", "data": {"a": "A", "b": "A"}}, None),
        ({"discriminator": "kind", "data": {"a": "A"}}, "'discriminator' requires 'base'"),
        (
            {"base": "Base", "discriminator": "nope", "data": {"a": "A"}},
            "discriminator 'nope' is not a member of 'base'",
        ),
        (
            {"base": "Base", "discriminator": "opt", "data": {"a": "A"}},
            "discriminator member 'opt' of base type 'Base' must not be optional",
        ),
        (
            {"base": "Base", "discriminator": "name", "data": {"a": "A"}},
            "discriminator member 'name' of base type 'Base' must be of enum type",
        ),
        (
            {
                "base": {"kind": {"type": "Kind1", "if": "X"}},
                "discriminator": "kind",
                "data": {"a": "A"},
            },
            "discriminator member 'kind' of 'base' must not be conditional",
        ),
        (
            {"base": "Base", "discriminator": "kind", "data": {"c": "A"}},
            "branch 'c' is not a value of enum type 'Kind1'",
        ),
        (
            {"base": "Base", "discriminator": "kind", "data": {"a": ["A"]}},
            "'data' member 'a' cannot be an array",
        ),
        (
            {"base": "Base", "discriminator": "kind", "data": {"a": "int"}},
            "branch 'a' cannot use built-in type 'int'",
        ),
        ({"base": "Base", "discriminator": "kind", "data": {}}, "union has no branches"),
        ({"base": "Base", "discriminator": "kind", "data": ["a"]}, "'data' must be an object"),
        (
            {"base": "Kind1", "discriminator": "kind", "data": {"a": "A"}},
            "'base' requires a struct type, enum type 'Kind1' isn't",
        ),
        (
            {"base": "Base", "discriminator": 1, "data": {"a": "A"}},
            "'discriminator' requires a string name",
        ),
    ],
)
def test_legacy_flat_union(union: dict[str, Any], msg: str | None) -> None:
    defs: list[dict[str, Any]] = [*FLAT_BASE, {"union": "U", **union}]
    if msg is None:
        ok(LEGACY, *defs)
    else:
        assert error(LEGACY, *defs) == at(4, msg, "union 'U'")


@pytest.mark.parametrize(
    ("branches", "msg"),
    [
        ({"i": "int", "s": "Obj"}, None),
        ({"e": "Enum", "i": "int"}, None),
        ({"i": "int", "s": "str"}, "branch 's' can't be distinguished from 'i'"),
        ({"b": "bool", "s": "str"}, "branch 's' can't be distinguished from 'b'"),
        ({"s": "str", "q": "QType"}, "branch 'q' can't be distinguished from 's'"),
        ({"o": "OnOff", "b": "bool"}, "branch 'b' can't be distinguished from 'o'"),
        ({"n": "Numbers", "i": "number"}, "branch 'i' can't be distinguished from 'n'"),
        ({"o": "Obj", "u": "Uni"}, "branch 'u' can't be distinguished from 'o'"),
        ({"a": "any", "i": "int"}, "branch 'a' cannot use built-in type 'any'"),
        ({"a": "Alt", "i": "int"}, "branch 'a' cannot use alternate type 'Alt'"),
        ({"a": ["int"], "i": "int"}, "'data' member 'a' cannot be an array"),
        ({"i": "int"}, "'data' must have at least two branches"),
        ({}, "'data' must not be empty"),
    ],
)
def test_legacy_alternate(branches: dict[str, Any], msg: str | None) -> None:
    defs: list[dict[str, Any]] = [
        {"struct": "Obj", "data": {}},
        {"union": "Uni", "data": {"a": "int"}},
        {"enum": "Enum", "data": ["x", "y"]},
        {"enum": "OnOff", "data": ["on", "off"]},
        {"enum": "Numbers", "data": ["1", "2"]},
        {"alternate": "Alt", "data": {"i": "int", "o": "Obj"}},
        {"alternate": "A2", "data": branches},
    ]
    if msg is None:
        ok(LEGACY, *defs)
    else:
        assert error(LEGACY, *defs) == at(7, msg, "alternate 'A2'")


def test_legacy_names() -> None:
    ok(
        LEGACY,
        {"struct": "point_2d", "data": {"X": "int"}},
        {"command": "block_resize"},
        {"event": "device_deleted"},
        {"enum": "Greek", "data": ["Alpha", "1st"]},
        pragma=Pragma(member_name_exceptions=["point_2d", "Greek"]),
    )
    assert error(LEGACY, {"command": "q-reset"}) == at(
        1, "command has an invalid name", "command 'q-reset'"
    )
    assert error(LEGACY, {"command": "queryList"}) == at(
        1, "command name should not end in 'List'", "command 'queryList'"
    )
    assert error(LEGACY, {"enum": "ShapeKind", "data": []}) == at(
        1, "enum name should not end in 'Kind'", "enum 'ShapeKind'"
    )


def test_legacy_metatype_is_the_first_key_found() -> None:
    assert error(LEGACY, {"struct": "S", "enum": "E", "data": []}) == at(
        1,
        "enum has unknown key 'struct'\nValid keys are 'data', 'enum', 'features', 'if', 'prefix'.",
        "enum 'E'",
    )
    assert error(LEGACY, {"data": {}}) == at(1, "expression is missing metatype")


def test_legacy_duplicate_definitions() -> None:
    assert error(LEGACY, {"enum": "Foo", "data": []}, {"struct": "Foo", "data": {}}) == (
        "f.json: In struct 'Foo':\nf.json:2: 'Foo' is already defined\n"
        "f.json: In enum 'Foo':\nf.json:1: previous definition"
    )
    assert error(LEGACY, {"command": "int"}) == at(
        1, "built-in type 'int' is already defined", "command 'int'"
    )
    assert error(LEGACY, {"struct": "QType", "data": {}}) == at(
        1, "enum type 'QType' is already defined", "struct 'QType'"
    )


@pytest.mark.parametrize(
    ("cond", "msg"),
    [
        ("defined(CONFIG_SPICE)", None),
        (["defined(A)", "defined(B)"], None),
        (" ", None),
        (None, None),
        ("", "'if' condition '' of struct makes no sense"),
        ([], "'if' condition [] of struct is useless"),
        (["A", 1], "'if' condition of struct must be a string or a list of strings"),
        ({"all": ["A"]}, "'if' condition of struct must be a string or a list of strings"),
    ],
)
def test_legacy_conditions(cond: object, msg: str | None) -> None:
    defn = {"struct": "S", "data": {}, "if": cond}
    if msg is None:
        ok(LEGACY, defn)
    else:
        assert error(LEGACY, defn) == at(1, msg, "struct 'S'")


def test_legacy_member_conditions_are_checked_too() -> None:
    assert error(LEGACY, {"struct": "S", "data": {"m": {"type": "int", "if": ""}}}) == at(
        1, "'if' condition '' of 'data' member 'm' makes no sense", "struct 'S'"
    )


def test_legacy_null_is_absent_where_optional() -> None:
    ok(
        LEGACY,
        {"command": "ping", "data": None, "returns": None, "if": None},
        {"struct": "Point", "data": {"x": "int"}, "base": None, "features": None},
        {"enum": "E", "data": ["a"], "prefix": None},
        {"union": "U", "discriminator": None, "data": {"a": "int"}},
    )
    assert error(LEGACY, {"struct": "S", "data": None}) == at(
        1, "'data' should be an object or type name", "struct 'S'"
    )
    assert error(LEGACY, {"struct": "S", "data": {"m": None}}) == at(
        1, "'data' member 'm' should be a type name or array", "struct 'S'"
    )
    assert error(LEGACY, {"command": "c", "boxed": None}) == at(
        1, "flag 'boxed' may only use true value", "command 'c'"
    )


def test_legacy_reserved_member_names() -> None:
    # 3.1 compared the name with its '*' still on, so these pass.
    ok(LEGACY, {"struct": "S", "data": {"*u": "int", "*has-x": "int"}})
    for key in ("u", "has-x", "has_x"):
        assert error(LEGACY, {"struct": "S", "data": {key: "int"}}) == at(
            1, f"'data' member '{key}' uses reserved name", "struct 'S'"
        )


def test_legacy_commands() -> None:
    defs: list[dict[str, Any]] = [
        {"struct": "Args", "data": {"a": "int"}},
        {"union": "Uni", "data": {"a": "int"}},
        {"alternate": "Alt", "data": {"i": "int", "a": "Args"}},
        {"enum": "E", "data": ["x"]},
    ]
    ok(
        LEGACY,
        *defs,
        {"command": "c1", "data": "Args", "returns": ["Uni"]},
        {"command": "c2", "data": "Uni", "boxed": True},
        {"command": "c3", "data": "Alt", "boxed": True, "returns": "int"},
        {"event": "E1", "data": "Alt", "boxed": True},
        pragma=Pragma(command_returns_exceptions=["c3"]),
    )
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"command": "c", "data": "Uni"},
            "command's 'data' can take union type 'Uni' only with 'boxed': true",
        ),
        (
            {"event": "EV", "data": "Alt"},
            "event's 'data' can take alternate type 'Alt' only with 'boxed': true",
        ),
        (
            {"command": "c", "data": "E", "boxed": True},
            "command's 'data' cannot take enum type 'E'",
        ),
        ({"command": "c", "data": "Nope"}, "command's 'data' uses unknown type 'Nope'"),
        ({"command": "c", "data": {"a": "Nope"}}, "parameter 'a' uses unknown type 'Nope'"),
        ({"command": "c", "returns": "int"}, "command's 'returns' cannot take built-in type 'int'"),
        ({"command": "c", "returns": ["E"]}, "command's 'returns' cannot take array type ['E']"),
        ({"command": "c", "returns": {"a": "int"}}, "'returns' should be a type name or array"),
        ({"command": "c", "returns": "c"}, "command's 'returns' uses unknown type 'c'"),
        (
            {"command": "c", "coroutine": True, "allow-oob": True},
            "flags 'allow-oob' and 'coroutine' are incompatible",
        ),
    ]
    for defn, msg in cases:
        meta = "event" if "event" in defn else "command"
        assert error(LEGACY, *defs, defn) == at(5, msg, f"{meta} '{defn[meta]}'")


def test_legacy_struct_members_and_base() -> None:
    ok(
        LEGACY,
        {"struct": "Base", "data": {"a": "int"}},
        {
            "struct": "Sub",
            "base": "Base",
            "data": {"b": ["Base"], "c": {"type": "int", "features": ["f"]}},
        },
    )
    assert error(LEGACY, {"struct": "S", "data": {"a": "int"}, "base": "Nope"}) == at(
        1, "'base' uses unknown type 'Nope'", "struct 'S'"
    )
    assert error(LEGACY, {"struct": "S", "data": {"a": "Nope"}}) == at(
        1, "member 'a' uses unknown type 'Nope'", "struct 'S'"
    )
    assert error(LEGACY, {"struct": "S", "data": {"a b": "int"}}) == at(
        1, "'data' member 'a b' has an invalid name", "struct 'S'"
    )


def test_legacy_features() -> None:
    ok(LEGACY, {"command": "c", "features": ["deprecated", {"name": "x-f", "if": "defined(X)"}]})
    assert error(LEGACY, {"enum": "E", "data": [{"name": "a", "features": []}]}) == at(
        1, "'data' member has unknown key 'features'\nValid keys are 'if', 'name'.", "enum 'E'"
    )
    assert error(LEGACY, {"event": "EV", "features": [{"name": "q_f"}]}) == at(
        1, "'features' member 'q_f' has an invalid name", "event 'EV'"
    )


def test_legacy_uppercase_and_the_whitelist() -> None:
    """Owners are 3.1's entity names, implicit types included."""
    assert error(LEGACY, {"struct": "S", "data": {"CPU": "int"}}) == at(
        1, "'data' member 'CPU' uses uppercase in name", "struct 'S'"
    )
    defs: list[dict[str, Any]] = [
        {"struct": "S", "data": {"CPU": "int"}},
        {"enum": "E", "data": ["Running"]},
        {
            "union": "U",
            "base": {"CPU": "E", "kind": "E"},
            "discriminator": "kind",
            "data": {"Running": "S"},
        },
        {"union": "Simple", "data": {"Big": "int"}},
        {"alternate": "Alt", "data": {"I": "int", "s": "S"}},
        {"command": "c", "data": {"Arg": "int"}},
        {"event": "EV", "features": ["Feat"]},
    ]
    owners = ["S", "E", "q_obj_U-base", "SimpleKind", "Alt", "q_obj_c-arg", "EV"]
    ok(LEGACY, *defs, pragma=Pragma(member_name_exceptions=owners))
    for missing in range(len(owners)):
        allowed = owners[:missing] + owners[missing + 1 :]
        message = error(LEGACY, *defs, pragma=Pragma(member_name_exceptions=allowed))
        assert message.splitlines()[1].startswith(f"f.json:{missing + 1}: ")
        assert message.endswith("uses uppercase in name")


def test_legacy_boxed_needs_a_type_with_members() -> None:
    defs: list[dict[str, Any]] = [
        {"struct": "Empty", "data": {}},
        {"struct": "AlsoEmpty", "base": "Empty", "data": {}},
        {"struct": "Full", "base": "Empty", "data": {"a": "int"}},
    ]
    ok(LEGACY, *defs, {"command": "c", "data": "Full", "boxed": True})
    assert error(LEGACY, *defs, {"event": "EV", "data": "AlsoEmpty", "boxed": True}) == at(
        4, "cannot use 'boxed' with empty type", "event 'EV'"
    )
    assert error(LEGACY, {"command": "c", "boxed": True}) == at(
        1, "'boxed': true requires 'data'", "command 'c'"
    )


def test_legacy_passes_run_in_31_order() -> None:
    """3.1 checked every definition's keys and name before any body, every
    body before any schema-level rule: an error in a later definition can
    come first."""
    body_error = {"struct": "A", "data": {"x": "Nope"}}
    head_error = {"struct": "B", "data": {}, "bogus": 1}
    assert error(LEGACY, body_error, head_error).splitlines()[1].startswith("f.json:2: ")
    # Same pass: source order.
    assert (
        error(LEGACY, body_error, {"struct": "C", "data": {"y": "Nope"}})
        .splitlines()[1]
        .startswith("f.json:1: ")
    )
    late_error = {"struct": "D", "data": {"X": "int"}}
    assert error(LEGACY, late_error, body_error).splitlines()[1].startswith("f.json:2: ")
    # A type defined after its first use is fine.
    ok(LEGACY, {"struct": "A", "data": {"b": "B"}}, {"struct": "B", "data": {}})


def test_legacy_flags_and_if_in_written_order() -> None:
    assert error(LEGACY, {"command": "c", "if": "", "gen": True}) == at(
        1, "'if' condition '' of command makes no sense", "command 'c'"
    )
    assert error(LEGACY, {"command": "c", "gen": True, "if": ""}) == at(
        1, "flag 'gen' may only use false value", "command 'c'"
    )


def test_legacy_docs() -> None:
    doc = FakeDoc("S")
    exprs = make({"struct": "S", "data": {}}, docs={1: doc})
    check_exprs(exprs, LEGACY)
    assert doc.checked == [exprs[0]]
    assert error(LEGACY, {"struct": "S", "data": {}}, docs={1: FakeDoc("T")}) == at(
        1, "documentation comment is for 'T'", "struct 'S'"
    )
    assert error(LEGACY, {"data": {}}, pragma=Pragma(doc_required=True)) == at(
        1, "documentation comment required"
    )


# ------------------------------------------------------------- properties

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["", "int", "str", "any", "Foo", "FOO", "foo", "*x", "u", "1a", "A_B", "on"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "name", "if", "all", "not", "features", "a", "*b", "data"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)
_META = st.sampled_from(["enum", "struct", "union", "alternate", "command", "event"])
_KEY = st.sampled_from(
    ["data", "base", "discriminator", "returns", "if", "features", "boxed", "gen", "prefix"]
)
_definition = st.builds(
    lambda meta, name, rest: {meta: name, **rest}, _META, _json, st.dictionaries(_KEY, _json)
)


@settings(
    hypothesis_settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
)
@given(defs=st.lists(_definition, min_size=1, max_size=4), legacy=st.booleans())
def test_any_json_gives_a_source_error_or_nothing(defs: list[dict[str, Any]], legacy: bool) -> None:
    exprs = make(*defs)
    try:
        check_exprs(exprs, LEGACY if legacy else QEMU)
    except QAPISourceError as err:
        assert err.info is not None
        assert err.info.fname == "f.json"
    assert [dict(expr) for expr in exprs] == defs
