"""The doc-comment block parser and the doc checks (qapigen.frontend.docs).

The tests build ``DocLine`` lists themselves (``_block``), so they do not
depend on the schema parser.  The corpus tests at the end cut the ``##``
blocks out of QEMU's schemas with a small line scanner that does what
QEMU's lexer does to a doc block (blank lines are skipped, the first token
that is not a comment ends the block).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from qapigen.dialect import Dialect
from qapigen.errors import QAPISourceError
from qapigen.frontend.docs import DocLine, Kind, QAPIDoc, parse_doc_block
from qapigen.frontend.expression import Expression
from qapigen.frontend.source import SourceInfo
from tests.conftest import CORPUS, QEMU_SUITE, needs_corpus

QEMU = Dialect.QEMU
LEGACY = Dialect.LEGACY


# -- helpers ---------------------------------------------------------------


def _scan(text: str, info: SourceInfo) -> list[list[DocLine]]:
    """Every ``##`` block of *text*, as the schema parser hands it on."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blocks: list[list[DocLine]] = []
    block: list[DocLine] | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip()
        col = len(line) - len(stripped) + 1
        where = info.at_line(number)
        if block is None:
            if stripped.startswith("##"):
                block = [DocLine(stripped, where, col)]
                blocks.append(block)
            continue
        if not stripped:
            continue
        if stripped.startswith("#"):
            block.append(DocLine(stripped, where, col))
            if stripped.startswith("##"):
                block = None
        else:
            block.append(DocLine(None, where, col))
            block = None
    if block is not None:  # end of file: QEMU stands on the last newline
        last = len(lines)
        block.append(DocLine(None, info.at_line(last), len(lines[-1]) + 1))
    return blocks


def _block(src: str, fname: str = "t.json") -> list[DocLine]:
    """The first block of *src* (dedented, so tests can indent it)."""
    return _scan(textwrap.dedent(src).lstrip("\n"), SourceInfo(fname, None))[0]


def _doc(src: str, dialect: Dialect = QEMU) -> QAPIDoc:
    docs = parse_doc_block(_block(src), dialect)
    assert len(docs) == 1
    return docs[0]


def _error(src: str, dialect: Dialect = QEMU) -> str:
    with pytest.raises(QAPISourceError) as exc:
        parse_doc_block(_block(src), dialect)
    return str(exc.value)


def _dump(doc: QAPIDoc) -> str:
    """A doc as QEMU's test-qapi.py prints it."""
    out = [f"doc symbol={doc.symbol}" if doc.symbol else "doc freeform"]
    out.append(f"    body=\n{doc.body.text}")
    out += [f"    arg={name}\n{s.text}" for name, s in doc.args.items()]
    out += [f"    feature={name}\n{s.text}" for name, s in doc.features.items()]
    out += [f"    section={s.kind}\n{s.text}" for s in doc.sections]
    return "".join(line + "\n" for line in out)


@dataclass
class _Member:
    """Stands in for an IR member or feature."""

    name: str
    info: SourceInfo = field(default_factory=lambda: SourceInfo("t.json", None, 99))
    role: str = "member"


def _expr(data: dict[str, object]) -> Expression:
    return Expression(data, SourceInfo("t.json", None, 50))


# -- DocLine ---------------------------------------------------------------


def test_docline_error_carries_line_and_column() -> None:
    line = DocLine("# x", SourceInfo("f.json", None, 7), 3)
    assert str(line.error("oops")) == "f.json:7:3: oops"


# -- 10.2: what a doc holds ------------------------------------------------


def test_free_form_doc_is_all_body() -> None:
    doc = _doc("""
        ##
        # = A heading
        #
        # Some words, and more of them.
        #   Returns: this is no tag here
        ##
        """)
    assert doc.symbol is None
    assert (
        doc.body.text
        == "= A heading\n\nSome words, and more of them.\n  Returns: this is no tag here"
    )
    assert doc.body.info.line == 2
    assert doc.sections == [] and doc.args == {} and doc.features == {}
    assert doc.info.line == 1


def test_empty_free_form_doc() -> None:
    doc = _doc("##\n##\n")
    assert doc.symbol is None and doc.body.text == ""


def test_definition_doc_parts() -> None:
    doc = _doc("""
        ##
        # @frobnicate:
        #
        # Frobnicates the widget.
        #
        # Carefully.
        #
        # @speed: how fast
        #     to go
        # @mode:
        #   which way
        #
        # Features:
        # @unstable: may change
        #
        # A paragraph of its own.
        #
        # Returns: the widget
        #
        # Errors: when it breaks
        #
        # TODO: make it faster
        #
        # Since: 1.0
        ##
        """)
    assert doc.symbol == "frobnicate"
    assert doc.body.text == "Frobnicates the widget.\n\nCarefully."
    assert doc.body.info.line == 4
    assert {n: s.text for n, s in doc.args.items()} == {
        "speed": "how fast\n    to go",
        "mode": "  which way",
    }
    assert doc.args["mode"].info.line == 10
    assert doc.features["unstable"].text == "may change"
    assert doc.features["unstable"].kind is Kind.FEATURE
    assert [(str(s.kind), s.text) for s in doc.sections] == [
        ("Plain", "A paragraph of its own."),
        ("Returns", "the widget"),
        ("Errors", "when it breaks"),
        ("Todo", "make it faster"),
        ("Since", "1.0"),
    ]
    assert doc.returns is doc.sections[1] and doc.errors is doc.sections[2]
    assert doc.since is doc.sections[4]
    assert [str(s.kind) for s in doc.all_sections] == [
        "Plain",
        "Member",
        "Member",
        "Feature",
        "Plain",
        "Returns",
        "Errors",
        "Todo",
        "Since",
    ]


def test_paragraphs_after_the_symbol_extend_the_body() -> None:
    doc = _doc("""
        ##
        # @thing:
        # First.
        #
        # Second.
        ##
        """)
    assert doc.body.text == "First.\n\nSecond."
    assert doc.sections == []


def test_tag_inside_a_paragraph_is_text() -> None:
    doc = _doc("""
        ##
        # @thing:
        #
        # Words
        # Since: not a tag mid-paragraph
        ##
        """)
    assert doc.since is None
    assert doc.body.text == "Words\nSince: not a tag mid-paragraph"


def test_rst_double_colon_is_not_a_tag() -> None:
    doc = _doc("""
        ##
        # @thing:
        #
        # @a: x
        #
        # Examples::
        #
        #   literal
        #
        # Note:: plain too
        ##
        """)
    assert [s.kind for s in doc.sections] == [Kind.PLAIN]
    assert doc.sections[0].text == "Examples::\n\n  literal\n\nNote:: plain too"


def test_tagged_section_continues_while_indented() -> None:
    doc = _doc("""
        ##
        # @thing:
        #
        # TODO: one
        #   two
        #
        #   three
        # back to plain
        ##
        """)
    assert [(s.kind, s.text) for s in doc.sections] == [
        (Kind.TODO, "one\n  two\n\n  three"),
        (Kind.PLAIN, "back to plain"),
    ]


def test_description_stops_at_next_description() -> None:
    doc = _doc("""
        ##
        # @thing:
        #
        # @a: one
        #     more
        # @b: two
        ##
        """)
    assert doc.args["a"].text == "one\n    more"
    assert doc.args["b"].text == "two"


def test_blank_lines_between_descriptions() -> None:
    doc = _doc("##\n# @t:\n#\n# Features:\n#\n# @f: x\n#\n# @g: y\n##\n")
    assert list(doc.features) == ["f", "g"]
    assert doc.features["f"].text == "x"


def test_unindented_line_after_description_is_plain() -> None:
    doc = _doc("""
        ##
        # @thing:
        #
        # @a: one
        # Not part of it.
        ##
        """)
    assert doc.args["a"].text == "one"
    assert doc.sections[0].text == "Not part of it."


def test_second_continuation_line_may_dedent() -> None:
    # QEMU only holds the line right after the first continuation line to
    # the indentation; from then on a shallower line ends the description.
    doc = _doc("""
        ##
        # @thing:
        #
        # @a: one
        #     two
        #     three
        #   four
        ##
        """)
    assert doc.args["a"].text == "one\n    two\n    three"
    assert doc.sections[0].text == "  four"


# -- 10.2: line checks -----------------------------------------------------


def test_long_line_allowed_up_to_70() -> None:
    _doc("##\n# " + "x" * 68 + "\n##\n")


def test_url_may_be_long() -> None:
    _doc("##\n#   https://example.org/" + "p" * 70 + "\n##\n")


def test_long_line_in_literal_block_allowed() -> None:
    doc = _doc(
        "##\n# @thing:\n#\n# .. qmp-example::\n#\n#    -> { "
        + "x" * 70
        + " }\n#    <- end. See\n##\n"
    )
    assert doc.body.text.startswith(".. qmp-example::")


def test_literal_block_ends_at_dedent() -> None:
    err = _error("""
        ##
        # ::
        #
        #    ok. Here
        # not ok. Here
        ##
        """)
    assert err == (
        "t.json:5:10: Use two spaces between sentences\n"
        "If this not the end of a sentence, please report a bug."
    )


@pytest.mark.parametrize(
    "text",
    ["e.g. Foo", "1. First", "Two.  Spaces", "Ends.", "Lower. case", "x.y Foo"],
)
def test_sentence_spacing_exceptions(text: str) -> None:
    _doc(f"##\n# {text}\n##\n")


def test_sentence_spacing_column_counts_from_line_start() -> None:
    # QEMU measures the column as if the '#' stood in column 1.
    msg = (
        "Use two spaces between sentences\nIf this not the end of a sentence, please report a bug."
    )
    assert _error("##\n# A. B\n##\n") == f"t.json:2:5: {msg}"
    assert _error("##\n  # A! B\n##\n") == f"t.json:2:5: {msg}"
    assert _error("##\n# \tA? (B\n##\n") == f"t.json:2:5: {msg}"


# -- 10.2: every block-parsing error ---------------------------------------


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("## x\n##\n", "t.json:1:1: junk after '##' at start of documentation comment"),
        ("##\n# text\n##x\n", "t.json:3:1: junk after '##' at end of documentation comment"),
        ("##\n# text\n{ 'x': 1 }\n", "t.json:3:1: documentation comment must end with '##'"),
        ("##\n# text\n#", "t.json:3:2: documentation comment must end with '##'"),
        ("##\n#text\n##\n", "t.json:2:1: missing space after #"),
        ("##\n#\ttext\n##\n", "t.json:2:1: missing space after #"),
        (
            "##\n  # " + "y" * 69 + "\n##\n",
            "t.json:2:3: documentation line longer than 70 characters",
        ),
        ("##\n# @thing\n##\n", "t.json:2:1: line should end with ':'"),
        ("##\n# @:\n##\n", "t.json:2:1: name required after '@'"),
        (
            "##\n# words\n# @arg: text\n##\n",
            "t.json:3:1: '@arg:' not allowed in free-form documentation",
        ),
        ("##\n# @t:\n# @:\n##\n", "t.json:3: invalid parameter name"),
        ("##\n# @t:\n# @a: x\n# @a: y\n##\n", "t.json:4: 'a' parameter name duplicated"),
        (
            "##\n# @t:\n#\n# Features:\n# @f: x\n# @f: y\n##\n",
            "t.json:6: 'f' parameter name duplicated",
        ),
        (
            "##\n# @t:\n#\n# Features:\n# @f: x\n#\n# Features:\n##\n",
            "t.json:7:1: duplicated 'Features:' line",
        ),
        ("##\n# @t:\n#\n# Features:\n#\n# nope\n##\n", "t.json:6:1: feature descriptions expected"),
        ("##\n# @t:\n#\n# Features:\n##\n", "t.json:5:1: feature descriptions expected"),
        (
            "##\n# @t:\n#\n# Since: 1\n#\n# @a: late\n##\n",
            "t.json:6:1: description of '@a:' follows a section",
        ),
        (
            "##\n# @t:\n#\n# Features:\n# @f: x\n#\n# text\n#\n# @a: late\n##\n",
            "t.json:9:1: description of '@a:' follows a section",
        ),
        (
            "##\n# @t:\n#\n# Returns: 1\n#\n# Returns: 2\n##\n",
            "t.json:6: duplicated 'Returns' section",
        ),
        (
            "##\n# @t:\n#\n# Errors: 1\n#\n# Errors: 2\n##\n",
            "t.json:6: duplicated 'Errors' section",
        ),
        ("##\n# @t:\n#\n# Since: 1\n#\n# Since: 2\n##\n", "t.json:6: duplicated 'Since' section"),
        ("##\n# @t:\n#\n# Since:\n##\n", "t.json:4: text required after 'Since:'"),
        ("##\n# @t:\n#\n# TODO:\n#\n##\n", "t.json:4: text required after 'Todo:'"),
        ("##\n# @t:\n# @a:\n##\n", "t.json:3: text required after 'Member:'"),
        ("##\n# @t:\n#\n# Features:\n# @f:\n##\n", "t.json:5: text required after 'Feature:'"),
        (
            "##\n# @t:\n# @a: one\n#   two\n# three\n##\n",
            "t.json:5:1: unexpected de-indent (expected at least 2 spaces)",
        ),
        (
            "##\n# @t:\n#\n# Note: n\n##\n",
            "t.json:4:1: The 'Note' section is no longer supported. Please use rST's "
            "'.. note::' or '.. admonition:: notes' directives, or another suitable "
            "admonition instead.",
        ),
        (
            "##\n# @t:\n#\n# Examples:\n##\n",
            "t.json:4:1: The 'Examples' section is no longer supported. Please use the "
            "'.. qmp-example::' directive, or other suitable markup instead.",
        ),
    ],
)
def test_block_errors(src: str, expected: str) -> None:
    assert _error(src) == expected


def test_first_error_in_reading_order_wins() -> None:
    # The line check of line 3 comes before the empty section of line 2.
    assert _error("##\n# @t:\n# Since:\n#x\n##\n") == "t.json:4:1: missing space after #"


def test_error_keeps_include_chain() -> None:
    parent = SourceInfo("main.json", None, 4)
    info = SourceInfo("sub.json", parent)
    block = _scan("##\n#bad\n##\n", info)[0]
    with pytest.raises(QAPISourceError) as exc:
        parse_doc_block(block, QEMU)
    assert (
        str(exc.value) == "In file included from main.json:4:\nsub.json:2:1: missing space after #"
    )


# -- 10.2: checks against the definition -----------------------------------


def test_check_expr_returns_needs_command_with_returns() -> None:
    doc = _doc("##\n# @t:\n#\n# Returns: x\n##\n")
    doc.check_expr(_expr({"command": "t", "returns": "int"}))
    with pytest.raises(QAPISourceError) as exc:
        doc.check_expr(_expr({"command": "t"}))
    assert str(exc.value) == "t.json:4: 'Returns' section, but command doesn't return anything"
    with pytest.raises(QAPISourceError) as exc:
        doc.check_expr(_expr({"event": "t"}))
    assert str(exc.value) == "t.json:4: 'Returns' section is only valid for commands"


def test_check_expr_errors_only_for_commands() -> None:
    doc = _doc("##\n# @t:\n#\n# Errors: x\n##\n")
    doc.check_expr(_expr({"command": "t"}))
    with pytest.raises(QAPISourceError) as exc:
        doc.check_expr(_expr({"struct": "t", "data": {}}))
    assert str(exc.value) == "t.json:4: 'Errors' section is only valid for commands"


def test_check_reports_undocumented_and_bogus() -> None:
    doc = _doc("##\n# @t:\n# @a: x\n# @b: y\n# @c: z\n##\n")
    doc.connect_member(_Member("b"))
    with pytest.raises(QAPISourceError) as exc:
        doc.check()
    assert str(exc.value) == "t.json:3: documented members 'a', 'c' do not exist"

    doc = _doc("##\n# @t:\n#\n# Features:\n# @f: x\n##\n")
    with pytest.raises(QAPISourceError) as exc:
        doc.check()
    assert str(exc.value) == "t.json:5: documented feature 'f' does not exist"


def test_connect_member_requires_doc() -> None:
    doc = _doc("##\n# @t:\n##\n")
    member = _Member("x", role="argument")
    member.info.set_defn("command", "t")
    with pytest.raises(QAPISourceError) as exc:
        doc.connect_member(member)
    assert str(exc.value) == "t.json: In command 't':\nt.json:99: argument 'x' lacks documentation"


def test_connect_member_stub_for_exceptions() -> None:
    doc = _doc("##\n# @t:\n#\n# @a: x\n#\n# Features:\n# @f: y\n##\n")
    member = _Member("b")
    member.info.pragma.documentation_exceptions = ["t"]
    doc.connect_member(_Member("a"))
    doc.connect_member(member)
    doc.connect_feature(_Member("f", role="feature"))
    assert doc.args["b"].member is member and doc.args["b"].text == ""
    assert [(str(s.kind), getattr(s, "name", "")) for s in doc.all_sections] == [
        ("Plain", ""),
        ("Member", "a"),
        ("Member", "b"),
        ("Feature", "f"),
    ]
    doc.check()


def test_connect_member_stub_when_only_descriptions() -> None:
    doc = _doc("##\n# @t:\n# @a: x\n##\n")
    member = _Member("b")
    member.info.pragma.documentation_exceptions = ["t"]
    doc.connect_member(member)
    assert [s.kind for s in doc.all_sections] == [Kind.PLAIN, Kind.MEMBER, Kind.MEMBER]


def test_connect_feature() -> None:
    doc = _doc("##\n# @t:\n#\n# Features:\n# @f: x\n##\n")
    feat = _Member("f", role="feature")
    doc.connect_feature(feat)
    assert doc.features["f"].member is feat
    with pytest.raises(QAPISourceError) as exc:
        doc.connect_feature(_Member("g", role="feature"))
    assert str(exc.value) == "t.json:99: feature 'g' lacks documentation"


@pytest.mark.parametrize(
    ("src", "kinds"),
    [
        ("##\n# @t:\n##\n", "Plain Returns"),
        ("##\n# @t:\n# @a: x\n#\n# Since: 1\n##\n", "Plain Member Returns Since"),
        ("##\n# @t:\n#\n# Errors: e\n#\n# Since: 1\n##\n", "Plain Returns Errors Since"),
        (
            "##\n# @t:\n#\n# Features:\n# @f: x\n# @g: y\n##\n",
            "Plain Feature Returns Feature",  # sic: before the *last* feature
        ),
        ("##\n# @t:\n#\n# Returns: r\n##\n", "Plain Returns"),
    ],
)
def test_ensure_returns_placement(src: str, kinds: str) -> None:
    doc = _doc(src)
    doc.ensure_returns(SourceInfo("t.json", None, 9))
    assert " ".join(str(s.kind) for s in doc.all_sections) == kinds
    assert all(s.kind is not Kind.RETURNS or s.text or s is doc.returns for s in doc.sections)


# -- legacy dialect ---------------------------------------------------------


def test_legacy_sections_and_kinds() -> None:
    doc = _doc(
        """
        ##
        # @frob:
        #
        # Body line one,
        #     stripped.
        #
        # @a: first
        #     continued
        #
        # Features:
        # @f: a feature
        #
        # Returns: it
        # Note: careful
        # Notes: really
        # Example:
        #
        #   -> { "execute": "frob" }
        #   <- { "return": {} }
        # Examples: x
        # TODO: later
        # Since: 2.9
        ##
        """,
        LEGACY,
    )
    assert doc.symbol == "frob"
    assert doc.body.text == "Body line one,\nstripped."
    assert doc.args["a"].text == "first\ncontinued"
    assert doc.features["f"].text == "a feature"
    assert [(str(s.kind), s.text) for s in doc.sections] == [
        ("Returns", "it"),
        ("Note", "careful"),
        ("Notes", "really"),
        ("Example", '-> { "execute": "frob" }\n  <- { "return": {} }'),
        ("Examples", "x"),
        ("Todo", "later"),
        ("Since", "2.9"),
    ]
    assert doc.returns is doc.sections[0] and doc.since is doc.sections[-1]


def test_legacy_unindented_line_after_blank_ends_description() -> None:
    doc = _doc(
        """
        ##
        # @frob:
        # @a: first
        #
        #    still a
        #
        # Plain again.
        # Features:
        ##
        """,
        LEGACY,
    )
    assert doc.args["a"].text == "first\n\nstill a"
    assert [(s.kind, s.text) for s in doc.sections] == [(Kind.PLAIN, "Plain again.\nFeatures:")]


def test_legacy_features_after_description() -> None:
    doc = _doc("##\n# @frob:\n# @a: x\n#\n# Features:\n# @f: y\n##\n", LEGACY)
    assert list(doc.args) == ["a"] and list(doc.features) == ["f"]


def test_legacy_block_is_one_doc_even_with_headings() -> None:
    docs = parse_doc_block(_block("##\n# = One\n# text\n# == Two\n# more\n##\n"), LEGACY)
    assert len(docs) == 1
    assert docs[0].body.text == "= One\ntext\n== Two\nmore"


def test_legacy_has_no_line_style_checks() -> None:
    doc = _doc("##\n# @frob:\n# One. Two " + "x" * 80 + "\n# Errors: not a tag\n##\n", LEGACY)
    assert doc.errors is None


def test_legacy_symbol_line_is_not_rstripped() -> None:
    # 3.1 looked at the line as written: a trailing blank hides the colon.
    assert _error("##\n# @frob: \n##\n", LEGACY) == "t.json:2:1: line should end with ':'"


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("## x\n##\n", "t.json:1:1: junk after '##' at start of documentation comment"),
        ("##\n## x\n", "t.json:2:1: junk after '##' at end of documentation comment"),
        ("##\n# x\n\n  { 'a': 1 }\n", "t.json:4:3: documentation comment must end with '##'"),
        ("##\n#x\n##\n", "t.json:2:1: missing space after #"),
        ("##\n# @frob\n##\n", "t.json:2:1: line should end with ':'"),
        ("##\n# @:\n##\n", "t.json:2:1: name required after '@'"),
        ("##\n# @frob:\n# @:\n##\n", "t.json:3:1: invalid parameter name"),
        ("##\n# @frob:\n# @a: x\n# @a: y\n##\n", "t.json:4:1: 'a' parameter name duplicated"),
        # Empty sections are caught when the next one starts, or at the end.
        ("##\n# @frob:\n# @a:\n# @b: x\n##\n", "t.json:4:1: text required after 'Member:'"),
        ("##\n# @frob:\n# Since:\n#\n##\n", "t.json:5:1: text required after 'Since:'"),
        ("##\n# @frob:\n# Example:\n# TODO: x\n##\n", "t.json:4:1: text required after 'Example:'"),
        (
            "##\n# @frob:\n# Features:\n# @f:\n##\n",
            "t.json:5:1: text required after 'Feature:'",
        ),
        (
            "##\n# @frob:\n# Returns: a\n# Returns: b\n##\n",
            "t.json:4:1: duplicated 'Returns' section",
        ),
        ("##\n# @frob:\n# Since: a\n# Since: b\n##\n", "t.json:4:1: duplicated 'Since' section"),
        (
            "##\n# @frob:\n# Since: a\n# @x: b\n##\n",
            "t.json:4:1: description of '@x:' follows a section",
        ),
        # 3.1 checked the name first.
        (
            "##\n# @frob:\n# @x: a\n# Since: a\n# @x: b\n##\n",
            "t.json:5:1: 'x' parameter name duplicated",
        ),
        ("##\n# @frob:\n# Since: a\n  # @: b\n##\n", "t.json:4:3: invalid parameter name"),
        ("##\n# text\n# @x: y\n##\n", "t.json:3:1: '@x:' not allowed in free-form documentation"),
        (
            "##\n# @frob:\n#   @x: y\n##\n",
            "t.json:3:1: '@x:' not allowed in free-form documentation",
        ),
        ("##\n#\n# @frob:\n##\n", "t.json:3:1: '@frob:' not allowed in free-form documentation"),
    ],
)
def test_legacy_block_errors(src: str, expected: str) -> None:
    assert _error(src, LEGACY) == expected


def test_legacy_example_lines_may_start_with_at() -> None:
    doc = _doc("##\n# @frob:\n# Example:\n#   @x: literal\n##\n", LEGACY)
    assert doc.sections[0].text == "@x: literal"


def test_legacy_checks_blame_the_doc() -> None:
    doc = _doc("##\n# @frob:\n# @a: x\n# @b: y\n# Returns: z\n##\n", LEGACY)
    doc.check_expr(_expr({"command": "frob"}))  # 3.1 allowed it
    with pytest.raises(QAPISourceError) as exc:
        doc.check_expr(_expr({"event": "frob"}))
    assert str(exc.value) == "t.json:1: 'Returns' section is only valid for commands"
    doc.connect_member(_Member("a"))
    doc.connect_member(_Member("undocumented"))  # no error in 3.1
    assert doc.args["undocumented"].text == ""
    with pytest.raises(QAPISourceError) as exc:
        doc.check()
    assert str(exc.value) == "t.json:1: documented member 'b' does not exist"


def test_legacy_features_must_match() -> None:
    doc = _doc("##\n# @frob:\n# Features:\n# @f: x\n##\n", LEGACY)
    with pytest.raises(QAPISourceError) as exc:
        doc.connect_feature(_Member("g", role="feature"))
    assert str(exc.value) == "t.json:99: feature 'g' lacks documentation"
    with pytest.raises(QAPISourceError) as exc:
        doc.check()
    assert str(exc.value) == "t.json:1: documented feature 'f' does not exist"


# -- QEMU's corpus -----------------------------------------------------------

# The doc-* cases whose error QEMU raises while reading the doc block.
_BLOCK_ERROR_CASES = [
    "doc-bad-indent",
    "doc-bad-space-between-sentences",
    "doc-duplicate-features",
    "doc-duplicated-arg",
    "doc-duplicated-return",
    "doc-duplicated-since",
    "doc-empty-arg",
    "doc-empty-features",
    "doc-empty-section",
    "doc-empty-symbol",
    "doc-interleaved-section",
    "doc-invalid-end",
    "doc-invalid-end2",
    "doc-invalid-section",
    "doc-invalid-start",
    "doc-long-line",
    "doc-missing-colon",
    "doc-missing-space",
]


def _parse_file(path: Path, fname: str, dialect: Dialect) -> list[QAPIDoc]:
    docs: list[QAPIDoc] = []
    for block in _scan(path.read_text(), SourceInfo(fname, None)):
        docs += parse_doc_block(block, dialect)
    return docs


@needs_corpus
@pytest.mark.parametrize("case", _BLOCK_ERROR_CASES)
def test_corpus_block_errors(case: str) -> None:
    with pytest.raises(QAPISourceError) as exc:
        _parse_file(QEMU_SUITE / f"{case}.json", f"{case}.json", QEMU)
    assert f"{exc.value}\n" == (QEMU_SUITE / f"{case}.err").read_text()


def _symbols_by_eye(text: str) -> list[str | None]:
    """The symbol of each doc block of *text* as a reader finds it, without
    the doc parser: a block opens with a ``##`` line, and names a symbol
    when its next line is ``# @NAME:`` (otherwise it is free-form, None)."""
    symbols: list[str | None] = []
    lines = [line.strip() for line in text.split("\n")]
    in_block = False
    for number, line in enumerate(lines):
        if line != "##":
            continue
        if not in_block:
            follow = lines[number + 1] if number + 1 < len(lines) else ""
            match = re.fullmatch(r"# @([^:\s]+):", follow)
            symbols.append(match.group(1) if match else None)
        in_block = not in_block
    return symbols


@needs_corpus
def test_corpus_other_cases_read_cleanly() -> None:
    """Every other case's doc blocks parse, one QAPIDoc per block, each
    with the symbol its first line names."""
    checked = 0
    for case in (QEMU_SUITE / "CASES").read_text().split():
        path = QEMU_SUITE / f"{case}.json"
        if case not in _BLOCK_ERROR_CASES and path.is_file():
            docs = _parse_file(path, path.name, QEMU)
            assert [doc.symbol for doc in docs] == _symbols_by_eye(path.read_text()), case
            checked += 1
    # All 208 cases but the block errors and missing-schema (no .json file).
    assert checked == 208 - len(_BLOCK_ERROR_CASES) - 1


@needs_corpus
def test_corpus_doc_good_dump() -> None:
    """doc-good's docs, connected as the IR builder would, print as in
    doc-good.out (the part after the entities)."""
    docs = _parse_file(QEMU_SUITE / "doc-good.json", "doc-good.json", QEMU)
    expected = (QEMU_SUITE / "doc-good.out").read_text()
    expected = expected[expected.index("doc freeform") :]
    # Connect every member the dump lists (undocumented ones get stubs).
    for doc in docs:
        block = expected.split(f"doc symbol={doc.symbol}\n", 1)[-1].split("\ndoc ", 1)[0]
        for line in block.split("\n"):
            if line.startswith("    arg="):
                member = _Member(line[len("    arg=") :])
                member.info.pragma.documentation_exceptions = [doc.symbol or ""]
                doc.connect_member(member)
    assert "".join(_dump(doc) for doc in docs) == expected


# (folder, dialect, number of .json files, number of doc blocks in them)
_SCHEMAS = [
    ("qemu-10.2/qapi", QEMU, 46, 1059),
    ("qemu-10.2/qga", QEMU, 1, 92),
    ("qemu-10.2/storage-daemon/qapi", QEMU, 1, 2),
    ("qemu-3.1/qapi", LEGACY, 18, 606),
    ("qemu-3.1/qga", LEGACY, 1, 65),
]


@needs_corpus
@pytest.mark.parametrize(("folder", "dialect", "n_files", "n_docs"), _SCHEMAS)
def test_corpus_schemas_accepted(folder: str, dialect: Dialect, n_files: int, n_docs: int) -> None:
    """Every doc block of the real schemas parses, with the symbol its
    first line names."""
    files = sorted((CORPUS / folder).glob("*.json"))
    assert len(files) == n_files
    total = 0
    for path in files:
        docs = _parse_file(path, path.name, dialect)
        assert [doc.symbol for doc in docs] == _symbols_by_eye(path.read_text()), path.name
        total += len(docs)
    assert total == n_docs
