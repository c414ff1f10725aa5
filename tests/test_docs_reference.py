"""``qapigen docs``: the reference for QEMU's schemas and for ours."""

from __future__ import annotations

import html
import importlib
import json
import os
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

from qapigen.api import load_schema
from qapigen.backends.docs.build import DocsOptions, DocsResult, build_docs
from qapigen.backends.docs.model import build_model
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.cli import main
from qapigen.dialect import Dialect
from qapigen.frontend.docs import Kind
from tests.conftest import CORPUS, QEMU_SUITE, REPO

SCHEMA_10 = CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json"
SCHEMA_31 = CORPUS / "qemu-3.1" / "qapi" / "qapi-schema.json"
OURS = REPO / "schema" / "qapi-schema.json"
RELEASES = {"qemu-10.2": (SCHEMA_10, Dialect.QEMU), "qemu-3.1": (SCHEMA_31, Dialect.LEGACY)}


def need_corpus() -> None:
    """Skip without QEMU's corpus, except under CI, where it must be there."""
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"QEMU's QAPI corpus is missing at {CORPUS}")
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, DocsResult]]]:
    need_corpus()
    out: dict[str, tuple[Path, DocsResult]] = {}
    for release, (schema, dialect) in RELEASES.items():
        folder = tmp_path_factory.mktemp(release)
        out[release] = (folder, build_docs(DocsOptions(schema, folder, "html", dialect)))
    yield out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value:
                self.links.append(value)


def _crawl(folder: Path) -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    for page in sorted(folder.glob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        ids[page.name] = parser.ids
        links += [(page.name, link) for link in parser.links]
    return ids, links


@pytest.mark.parametrize("release", list(RELEASES))
def test_every_documented_definition_has_its_anchor(
    built: dict[str, tuple[Path, DocsResult]], release: str
) -> None:
    folder, _ = built[release]
    schema_path, dialect = RELEASES[release]
    schema = load_schema(str(schema_path), dialect)
    ids, _ = _crawl(folder)
    everywhere = set().union(*ids.values())
    documented = [
        d.name for d in schema.definitions()
        if d.doc is not None and d.info is not None and not d.is_implicit()
    ]
    assert len(documented) > 500
    assert [n for n in documented if n not in everywhere] == []


@pytest.mark.parametrize("release", list(RELEASES))
def test_crawler_finds_no_broken_internal_link(
    built: dict[str, tuple[Path, DocsResult]], release: str
) -> None:
    folder, _ = built[release]
    assert _broken_links(folder, 5000) == []


def test_crawler_finds_no_broken_link_in_our_reference(tmp_path: Path) -> None:
    build_docs(DocsOptions(OURS, tmp_path, "html"))
    assert _broken_links(tmp_path, 500) == []
    # `abort` in TransactionAction's text is a branch of that union.
    page = (tmp_path / "transaction.html").read_text()
    assert '<a href="transaction.html#TransactionAction.type-abort"><code>abort</code></a>' in page


def test_pages_load_nothing_from_the_network(built: dict[str, tuple[Path, DocsResult]]) -> None:
    folder, _ = built["qemu-10.2"]
    for page in folder.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(?!\w[\w.-]*\.(?:js|css)")', text) == []
        assert "@import" not in text and "url(" not in text
    assert "url(" not in (folder / "style.css").read_text()
    assert "fetch(" not in (folder / "search.js").read_text()


def _broken_links(folder: Path, at_least: int) -> list[tuple[str, str]]:
    ids, links = _crawl(folder)
    index = json.loads(
        (folder / "search-index.js").read_text().removeprefix("window.QAPI_INDEX = ").rstrip(";\n")
    )
    links += [("search-index.js", entry[2]) for entry in index]
    broken = []
    checked = 0
    for source, link in links:
        if re.match(r"[a-z]+:", link):
            assert link.startswith(("http://", "https://")), link  # no file:, no data:
            continue
        target, _, fragment = link.partition("#")
        target = target or source
        checked += 1
        if not (folder / target).is_file() or (fragment and fragment not in ids.get(target, set())):
            broken.append((source, link))
    assert checked > at_least
    return broken


@pytest.mark.parametrize("release", list(RELEASES))
def test_unresolved_references_are_warnings_at_their_line(
    built: dict[str, tuple[Path, DocsResult]], release: str
) -> None:
    _, result = built[release]
    assert result.warnings, "QEMU's schemas do mention a few names that do not exist"
    for warning in result.warnings:
        text = str(warning)
        match = re.fullmatch(r"(\S+\.json):(\d+): warning: reference '(@?)([\w.+-]+)' resolves to nothing", text)
        assert match, text
        line = Path(match.group(1)).read_text().split("\n")[int(match.group(2)) - 1]
        needle = "@" + match.group(4) if match.group(3) else match.group(4)
        assert needle in line, text


def _visible_text(page: str) -> str:
    """What a reader sees outside code: no tags, scripts, code or pre."""
    page = re.sub(r"<(script|pre|code)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_raw_rst_in_the_10_2_reference(built: dict[str, tuple[Path, DocsResult]]) -> None:
    folder, _ = built["qemu-10.2"]
    leftovers = []
    for page in sorted(folder.glob("*.html")):
        text = _visible_text(page.read_text(encoding="utf-8"))
        for pattern in (r"::(\s|$)", r":[\w:-]+:`", r"`", r"(^|\s)\.\.\s+[\w-]+::", r"\*\*", r"^\s*:\w+:"):
            for m in re.finditer(pattern, text, flags=re.M):
                leftovers.append((page.name, text[max(m.start() - 30, 0) : m.end() + 30]))
    assert leftovers == []


def test_every_example_and_admonition_of_10_2_is_rendered(
    built: dict[str, tuple[Path, DocsResult]],
) -> None:
    folder, _ = built["qemu-10.2"]
    pages = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    sources = "".join(p.read_text() for p in SCHEMA_10.parent.glob("*.json"))
    assert pages.count('<div class="example">') >= sources.count(".. qmp-example::")
    assert pages.count('class="admonition-title"') >= sources.count(".. note::") + sources.count(
        ".. admonition::"
    )


def test_legacy_example_sections_are_request_response_blocks(
    built: dict[str, tuple[Path, DocsResult]],
) -> None:
    folder, _ = built["qemu-3.1"]
    pages = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.html"))
    docs = load_schema(str(SCHEMA_31), Dialect.LEGACY).docs
    written = sum(
        s.kind in (Kind.EXAMPLE, Kind.EXAMPLES) for d in docs if d.symbol for s in d.all_sections
    )
    assert written > 150
    assert pages.count('<div class="example"><p class="example-title">Example</p>') == written
    assert pages.count('<div class="msg req">') > written


# -- doc-good.json: the sections QEMU shows, in QEMU's order -----------------


def _qemu_sections(text: str) -> list[tuple[str, list[str]]]:
    """(definition, section titles) from QEMU's doc-good.txt rendering."""
    out: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        head = re.match(r"^(Command|Event|Object|Enum|Alternate) (\S+)", line)
        if head:
            out.append((head.group(2), []))
        elif out and re.match(r"^   \S.*:$|^   Note::$", line):
            title = line.strip().rstrip(":").split(":")[0]
            out[-1][1].append({"Return": "Returns"}.get(title, title))
    return out


def _our_sections(markdown: str) -> list[tuple[str, list[str]]]:
    """The same from our Markdown: an entry's bold titles and the
    paragraphs that introduce a literal block."""
    out: list[tuple[str, list[str]]] = []
    lines = markdown.split("\n")
    for n, line in enumerate(lines):
        head = re.match(r"^### \w+ `(\S+)`", line)
        if head:
            out.append((head.group(1), []))
            continue
        if not out:
            continue
        bold = re.match(r"^(?:> )?\*\*([^*]+)\*\*$", line)
        intro = re.match(r"^(\w+):$", line)
        if bold and bold.group(1) != "Minimal request":
            out[-1][1].append(bold.group(1).split(":")[0])
        elif intro and n + 2 < len(lines) and lines[n + 2] == "```":
            out[-1][1].append(intro.group(1))
    return out


def test_doc_good_shows_qemus_sections_in_qemus_order(tmp_path: Path) -> None:
    need_corpus()
    build_docs(DocsOptions(QEMU_SUITE / "doc-good.json", tmp_path, "markdown"))
    ours = _our_sections((tmp_path / "doc-good.md").read_text())
    qemu = _qemu_sections((QEMU_SUITE / "doc-good.txt").read_text())
    assert qemu[-3][0] == "cmd"
    assert qemu[-3][1] == [
        "Arguments", "Features", "Note", "Returns", "Errors", "Notes", "Example", "Examples", "Note",
    ]
    assert ours == qemu


def test_doc_good_headings_come_in_order(tmp_path: Path) -> None:
    need_corpus()
    build_docs(DocsOptions(QEMU_SUITE / "doc-good.json", tmp_path, "html"))
    page = (tmp_path / "doc-good.html").read_text()
    headings = re.findall(r'<h(\d) class="doc-heading">([^<]+)</h\d>', page)
    assert headings == [("2", "Section"), ("3", "Subsection"), ("3", "Another subsection")]
    # The entries come between them, in source order.
    order = re.findall(r'<section class="entry kind-\w+" id="([^"]+)"', page)
    assert order == ["Enum", "Base", "Variant1", "Variant2", "Object", "Alternate", "cmd", "cmd-boxed", "EVT_BOXED"]


def test_union_members_are_flattened_base_then_branches(tmp_path: Path) -> None:
    need_corpus()
    build_docs(DocsOptions(QEMU_SUITE / "doc-good.json", tmp_path, "markdown"))
    md = (tmp_path / "doc-good.md").read_text()
    union = md.split("### union `Object`")[1].split("### alternate")[0]
    assert re.findall(r"^- <a id=\"([^\"]+)\"></a>|^(?:<a id=\"\S+\"></a>)?When (.*):$", union, flags=re.M) == [
        ("Object.base1", ""),
        ("", "`base1` is `one` ([`Variant1`](doc-good.md#Variant1))"),
        ("Object.var1", ""),
        ("", "`base1` is `two` ([`Variant2`](doc-good.md#Variant2)) (if `IFONE or IFTWO`)"),
        ("Object.feature.union-feat1", ""),
    ]
    assert "- <a id=\"Object.var1\"></a>**var1**: `str` (if `IFSTR`)\n" in union


# -- generated minimal requests are accepted by the generated validators ------


def _package(tmp_path: Path, schema: Path, dialect: Dialect, name: str) -> ModuleType:
    generate(GenerateOptions(schema=schema, output=tmp_path, package=name, dialect=dialect,
                             formatter="none", cache_dir=tmp_path / ".cache"))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def _requests(schema: Path, dialect: Dialect) -> dict[str, dict[str, object]]:
    model = build_model(load_schema(str(schema), dialect), ".html")
    requests = {}
    for entry in model.entries.values():
        if entry.request is not None:
            [message] = entry.request.parts
            requests[entry.name] = json.loads(message.text)  # type: ignore[union-attr]
    return requests


def _assert_all_decode(package: ModuleType, requests: dict[str, dict[str, object]]) -> None:
    assert set(requests) == set(package.COMMANDS)
    for name, request in requests.items():
        assert request["execute"] == name
        assert set(request) <= {"execute", "arguments"}
        package.COMMANDS[name].decode(request.get("arguments", {}), "", "null")


def test_minimal_requests_of_our_schema_decode(tmp_path: Path) -> None:
    package = _package(tmp_path, OURS, Dialect.QEMU, "qmpdocs_ours")
    requests = _requests(OURS, Dialect.QEMU)
    _assert_all_decode(package, requests)
    assert requests["block-dirty-bitmap-add"] == {
        "execute": "block-dirty-bitmap-add", "arguments": {"node": "<node>", "name": "<name>"},
    }


def test_minimal_requests_of_qemu_3_1_decode(tmp_path: Path) -> None:
    need_corpus()
    package = _package(tmp_path, SCHEMA_31, Dialect.LEGACY, "qmpdocs31")
    requests = _requests(SCHEMA_31, Dialect.LEGACY)
    _assert_all_decode(package, requests)
    assert requests["blockdev-add"]["arguments"] == {"driver": "blkdebug", "image": "<image>"}


def test_minimal_requests_of_qemu_10_2_decode(tmp_path: Path) -> None:
    need_corpus()
    package = _package(tmp_path, SCHEMA_10, Dialect.QEMU, "qmpdocs102")
    requests = _requests(SCHEMA_10, Dialect.QEMU)
    _assert_all_decode(package, requests)
    # A union argument picks its first branch that does not need itself.
    assert requests["blockdev-add"]["arguments"] == {"driver": "blkdebug", "image": "<image>"}
    assert requests["query-status"] == {"execute": "query-status"}


# -- the command, its settings, its output -----------------------------------


def _small(tmp_path: Path) -> Path:
    schema = tmp_path / "small.json"
    schema.write_text(
        "##\n# Things\n# ======\n##\n\n##\n# @go:\n#\n# Start @what.\n#\n# @what: the thing\n#\n# Since: 1.0\n##\n"
        "{ 'command': 'go', 'data': { 'what': 'str' } }\n"
    )
    return schema


def test_cli_writes_only_what_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    schema = _small(tmp_path)
    out = tmp_path / "ref"
    assert main(["docs", str(schema), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("qapigen docs: 5 written, 0 unchanged")
    assert sorted(p.name for p in out.iterdir()) == [
        ".qapigen-manifest.json", "index.html", "search-index.js", "search.js", "small.html", "style.css",
    ]
    assert main(["docs", str(schema), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("qapigen docs: 0 written, 5 unchanged")
    schema.write_text(schema.read_text().replace("Start", "Begin"))
    assert main(["docs", str(schema), "-o", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    # The manifest records the changed input too.
    assert err == (
        f"qapigen: 3 docs files are out of date:\n  {out / '.qapigen-manifest.json'}\n"
        f"  {out / 'search-index.js'}\n  {out / 'small.html'}\n"
    )
    assert main(["docs", str(schema), "-o", str(out), "--format", "markdown"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".qapigen-manifest.json", "index.md", "small.md"]


def test_cli_markdown_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["docs", str(_small(tmp_path)), "-o", "md", "--format", "markdown"]) == 0
    assert (tmp_path / "md" / "small.md").read_text() == (
        "# Things\n\n[All modules](index.md) · `small.json`\n\n"
        "### Things\n\n"
        '<a id="go"></a>\n\n### command `go`\n\n*Since 1.0*\n\n'
        "Start [`what`](small.md#go.what).\n\n"
        "**Arguments**\n\n"
        '- <a id="go.what"></a>**what**: `str`: the thing\n\n'
        '**Minimal request**\n\n```\n-> {"execute": "go", "arguments": {"what": "<what>"}}\n```\n'
    )


def test_cli_bad_format_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["docs", str(_small(tmp_path)), "--format", "pdf"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'pdf'" in err


def test_config_docs_switch(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    _small(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.qapigen]\nschema = "small.json"\noutput = "gen"\nformatter = "none"\ndocs = "markdown"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert main(["generate"]) == 0
    assert (tmp_path / "gen" / "docs" / "small.md").is_file()
    assert main(["generate", "--check"]) == 0
    (tmp_path / "gen" / "docs" / "small.md").write_text("stale")
    capsys.readouterr()
    assert main(["generate", "--check"]) == 1
    assert capsys.readouterr().err == f"qapigen: 1 docs file is out of date:\n  {Path('gen/docs').resolve() / 'small.md'}\n"
    (tmp_path / "pyproject.toml").write_text('[tool.qapigen]\nschema = "small.json"\ndocs = "pdf"\n')
    assert main(["generate"]) == 1
    assert capsys.readouterr().err == (
        f"{tmp_path / 'pyproject.toml'}: [tool.qapigen] docs must be true, false, \"html\" or \"markdown\"\n"
    )


def test_committed_docs_are_current() -> None:
    from qapigen.config import load_config

    config = load_config(REPO / "pyproject.toml")
    assert config.docs == "html"
    assert config.schema is not None
    result = build_docs(DocsOptions(config.schema, config.output / "docs", "html"), check=True)
    assert result.report.stale == []
    assert result.warnings == []  # our schema's references all resolve
    assert (REPO / "generated" / "docs" / "transaction.html").is_file()


FEATURES = """\
##
# @Speed:
#
# How fast.
#
# @slow: careful
#
# @fast: quick
#
# Features:
# @deprecated: use @slow
##
{ 'enum': 'Speed', 'data': [ 'slow', { 'name': 'fast', 'features': [ 'deprecated' ] } ] }

##
# @RunArgs:
#
# @speed: how fast (default: slow)
#
# @dry: only pretend.  Default false.
#
# @trace: trace it
#
# Features:
# @unstable: still moving
##
{ 'struct': 'RunArgs',
  'data': { '*speed': 'Speed', '*dry': 'bool',
            '*trace': { 'type': 'bool', 'if': 'CONFIG_TRACE',
                        'features': [ 'unstable' ] } } }

##
# @run:
#
# Run it.
#
# Features:
# @unstable: still moving
# @deprecated: going away
##
{ 'command': 'run', 'boxed': true, 'data': 'RunArgs',
  'features': [ 'unstable', 'deprecated' ] }
"""


def test_badges_defaults_and_conditions(tmp_path: Path) -> None:
    schema = tmp_path / "feat.json"
    schema.write_text(FEATURES)
    build_docs(DocsOptions(schema, tmp_path / "out", "html"))
    page = (tmp_path / "out" / "feat.html").read_text()
    assert (
        '<h2><span class="kind">command</span> <a class="name" href="#run">run</a>'
        '<span class="badge badge-unstable">unstable</span>'
        '<span class="badge badge-deprecated">deprecated</span></h2>'
    ) in page
    assert (
        '<dt id="run.speed"><a class="member-name" href="#run.speed">speed</a>: '
        '<a class="type" href="feat.html#Speed"><code>Speed</code></a> <span class="opt">optional</span> '
        '<span class="opt default">default <code>slow</code></span></dt>'
    ) in page
    assert '<span class="opt default">default <code>false</code></span></dt>' in page
    assert (
        '<a class="member-name" href="#run.trace">trace</a>: <code class="type">bool</code> '
        '<span class="opt">optional</span> <span class="badge badge-unstable">unstable</span> '
        '<span class="ifcond" title="only if">if <code>CONFIG_TRACE</code></span></dt>'
    ) in page
    assert (
        '<a class="member-name" href="#Speed.fast">fast</a> <span class="badge badge-deprecated">'
        "deprecated</span></dt>"
    ) in page
    # The enum's feature text names its value: @slow links to it.
    assert '<a href="feat.html#Speed.slow"><code>slow</code></a>' in page
    index = (tmp_path / "out" / "search-index.js").read_text()
    assert index == (
        'window.QAPI_INDEX = [["Speed","enum","feat.html#Speed","How fast."],'
        '["RunArgs","struct","feat.html#RunArgs",""],["run","command","feat.html#run","Run it."]];\n'
    )


def test_cli_bad_schema_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["docs", str(tmp_path / "none.json"), "-o", "out"]) == 1
    assert capsys.readouterr().err == (
        f"can't read schema file '{tmp_path / 'none.json'}': No such file or directory\n"
    )
    assert main(["docs", "-o", "out"]) == 1
    assert capsys.readouterr().err == "no schema given, and [tool.qapigen] sets none\n"
    assert not (tmp_path / "out").exists()
