"""``qapigen generate``: the packages it writes, and how it writes them."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from qapigen import load_schema
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.backends.python.output import MANIFEST, Manifest, digest
from qapigen.cli import main
from qapigen.dialect import Dialect
from tests import schema_by_eye as by_eye
from tests.conftest import CORPUS, REPO, needs_corpus

SCHEMA_10 = CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json"
SCHEMA_31 = CORPUS / "qemu-3.1" / "qapi" / "qapi-schema.json"


def _import(folder: Path, package: str) -> ModuleType:
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The 10.2 and 3.1 schemas generated side by side, as qmp102 and qmp31."""
    if not CORPUS.is_dir():
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS}")
    out = tmp_path_factory.mktemp("generated")
    for schema, package, dialect in (
        (SCHEMA_10, "qmp102", Dialect.QEMU),
        (SCHEMA_31, "qmp31", Dialect.LEGACY),
    ):
        generate(
            GenerateOptions(
                schema=schema, output=out, package=package, dialect=dialect, formatter="none",
                cache_dir=out / ".cache",
            )
        )
    yield out


@needs_corpus
@pytest.mark.parametrize(
    ("package", "release", "dialect"),
    [("qmp102", "qemu-10.2", Dialect.QEMU), ("qmp31", "qemu-3.1", Dialect.LEGACY)],
)
def test_packages_import_with_their_registries(
    packages: Path, package: str, release: str, dialect: Dialect
) -> None:
    """TYPES has every type of the schema, COMMANDS every command and
    EVENTS every event, by wire name; SCHEMA_INFO is QEMU's own."""
    qmp = _import(packages, package)
    schema = load_schema(str(CORPUS / release / "qapi" / "qapi-schema.json"), dialect)
    assert sorted(qmp.TYPES) == sorted(t.name for t in schema.types())
    assert sorted(qmp.COMMANDS) == sorted(c.name for c in schema.commands())
    assert sorted(qmp.EVENTS) == sorted(e.name for e in schema.events())
    # The same counts as an independent reading of the schema files.
    defs = by_eye.definitions(CORPUS / release / "qapi" / "qapi-schema.json")
    assert len(qmp.COMMANDS) == sum(d.meta == "command" for d in defs)
    assert len(qmp.EVENTS) == sum(d.meta == "event" for d in defs)
    assert "query-qmp-schema" in qmp.COMMANDS
    golden = json.loads((CORPUS / release / "expected" / "introspect.json").read_text())
    assert golden == qmp.SCHEMA_INFO


@needs_corpus
def test_packages_pass_mypy_strict(packages: Path, tmp_path: Path) -> None:
    env = dict(os.environ, MYPYPATH=str(REPO))
    proc = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy"),
            "-p", "qmp102", "-p", "qmp31",
        ],
        cwd=packages, env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_union_narrows_on_its_discriminator(tmp_path: Path) -> None:
    """mypy narrows a union value on the tag, as the brief promises."""
    user = tmp_path / "user_code.py"
    user.write_text(
        textwrap.dedent(
            """
            from typing import assert_type

            from qmp import TransactionAction, TransactionActionKind, BlockDirtyBitmapAdd
            from qmp import TransactionActionBlockDirtyBitmapAdd


            def granularity(action: TransactionAction) -> int | None:
                if action.type is TransactionActionKind.BLOCK_DIRTY_BITMAP_ADD:
                    assert_type(action, TransactionActionBlockDirtyBitmapAdd)
                    assert_type(action.data, BlockDirtyBitmapAdd)
                    return action.data.granularity
                return None
            """
        )
    )
    env = dict(os.environ, MYPYPATH=os.pathsep.join([str(REPO), str(REPO / "generated")]))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "c"), str(user)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_committed_package_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert main(["generate", "--check"]) == 0


SMALL = """\
{ 'include': 'extra.json' }
{ 'enum': 'Mode', 'data': [ 'fast', 'slow' ] }
{ 'struct': 'Job', 'data': { 'id': 'str', '*mode': 'Mode', '*speed': 'uint32' } }
{ 'command': 'start', 'data': { 'job': 'Job' }, 'returns': 'Job' }
{ 'struct': 'Guarded', 'data': { 'x': 'int' }, 'if': 'CONFIG_GUARD' }
"""


def _small(tmp_path: Path, extra: str = "{ 'event': 'DONE', 'data': { 'id': 'str' } }\n") -> Path:
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)
    (schema / "main.json").write_text(SMALL)
    (schema / "extra.json").write_text(extra)
    return schema / "main.json"


def _options(tmp_path: Path, schema: Path, **kw: object) -> GenerateOptions:
    return GenerateOptions(
        schema=schema, output=tmp_path / "out", package="small", formatter="none",
        cache_dir=tmp_path / "cache", **kw,  # type: ignore[arg-type]
    )


def test_writes_only_what_changed_and_removes_what_is_gone(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    first = generate(_options(tmp_path, schema))
    assert "extra.py" in first.report.written and not first.report.unchanged
    again = generate(_options(tmp_path, schema))
    assert again.skipped and not again.report.written
    # A one-line change rewrites only the module it touches.
    (schema.parent / "extra.json").write_text("{ 'event': 'DONE', 'data': { 'id': 'int' } }\n")
    changed = generate(_options(tmp_path, schema))
    assert changed.report.written == ["extra.py", "schema_info.json"]
    # A module the schema no longer has is deleted; user files stay.
    (tmp_path / "out" / "small" / "mine.txt").write_text("keep me")
    (schema.parent / "extra.json").write_text("")
    shrunk = generate(_options(tmp_path, schema))
    assert "extra.py" in shrunk.report.deleted
    assert not (tmp_path / "out" / "small" / "extra.py").exists()
    assert (tmp_path / "out" / "small" / "mine.txt").exists()


def test_check_lists_stale_files_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = _small(tmp_path)
    args = ["generate", str(schema), "-o", str(tmp_path / "out"), "--package", "small",
            "--formatter", "none"]
    assert main([*args, "--check"]) == 1
    assert "main.py" in capsys.readouterr().err
    assert not (tmp_path / "out" / "small").exists()
    assert main(args) == 0
    assert "written" in capsys.readouterr().out
    assert main([*args, "--check"]) == 0


def test_same_input_same_bytes(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    outputs = []
    for run in ("a", "b"):
        options = _options(tmp_path, schema)
        options.output = tmp_path / run
        generate(options)
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / run / "small").iterdir()})
    assert outputs[0] == outputs[1]


def test_black_is_the_default_and_cached(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    options = _options(tmp_path, schema)
    options.formatter = "black"
    cold = generate(options)
    assert cold.formatted > 0
    text = (tmp_path / "out" / "small" / "main.py").read_text()
    assert "'" not in text.split('"""', 2)[2].replace("\"'\"", "")  # black's quotes
    (tmp_path / "out" / "small" / "main.py").unlink()
    warm = generate(options)
    assert warm.formatted == 0 and warm.report.written == ["main.py"]


def test_conditions_are_resolved_at_generation_time(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    generate(_options(tmp_path, schema))
    assert "class Guarded" in (tmp_path / "out" / "small" / "main.py").read_text()
    generate(_options(tmp_path, schema, conditions=[]))
    assert "class Guarded" not in (tmp_path / "out" / "small" / "main.py").read_text()
    generate(_options(tmp_path, schema, conditions=["CONFIG_GUARD"]))
    assert "class Guarded" in (tmp_path / "out" / "small" / "main.py").read_text()


def test_user_templates_override_one_template(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    mine = tmp_path / "templates"
    mine.mkdir()
    shipped = REPO / "templates" / "_header.py.jinja"
    (mine / "_header.py.jinja").write_text("# Company header\n" + shipped.read_text())
    generate(_options(tmp_path, schema, templates=mine))
    assert (tmp_path / "out" / "small" / "main.py").read_text().startswith("# Company header\n")


def test_generated_small_package_round_trips(tmp_path: Path) -> None:
    schema = _small(tmp_path)
    generate(_options(tmp_path, schema))
    small = _import(tmp_path / "out", "small")
    job = small.Job.from_wire({"id": "j1", "mode": "slow"})
    assert job == small.Job(id="j1", mode=small.Mode.SLOW)
    assert job.to_wire() == {"id": "j1", "mode": "slow"}
    with pytest.raises(small.QMPError if hasattr(small, "QMPError") else Exception) as err:
        small.Job.from_wire({"id": "j1", "speed": 2**32})
    assert str(err.value) == "Parameter 'speed' expects uint32_t"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "nonexistent.json"], "can't read schema file 'nonexistent.json'"),
        (["generate", "schema/qapi-schema.json", "--package", "not-a-name"], "not a Python identifier"),
        (["generate", "--formatter", "gofmt"], "invalid choice"),
    ],
)
def test_bad_command_lines_get_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert status != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1


# -- --check after hand edits: CI relies on it -------------------------------------


def _check_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str
) -> tuple[int, str, Path]:
    """Generate the small package, apply one hand *edit*, run --check."""
    schema = _small(tmp_path)
    args = ["generate", str(schema), "-o", str(tmp_path / "out"), "--package", "small",
            "--formatter", "none"]  # fmt: skip
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    root = tmp_path / "out" / "small"
    if edit == "generated":
        with (root / "main.py").open("a") as f:
            f.write("# a hand edit\n")
    elif edit == "manifest":
        manifest = json.loads((root / MANIFEST).read_text())
        manifest["outputs"]["main.py"] = "0" * 64
        (root / MANIFEST).write_text(json.dumps(manifest))
    elif edit == "manifest-hiding-an-edit":
        # Record the hand-edited file's hash, so that the manifest agrees.
        (root / "main.py").write_text("# replaced by hand\n")
        manifest = json.loads((root / MANIFEST).read_text())
        manifest["outputs"]["main.py"] = digest(b"# replaced by hand\n")
        (root / MANIFEST).write_text(json.dumps(manifest))
    else:
        (schema.parent / "extra.json").write_text("{ 'event': 'DONE', 'data': { 'id': 'int' } }\n")
    capsys.readouterr()
    status = main([*args, "--check"])
    return status, capsys.readouterr().err, root


@pytest.mark.parametrize(
    ("edit", "stale"),
    [
        ("generated", ["main.py"]),
        ("manifest", [MANIFEST]),
        ("manifest-hiding-an-edit", [MANIFEST, "main.py"]),
        ("input", [MANIFEST, "extra.py", "schema_info.json"]),
    ],
)
def test_check_finds_hand_edits(
    edit: str, stale: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--check exits 1 and names exactly the stale files, after a hand edit
    of a generated file, of the manifest, or of an input schema."""
    # Away from this repository's [tool.qapigen] (which also asks for docs).
    monkeypatch.chdir(tmp_path)
    status, err, root = _check_after(tmp_path, capsys, edit)
    assert status == 1
    files = "file is" if len(stale) == 1 else "files are"
    assert err == f"qapigen: {len(stale)} generated {files} out of date:\n" + "".join(
        f"  {root / rel}\n" for rel in stale
    )


def test_generate_repairs_a_hand_edited_file(tmp_path: Path) -> None:
    """The manifest shortcut compares the outputs' hashes: a hand-edited
    generated file is rewritten, and only that one."""
    schema = _small(tmp_path)
    first = generate(_options(tmp_path, schema))
    main_py = tmp_path / "out" / "small" / "main.py"
    original = main_py.read_text()
    main_py.write_text(original + "# a hand edit\n")
    again = generate(_options(tmp_path, schema))
    assert not again.skipped
    assert again.report.written == ["main.py"]
    assert main_py.read_text() == original
    assert sorted(again.report.unchanged) == sorted(
        rel for rel in first.report.written if rel != "main.py"
    )


def test_manifest_up_to_date_compares_every_record(tmp_path: Path) -> None:
    """up_to_date needs outputs on record, the same fingerprint, and every
    input and output file with its recorded hash."""
    root = tmp_path
    (root / "in.json").write_bytes(b"in")
    (root / "out.py").write_bytes(b"out")
    good = Manifest("fp", {"in.json": digest(b"in")}, {"out.py": digest(b"out")})
    assert good.up_to_date(root, "fp")
    assert not good.up_to_date(root, "other")
    assert not Manifest("fp", {"in.json": digest(b"in")}, {}).up_to_date(root, "fp")
    assert not Manifest("fp", {"in.json": digest(b"IN")}, good.outputs).up_to_date(root, "fp")
    assert not Manifest("fp", good.inputs, {"out.py": digest(b"OUT")}).up_to_date(root, "fp")
    assert not Manifest("fp", {"gone.json": "x"}, good.outputs).up_to_date(root, "fp")
    assert not Manifest("fp", good.inputs, {"gone.py": "x"}).up_to_date(root, "fp")
