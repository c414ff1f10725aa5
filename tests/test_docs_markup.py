"""The doc-comment markup reader and its HTML/Markdown renderers."""

from __future__ import annotations

from qapigen.backends.docs.markup import (
    Admonition,
    Example,
    Heading,
    ListBlock,
    Literal,
    Message,
    Para,
    Table,
    parse_example,
    parse_text,
)
from qapigen.backends.docs.render import HtmlRenderer, MarkdownRenderer


class Names:
    """A resolver that knows member ``id`` and definition ``Job``."""

    def __init__(self) -> None:
        self.misses: list[tuple[str, int]] = []

    def member(self, name: str, line: int) -> str | None:
        if name == "id":
            return "p.html#X.id"
        self.misses.append((name, line))
        return None

    def definition(self, name: str, line: int) -> str | None:
        if name == "Job":
            return "p.html#Job"
        self.misses.append((name, line))
        return None


def test_paragraphs_lists_and_literal_blocks() -> None:
    text = (
        "First line\ncontinues.\n\n* one\n* two,\n  still two\n\n"
        "1. first\n2. second\n\nExamples::\n\n  raw *text*\n    indented\n\nAfter.\n"
    )
    assert parse_text(text) == [
        Para(0, "First line continues."),
        ListBlock(3, False, [[Para(3, "one")], [Para(4, "two, still two")]]),
        ListBlock(7, True, [[Para(7, "first")], [Para(8, "second")]]),
        Para(10, "Examples:"),
        Literal(12, "raw *text*\n  indented"),
        Para(15, "After."),
    ]


def test_lone_double_colon_and_space_double_colon_vanish() -> None:
    assert parse_text("Look ::\n\n  code\n") == [Para(0, "Look"), Literal(2, "code")]
    assert parse_text("::\n\n  code\n") == [Literal(2, "code")]


def test_headings_with_and_without_overline() -> None:
    assert parse_text("*****\nTop\n*****\n\nSub\n===\n") == [Heading(0, "Top", 1), Heading(4, "Sub", 2)]


def test_note_directive_argument_runs_into_its_body() -> None:
    blocks = parse_text(".. note:: The first words\n   and the rest.\n\nAfter.\n")
    assert blocks == [Admonition(0, "Note", [Para(0, "The first words and the rest.")]), Para(3, "After.")]


def test_admonition_title_and_comment_dropped() -> None:
    blocks = parse_text(".. admonition:: Notes\n\n   - a\n   - b\n\n.. a comment\n   more\n")
    assert blocks == [Admonition(0, "Notes", [ListBlock(2, False, [[Para(2, "a")], [Para(3, "b")]])])]


def test_qmp_example_with_title_splits_messages_by_brackets() -> None:
    text = (
        ".. qmp-example::\n   :title: Two calls\n\n"
        '   -> { "execute": "x",\n        "arguments": { "a": 1 } }\n'
        '   <- { "return": {} }\n'
    )
    assert parse_text(text) == [
        Example(0, "Example: Two calls", [
            Message("->", '{ "execute": "x",\n  "arguments": { "a": 1 } }'),
            Message("<-", '{ "return": {} }'),
        ])
    ]


def test_annotated_example_keeps_prose_between_messages() -> None:
    text = (
        ".. qmp-example::\n   :annotated:\n\n   Do it::\n\n"
        '    -> { "execute": "x" }\n    <- { "return": {} }\n'
    )
    [example] = parse_text(text)
    assert isinstance(example, Example)
    assert example.parts == [
        Para(3, "Do it:"),
        Message("->", '{ "execute": "x" }'),
        Message("<-", '{ "return": {} }'),
    ]


def test_legacy_example_section() -> None:
    example = parse_example('Add one:\n\n-> { "execute": "a" }\n<- { "return": {} }\n')
    assert example.parts == [
        Para(0, "Add one:"),
        Message("->", '{ "execute": "a" }'),
        Message("<-", '{ "return": {} }'),
    ]


def test_simple_table() -> None:
    text = ".. table:: Combos\n   :widths: auto\n\n   ====  ===\n   a     b\n   ====  ===\n   1     2\n   ====  ===\n"
    assert parse_text(text) == [Table(0, "Combos", [["a", "b"], ["1", "2"]])]


def test_inline_html_links_names_and_reduces_roles() -> None:
    names = Names()
    html = HtmlRenderer().inline(
        "@id, @gone, `Job`, :qapi:type:`Job`, ``lit <x>``, :ref:`Title <target>`, "
        "*em*, **strong**, `link <https://example.org/>`_, a\\*b",
        names,
        4,
    )
    assert html == (
        '<a href="p.html#X.id"><code>id</code></a>, <code>gone</code>, '
        '<a href="p.html#Job"><code>Job</code></a>, <a href="p.html#Job"><code>Job</code></a>, '
        "<code>lit &lt;x&gt;</code>, <em>Title</em>, <em>em</em>, <strong>strong</strong>, "
        '<a href="https://example.org/">link</a>, a*b'
    )
    assert names.misses == [("gone", 4)]


def test_inline_markdown() -> None:
    md = MarkdownRenderer().inline("@id and `Job` keep_under *x*", Names())
    assert md == "[`id`](p.html#X.id) and [`Job`](p.html#Job) keep\\_under *x*"


def test_markdown_example_puts_a_conversation_in_one_block() -> None:
    example = parse_example('-> { "execute": "a" }\n<- { "return": {} }\n', "Example")
    assert MarkdownRenderer().example(example, Names()) == (
        '**Example**\n\n```\n-> { "execute": "a" }\n<- { "return": {} }\n```\n\n'
    )


def test_html_example_marks_requests_and_responses() -> None:
    example = parse_example('-> {"execute": "a"}\n', "Example")
    assert HtmlRenderer().example(example, Names()) == (
        '<div class="example"><p class="example-title">Example</p>\n'
        '<div class="msg req"><span class="dir" title="request">&rarr;</span>'
        '<pre>{"execute": "a"}</pre></div>\n</div>\n'
    )


def test_markdown_message_continuation_stays_aligned_and_brackets_stay_plain() -> None:
    example = parse_example('Set [0, 10):\n\n-> { "a": 1,\n     "b": 2 }\n', "Example")
    assert MarkdownRenderer().example(example, Names()) == (
        '**Example**\n\nSet [0, 10):\n\n```\n-> { "a": 1,\n     "b": 2 }\n```\n\n'
    )
    assert MarkdownRenderer().text("[a](b)") == "[a]\\(b)"
