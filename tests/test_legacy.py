"""The legacy dialect: the QAPI language of QEMU 2.9 to 5.2, checked as 3.1 did.

``tests/legacy/`` holds the cases, written for this project:

- ``X.json`` with a sidecar ``X.err`` is an invalid schema.  ``X.err`` gives
  where QEMU 3.1 reports the (first) error: its last line is the
  ``file:line:`` prefix (``file:line:col:`` for syntax and doc-comment
  errors, which QEMU reports with a column), and any lines before it are the
  ``In file included from ...`` lines that must precede it.  Only the place
  is compared: our messages use QEMU 10.2's wording where 3.1 said the same
  thing differently (``Expected ':'`` vs ``expected ':'``, "Unknown key" vs
  "has unknown key" ...), so the message text is not part of the contract
  here.  Like QEMU's own suite, each case runs from inside ``tests/legacy/``
  with the bare file name, so paths in messages are relative.
- ``good-*.json`` are valid legacy schemas; the tests below assert what
  QEMU 3.1's intermediate representation of them holds (entity names,
  implicit types, members), read from ``qapigen dump`` output.
- ``legacy-include/`` holds files the cases include.

QEMU 3.1 facts these cases rest on (from its ``scripts/qapi/common.py``):
semantic errors are reported at the line of the expression's opening
``{`` without a column, and without 10.2's ``In struct 'X':`` context line;
syntax errors at the line and column of the offending token (a string's
errors at its opening quote, a missing ``}`` at the end of the last line);
doc comment errors found while reading a block at the line being read
(column of its ``#``), but undocumented-member and misplaced ``Returns:``
errors at the block's first line.  The parser accepted ``null`` and
treated it as an absent value where a key is optional (``'data'`` and
``'returns'`` of a command, ``'base'``, ``'if'``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import qapigen
from qapigen import QAPIError
from tests import schema_by_eye as by_eye
from tests.conftest import CORPUS, REPO, needs_corpus

LEGACY = Path(__file__).resolve().parent / "legacy"

INVALID = sorted(p.stem for p in LEGACY.glob("*.err"))
VALID = sorted(p.stem for p in LEGACY.glob("good-*.json"))

# "file:line:" or "file:line:col:" at the start of a line; "In file included
# from" and "file: In struct 'X':" lines do not match.
_LOCATION = re.compile(r"^([^\s:][^:\n]*):(\d+):(?:(\d+):)? ")


@pytest.fixture
def in_legacy(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(LEGACY)
    return LEGACY


def load_error(name: str, dialect: str = "legacy") -> QAPIError:
    """Load tests/legacy/NAME.json (from inside tests/legacy) and return the
    QAPIError it raises; any other exception fails the test."""
    with pytest.raises(QAPIError) as excinfo:
        qapigen.load_schema(f"{name}.json", dialect=dialect)
    return excinfo.value


def error_location(text: str) -> tuple[list[str], str]:
    """Split an error message into its include chain and its location prefix."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _LOCATION.match(line)
        if match:
            chain = [x for x in lines[:i] if x.startswith("In file included from ")]
            return chain, match.group(0)[:-1]
    return [], ""


# ------------------------------------------------------------- invalid


def test_enough_invalid_cases() -> None:
    assert len(INVALID) >= 35
    assert len(VALID) >= 8


@pytest.mark.parametrize("name", INVALID)
def test_invalid_legacy_schema(name: str, in_legacy: Path) -> None:
    """The error lands where QEMU 3.1 reports it (the message may differ)."""
    *want_chain, want_loc = (in_legacy / f"{name}.err").read_text().splitlines()
    err = load_error(name)
    chain, loc = error_location(str(err))
    assert (chain, loc) == (want_chain, want_loc), f"full message:\n{err}"


def test_include_error_names_the_included_file(in_legacy: Path) -> None:
    text = str(load_error("include-nested-error"))
    assert text.startswith("In file included from include-nested-error.json:2:\n")
    assert "legacy-include/bad-sub.json:4:" in text


# --------------------------------------------------------------- valid


Blocks = dict[str, list[str]]


def dump(name: str, dialect: str = "legacy", doc_comments: str = "parse") -> str:
    """``qapigen dump`` of tests/legacy/NAME.json, run from tests/legacy."""
    from qapigen.cli import main

    args = ["dump", "--dialect", dialect, "--doc-comments", doc_comments, f"{name}.json"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    assert status == 0, err.getvalue()
    return out.getvalue()


_METAS = {"object", "enum", "array", "alternate", "command", "event"}


def entity_blocks(text: str) -> Blocks:
    """Map 'object Foo' (meta and name) to the entity's dump lines: its
    header line first, then its indented lines, stripped."""
    blocks: Blocks = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith(" "):
            words = line.split()
            if len(words) >= 2 and words[0] in _METAS:
                current = blocks.setdefault(f"{words[0]} {words[1]}", [])
                current.append(line)
            else:
                current = None
            continue
        if current is not None:
            current.append(line.strip())
    return blocks


def members(block: list[str]) -> list[str]:
    """'name: type' of each 'member' line of an object, or name of an enum's."""
    return [
        line.split(None, 1)[1].split(" optional=")[0]
        for line in block
        if line.startswith("member ")
    ]


def cases(block: list[str]) -> list[str]:
    return [line.split(None, 1)[1] for line in block if line.startswith("case ")]


@pytest.mark.parametrize("name", VALID)
def test_valid_legacy_schema_loads(name: str, in_legacy: Path) -> None:
    """Each valid legacy schema loads with exactly the definitions an
    independent reading of its files finds, in source order, each struct
    with its declared members."""
    doc_comments = "ignore" if name == "good-docs-ignored" else "parse"
    schema = qapigen.load_schema(f"{name}.json", dialect="legacy", doc_comments=doc_comments)
    expected = by_eye.definitions(in_legacy / f"{name}.json")
    assert expected, "a valid case defines something"
    explicit = [
        e for e in schema.entities
        if getattr(e, "meta", None) in by_eye.METAS and not e.is_implicit()  # type: ignore[attr-defined]
    ]  # fmt: skip
    assert [(e.meta, e.name) for e in explicit] == [(d.meta, d.name) for d in expected]
    for entity, defn in zip(explicit, expected, strict=True):
        if defn.meta == "struct":
            local = [(m.name, m.optional) for m in entity.local_members]
            assert local == by_eye.members(defn.expr), entity.name


def test_simple_union_ir(in_legacy: Path) -> None:
    """QEMU 3.1's IR of a simple union: enum ShapeKind, a 'type' tag member
    and one q_obj_<T>-wrapper struct per branch type, shared between unions."""
    blocks = entity_blocks(dump("good-simple-union"))
    assert members(blocks["enum ShapeKind"]) == ["point", "radius", "names"]
    assert members(blocks["enum SizeKind"]) == ["width", "label"]
    assert members(blocks["object q_obj_Point-wrapper"]) == ["data: Point"]
    assert members(blocks["object q_obj_int-wrapper"]) == ["data: int"]
    assert members(blocks["object q_obj_strList-wrapper"]) == ["data: strList"]
    assert members(blocks["object q_obj_str-wrapper"]) == ["data: str"]
    shape = blocks["object Shape"]
    assert members(shape) == ["type: ShapeKind"]
    assert "tag type" in shape
    assert cases(shape) == [
        "point: q_obj_Point-wrapper",
        "radius: q_obj_int-wrapper",
        "names: q_obj_strList-wrapper",
    ]
    assert cases(blocks["object Size"]) == ["width: q_obj_int-wrapper", "label: q_obj_str-wrapper"]
    assert members(blocks["object q_obj_draw-arg"]) == ["shape: Shape", "size: Size"]
    # One wrapper per wrapped type, however many unions use it.
    wrappers = [key for key in blocks if key.endswith("-wrapper")]
    assert sorted(wrappers) == sorted(set(wrappers))
    assert len(wrappers) == 4


def test_simple_union_definition_order(in_legacy: Path) -> None:
    """3.1 defines a simple union's wrappers, then its Kind enum, then it."""
    names = list(entity_blocks(dump("good-simple-union")))
    order = [
        "object q_obj_Point-wrapper",
        "object q_obj_int-wrapper",
        "object q_obj_strList-wrapper",
        "enum ShapeKind",
        "object Shape",
    ]
    assert [n for n in names if n in order] == order


def test_flat_union_ir(in_legacy: Path) -> None:
    blocks = entity_blocks(dump("good-flat-union"))
    assert "base ShapeBase" in blocks["object Shape"]
    assert "tag type" in blocks["object Shape"]
    assert cases(blocks["object Shape"])[:2] == ["circle: Circle", "square: Square"]
    assert members(blocks["object q_obj_Shape2-base"]) == ["type: ShapeType"]
    assert "base q_obj_Shape2-base" in blocks["object Shape2"]
    # Flat unions have no implicit enum and no wrappers.
    assert "enum ShapeKind" not in blocks
    assert "enum Shape2Kind" not in blocks
    assert not [key for key in blocks if key.endswith("-wrapper")]


def _if_lines(block: list[str]) -> str:
    return "\n".join(line for line in block if line.startswith("if "))


def test_if_string_and_list(in_legacy: Path) -> None:
    blocks = entity_blocks(dump("good-if"))
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["object SpiceInfo"])
    backend = _if_lines(blocks["enum Backend"])
    assert "defined(CONFIG_UI)" in backend
    assert "defined(CONFIG_GTK)" in backend
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["command query-spice"])
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["event SPICE_CONNECTED"])
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["alternate PortOrInfo"])
    # The implicit enum of a simple union has the union's condition ...
    assert "defined(CONFIG_DISPLAY)" in _if_lines(blocks["enum DisplayKind"])
    assert "defined(CONFIG_DISPLAY)" in _if_lines(blocks["object Display"])
    # ... a wrapper has the wrapped type's (3.1 passes the type as ifcond).
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["object q_obj_SpiceInfo-wrapper"])
    assert _if_lines(blocks["object q_obj_int-wrapper"]) == ""
    # An event's implicit argument type has the event's condition.
    assert "defined(CONFIG_SPICE)" in _if_lines(blocks["object q_obj_SPICE_CONNECTED-arg"])


def test_old_pragma_names(in_legacy: Path) -> None:
    blocks = entity_blocks(dump("good-pragmas"))
    assert blocks["command query-count"][0].endswith("-> int")
    assert blocks["command query-names"][0].endswith("-> strList")
    assert blocks["command query-mode"][0].endswith("-> Mode")
    assert members(blocks["object CpuInfo"]) == ["PC: int", "cpu-index: int"]
    assert members(blocks["enum CpuState"]) == ["Running", "halted"]


@pytest.mark.parametrize("pragma", ["returns-whitelist", "name-case-whitelist"])
def test_old_pragma_names_rejected_by_qemu_dialect(pragma: str, tmp_path: Path) -> None:
    schema = tmp_path / "p.json"
    schema.write_text(f"{{ 'pragma': {{ '{pragma}': [ 'x' ] }} }}\n")
    with pytest.raises(QAPIError):
        qapigen.load_schema(str(schema), dialect="qemu")


def test_features(in_legacy: Path) -> None:
    blocks = entity_blocks(dump("good-features"))
    point = blocks["object Point"]
    assert [line for line in point if line.startswith("feature ")] == [
        "feature deprecated",
        "feature x-experimental",
    ]
    assert "defined(CONFIG_X)" in "\n".join(point)
    assert "feature deprecated" in blocks["command move"]


def test_null_means_absent(in_legacy: Path) -> None:
    """QEMU 3.1 parsed null and let it stand for an absent optional value."""
    blocks = entity_blocks(dump("good-null"))
    assert blocks["command ping"][0].split()[2:] == ["None", "->", "None"]
    point = blocks["object Point"]
    assert members(point) == ["x: int"]
    assert not [line for line in point if line.startswith(("base ", "if "))]


def test_null_rejected_by_qemu_dialect(in_legacy: Path) -> None:
    with pytest.raises(QAPIError) as excinfo:
        qapigen.load_schema("good-null.json", dialect="qemu")
    _chain, loc = error_location(str(excinfo.value))
    assert loc.startswith("good-null.json:3:")


def test_legacy_names_and_escapes(in_legacy: Path) -> None:
    blocks = entity_blocks(dump("good-legacy-names"))
    assert "object point_2d" in blocks
    assert "command block_resize" in blocks
    assert "event device_deleted" in blocks
    assert members(blocks["enum Greek"]) == ["alpha", "beta"]


@pytest.mark.parametrize("name", ["good-simple-union", "good-legacy-names", "good-docs"])
def test_legacy_only_schema_rejected_by_qemu_dialect(name: str, in_legacy: Path) -> None:
    load_error(name, dialect="qemu")


def test_legacy_docs(in_legacy: Path) -> None:
    schema = qapigen.load_schema("good-docs.json", dialect="legacy")
    symbols = [doc.symbol for doc in schema.docs]
    assert symbols == [None, "Status", "StatusInfo", "query-status"]
    status = schema.docs[1]
    assert list(status.args) == ["on", "off"]
    assert all(arg.member is not None for arg in status.args.values())
    kinds = [str(section.kind) for section in schema.docs[3].sections]
    assert "Returns" in kinds
    assert "Since" in kinds


def test_include_paths_relative_to_including_file(in_legacy: Path) -> None:
    text = dump("good-include")
    blocks = entity_blocks(text)
    assert {"object Top", "object SubStruct", "enum SubSubEnum"} <= set(blocks)
    assert "include legacy-include/sub.json" in text.splitlines()
    assert "module legacy-include/subsub.json" in text.splitlines()


# ------------------------------------------------------- doc comments


@pytest.mark.parametrize("dialect", ["legacy", "qemu"])
def test_doc_comments_ignore(dialect: str, in_legacy: Path) -> None:
    """A QEMU 2.5-2.8 style schema, whose ## blocks are not valid docs,
    loads when doc comments are ignored, and fails when they are parsed."""
    schema = qapigen.load_schema("good-docs-ignored.json", dialect=dialect, doc_comments="ignore")
    assert list(schema.docs) == []
    blocks = entity_blocks(dump("good-docs-ignored", dialect, doc_comments="ignore"))
    assert members(blocks["enum Status"]) == ["on", "off"]
    assert members(blocks["object Point"]) == ["x: int"]
    with pytest.raises(QAPIError):
        qapigen.load_schema("good-docs-ignored.json", dialect=dialect, doc_comments="parse")


def test_doc_comments_parse_error_location(in_legacy: Path) -> None:
    with pytest.raises(QAPIError) as excinfo:
        qapigen.load_schema("good-docs-ignored.json", dialect="legacy")
    assert error_location(str(excinfo.value)) == ([], "good-docs-ignored.json:4:1:")


# ------------------------------------------------------ [tool.qapigen]


def _qapigen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the ``qapigen`` command line (this checkout's) as a user would."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "qapigen.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project folder holding a legacy-only schema and a docs-less one."""
    shutil.copy(LEGACY / "good-simple-union.json", tmp_path / "schema.json")
    shutil.copy(LEGACY / "good-docs-ignored.json", tmp_path / "old.json")
    yield tmp_path


def _pyproject(folder: Path, settings: str) -> None:
    (folder / "pyproject.toml").write_text(f"[tool.qapigen]\n{settings}\n")


def test_pyproject_dialect_legacy(project: Path) -> None:
    _pyproject(project, 'dialect = "legacy"')
    result = _qapigen("check", "schema.json", cwd=project)
    assert result.returncode == 0, result.stderr
    # The command line wins over the file.
    result = _qapigen("check", "--dialect", "qemu", "schema.json", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("schema.json:")


def test_pyproject_dialect_qemu(project: Path) -> None:
    _pyproject(project, 'dialect = "qemu"')
    assert _qapigen("check", "schema.json", cwd=project).returncode == 1
    result = _qapigen("check", "--dialect", "legacy", "schema.json", cwd=project)
    assert result.returncode == 0, result.stderr


def test_pyproject_doc_comments_ignore(project: Path) -> None:
    _pyproject(project, 'dialect = "legacy"\ndoc-comments = "ignore"')
    result = _qapigen("check", "old.json", cwd=project)
    assert result.returncode == 0, result.stderr
    result = _qapigen("check", "--doc-comments", "parse", "old.json", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("old.json:4:1:")


def test_pyproject_bad_dialect(project: Path) -> None:
    _pyproject(project, 'dialect = "qemu-3.1"')
    result = _qapigen("check", "schema.json", cwd=project)
    assert result.returncode != 0
    assert "dialect" in result.stderr


# -------------------------------------------------------------- corpus

CORPUS_SCHEMAS = [
    ("legacy", "qemu-3.1/qapi/qapi-schema.json"),
    ("legacy", "qemu-3.1/qga/qapi-schema.json"),
    ("qemu", "qemu-10.2/qapi/qapi-schema.json"),
    ("qemu", "qemu-10.2/qga/qapi-schema.json"),
    ("qemu", "qemu-10.2/storage-daemon/qapi/qapi-schema.json"),
]


@needs_corpus
@pytest.mark.parametrize(("dialect", "schema"), CORPUS_SCHEMAS)
def test_corpus_schema_checks(dialect: str, schema: str) -> None:
    """``qapigen check`` accepts QEMU's real schemas (3.1 ones as legacy)."""
    args = ["check", str(CORPUS / schema)]
    if dialect == "legacy":
        args[1:1] = ["--dialect", "legacy"]
    result = _qapigen(*args, cwd=REPO)
    assert result.returncode == 0, result.stderr


@needs_corpus
@pytest.mark.parametrize(
    "schema", ["qemu-3.1/qapi/qapi-schema.json", "qemu-3.1/qga/qapi-schema.json"]
)
def test_corpus_3_1_is_not_qemu_dialect(schema: str) -> None:
    """The 3.1 schemas use simple unions and old pragmas: not 10.2's language."""
    with pytest.raises(QAPIError):
        qapigen.load_schema(str(CORPUS / schema), dialect="qemu")


@needs_corpus
def test_corpus_3_1_simple_union_ir() -> None:
    """The seed's simple union TransactionAction as QEMU 3.1 modelled it."""
    schema = CORPUS / "qemu-3.1/qapi/qapi-schema.json"
    from qapigen.backends.dump import dump_schema

    blocks = entity_blocks(dump_schema(qapigen.load_schema(str(schema), dialect="legacy")))
    kinds = members(blocks["enum TransactionActionKind"])
    assert kinds[:2] == ["abort", "block-dirty-bitmap-add"]
    assert "x-block-dirty-bitmap-merge" in kinds
    action = blocks["object TransactionAction"]
    assert members(action) == ["type: TransactionActionKind"]
    assert "case abort: q_obj_Abort-wrapper" in action
    assert "case block-dirty-bitmap-clear: q_obj_BlockDirtyBitmap-wrapper" in action
    assert members(blocks["object q_obj_BlockDirtyBitmap-wrapper"]) == ["data: BlockDirtyBitmap"]
