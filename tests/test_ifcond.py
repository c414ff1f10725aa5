"""Condition trees (qapigen.ir.ifcond): parsing, evaluation and rendering,
value by value.  The C rendering is what QEMU's generator writes after
``#if``; the prose rendering is what its documentation shows."""

from __future__ import annotations

import pytest

from qapigen.dialect import Dialect
from qapigen.ir.ifcond import IfAll, IfAny, IfCExpr, IfCond, IfNot, IfOption, parse_ifcond

A, B, C = IfOption("A"), IfOption("B"), IfOption("C")


@pytest.mark.parametrize(
    ("cond", "c_expr", "doc_text"),
    [
        (A, "defined(A)", "A"),
        (IfNot(A), "!defined(A)", "not A"),
        (IfAll((A, B)), "defined(A) && defined(B)", "A and B"),
        (IfAny((A, B)), "defined(A) || defined(B)", "A or B"),
        (IfNot(IfAll((A, B))), "!(defined(A) && defined(B))", "not (A and B)"),
        (IfNot(IfAny((A, B))), "!(defined(A) || defined(B))", "not (A or B)"),
        (IfNot(IfNot(A)), "!!defined(A)", "not not A"),
        (IfAll((IfAny((A, B)), C)), "(defined(A) || defined(B)) && defined(C)", "(A or B) and C"),
        (IfAny((IfAll((A, B)), C)), "(defined(A) && defined(B)) || defined(C)", "(A and B) or C"),
        (IfAll((IfAll((A, B)), C)), "(defined(A) && defined(B)) && defined(C)", "(A and B) and C"),
        (IfAny((IfNot(A), B)), "!defined(A) || defined(B)", "not A or B"),
        (IfAll((A,)), "defined(A)", "A"),
        (IfNot(IfAll((A,))), "!(defined(A))", "not (A)"),
        # Legacy: C expressions verbatim, parenthesized only where nested.
        (IfCExpr("defined(X)"), "defined(X)", "defined(X)"),
        (IfNot(IfCExpr("defined(X)")), "!(defined(X))", "not defined(X)"),
        (IfAll((IfCExpr("defined(X)"),), as_list=True), "defined(X)", "defined(X)"),
        (
            IfAll((IfCExpr("defined(X)"), IfCExpr("!defined(Y)")), as_list=True),
            "(defined(X)) && (!defined(Y))",
            "defined(X) and !defined(Y)",
        ),
        (IfNot(IfAll((IfCExpr("X"),), as_list=True)), "!X", "not X"),
        (
            IfNot(IfAll((IfCExpr("X"), IfCExpr("Y")), as_list=True)),
            "!((X) && (Y))",
            "not (X and Y)",
        ),
        (
            IfAny((IfAll((IfCExpr("X"),), as_list=True), B)),
            "X || defined(B)",
            "X or B",
        ),
    ],
)
def test_rendering(cond: IfCond, c_expr: str, doc_text: str) -> None:
    assert cond.c_expr() == c_expr
    assert cond.doc_text() == doc_text


@pytest.mark.parametrize(
    ("cond", "defined", "holds"),
    [
        (A, {"A"}, True),
        (A, {"B"}, False),
        (IfNot(A), set(), True),
        (IfNot(A), {"A"}, False),
        (IfAll((A, B)), {"A", "B"}, True),
        (IfAll((A, B)), {"A"}, False),
        (IfAll(()), set(), True),
        (IfAny((A, B)), {"B"}, True),
        (IfAny((A, B)), {"C"}, False),
        (IfAny(()), {"A"}, False),
        (IfCExpr("defined(X)"), {"X"}, True),
        (IfCExpr("defined(X)"), {"defined(X)"}, False),
        (IfCExpr("defined(X)"), set(), False),
        (IfCExpr("!defined(X)"), set(), True),
        (IfCExpr("!defined(X)"), {"X"}, False),
        (IfCExpr(" ! defined ( X_1 ) "), {"X_1"}, False),
        (IfCExpr(" ! defined ( X_1 ) "), set(), True),
        # Anything else is a symbol named by its whole text.
        (IfCExpr("X > 1"), {"X > 1"}, True),
        (IfCExpr("X > 1"), {"X"}, False),
        (IfCExpr("defined(X) && defined(Y)"), {"X", "Y"}, False),
        (IfCExpr("defined(X) && defined(Y)"), {"defined(X) && defined(Y)"}, True),
        (IfAll((IfCExpr("defined(X)"), IfCExpr("!defined(Y)")), as_list=True), {"X"}, True),
        (IfAll((IfCExpr("defined(X)"), IfCExpr("!defined(Y)")), as_list=True), {"X", "Y"}, False),
    ],
)
def test_evaluation(cond: IfCond, defined: set[str], holds: bool) -> None:
    assert cond.evaluate(defined) is holds
    assert cond.holds(defined.__contains__) is holds


def test_options_in_order() -> None:
    cond = IfAll((IfNot(A), IfAny((B, IfCExpr("defined(Z)"))), C))
    assert list(cond.options()) == ["A", "B", "defined(Z)", "C"]
    assert list(IfNot(IfNot(B)).options()) == ["B"]


@pytest.mark.parametrize(
    ("cond", "json", "text"),
    [
        (A, "A", "A"),
        (IfNot(A), {"not": "A"}, "{'not': 'A'}"),
        (IfAll((A, IfAny((B, C)))), {"all": ["A", {"any": ["B", "C"]}]},
         "{'all': ['A', {'any': ['B', 'C']}]}"),
        (IfAll((IfCExpr("defined(X)"),), as_list=True), ["defined(X)"], "['defined(X)']"),
        (IfCExpr("defined(X)"), "defined(X)", "defined(X)"),
    ],
)  # fmt: skip
def test_spelling_as_written(cond: IfCond, json: object, text: str) -> None:
    assert cond.to_json() == json
    assert str(cond) == text


@pytest.mark.parametrize(
    ("raw", "dialect", "tree"),
    [
        (None, Dialect.QEMU, None),
        (None, Dialect.LEGACY, None),
        ([], Dialect.LEGACY, None),
        ("CONFIG_X", Dialect.QEMU, IfOption("CONFIG_X")),
        ({"not": "X"}, Dialect.QEMU, IfNot(IfOption("X"))),
        ({"all": ["X", {"any": ["Y", "Z"]}]}, Dialect.QEMU,
         IfAll((IfOption("X"), IfAny((IfOption("Y"), IfOption("Z")))))),
        ({"any": []}, Dialect.QEMU, IfAny(())),
        ("defined(X)", Dialect.LEGACY, IfAll((IfCExpr("defined(X)"),), as_list=True)),
        (["defined(X)", "defined(Y)"], Dialect.LEGACY,
         IfAll((IfCExpr("defined(X)"), IfCExpr("defined(Y)")), as_list=True)),
    ],
)  # fmt: skip
def test_parse(raw: object, dialect: Dialect, tree: IfCond | None) -> None:
    parsed = parse_ifcond(raw, dialect)
    assert parsed == tree
    if parsed is not None:
        assert parsed.to_json() == raw or (dialect is Dialect.LEGACY and [raw] == parsed.to_json())
        assert type(parsed) is type(tree)
        if isinstance(parsed, IfAll):
            assert parsed.as_list is (dialect is Dialect.LEGACY)


@pytest.mark.parametrize(
    "raw",
    [{"all": "X"}, {"nor": ["X"]}, {"all": ["X"], "any": ["Y"]}, {}, 1, ["X"], {"not": 1}],
)
def test_parse_malformed_raises(raw: object) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_ifcond(raw, Dialect.QEMU)
    assert str(excinfo.value).startswith("malformed 'if' condition ")
    assert str(excinfo.value).endswith(" (should have been rejected)")
    if not isinstance(raw, dict) or "not" not in raw:
        assert str(excinfo.value) == f"malformed 'if' condition {raw!r} (should have been rejected)"
