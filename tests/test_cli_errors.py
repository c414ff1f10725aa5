"""The ``qapigen`` command facing user mistakes: one clear line, exit 1.

Also the smaller things a user reads: ``--version``, the legacy hint,
escaped control characters, the summary's wording, black's progress and
ruff's single run.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from qapigen import QAPIError, load_schema
from qapigen.backends.python import formatting
from qapigen.backends.python.generate import GenerateOptions, GenerateResult, generate
from qapigen.backends.python.output import WriteReport
from qapigen.cli import main
from qapigen.hints import LEGACY_HINT
from tests.conftest import CORPUS

SCHEMA = """\
{ 'enum': 'Mode', 'data': [ 'fast', 'slow' ] }
{ 'struct': 'Job', 'data': { 'id': 'str', '*mode': 'Mode' } }
{ 'command': 'start', 'data': { 'job': 'Job' }, 'returns': 'Job' }
"""


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "schema.json"
    path.write_text(SCHEMA)
    return path


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., tuple[int, str, str]]:
    """``qapigen ARGS`` in *tmp_path* (no pyproject.toml above it matters:
    one is written there); returns (status, stdout, stderr)."""
    (tmp_path / "pyproject.toml").write_text("[tool.other]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def invoke(*argv: str) -> tuple[int, str, str]:
        try:
            status = main(list(argv))
        except SystemExit as exit_:  # argparse's own exits (--version)
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return invoke


def _generate(schema: Path, *extra: str) -> tuple[str, ...]:
    return ("generate", str(schema), "--formatter", "none", *extra)


# -- the output folder ---------------------------------------------------------


def test_output_is_a_file(run: Callable[..., tuple[int, str, str]], schema: Path) -> None:
    Path("afile").write_text("")
    assert run(*_generate(schema, "-o", "afile")) == (
        1, "", "qapigen: error: output folder 'afile' is a file, not a folder\n"
    )
    assert run(*_generate(schema, "-o", "afile/sub")) == (
        1, "", "qapigen: error: output folder 'afile' is a file, not a folder\n"
    )


def test_output_under_a_folder_that_cannot_be_created(
    run: Callable[..., tuple[int, str, str]], schema: Path
) -> None:
    assert run(*_generate(schema, "-o", "/proc/x")) == (
        1, "",
        "qapigen: error: can't create output folder '/proc/x/qmp': No such file or directory\n",
    )


def test_output_folder_not_writable(
    run: Callable[..., tuple[int, str, str]], schema: Path, tmp_path: Path
) -> None:
    if os.geteuid() == 0:  # root writes anywhere chmod allows nothing; sysfs refuses
        folder, reason = "/sys", "Operation not permitted"
    else:
        folder, reason = str(tmp_path / "ro"), "Permission denied"
        os.mkdir(folder, 0o555)
    assert run(*_generate(schema, "-o", folder)) == (
        1, "", f"qapigen: error: can't create output folder '{folder}/qmp': {reason}\n"
    )


def test_package_folder_is_a_file(run: Callable[..., tuple[int, str, str]], schema: Path) -> None:
    Path("out").mkdir()
    Path("out/pk").write_text("")
    assert run(*_generate(schema, "-o", "out", "--package", "pk")) == (
        1, "", "qapigen: error: 'out/pk' exists and is not a folder; the package goes there\n"
    )
    assert Path("out/pk").read_text() == ""


def test_write_errors_become_one_line(
    run: Callable[..., tuple[int, str, str]], schema: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any OSError while writing (disk full, a file made read-only...)."""

    def refuse(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    status, out, err = run(*_generate(schema, "-o", "out"))
    assert (status, out) == (1, "")
    assert err.startswith("qapigen: error: can't write 'out/qmp/.")
    assert err.endswith(": No space left on device\n") and err.count("\n") == 1


# -- package names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("import", "package name 'import' is a Python keyword; it could not be imported"),
        ("class", "package name 'class' is a Python keyword; it could not be imported"),
        ("None", "package name 'None' is a Python keyword; it could not be imported"),
        ("", "the package name is empty"),
        ("my-api", "package name 'my-api' is not a Python identifier"),
        ("2fast", "package name '2fast' is not a Python identifier"),
    ],
)
def test_package_names_that_cannot_be_imported(
    run: Callable[..., tuple[int, str, str]], schema: Path, name: str, message: str
) -> None:
    assert run(*_generate(schema, "-o", "out", "--package", name)) == (
        1, "", f"qapigen: error: {message}\n"
    )
    assert not Path("out").exists()


# -- templates -----------------------------------------------------------------


def test_templates_with_a_syntax_error(
    run: Callable[..., tuple[int, str, str]], schema: Path
) -> None:
    Path("mine").mkdir()
    Path("mine/_header.py.jinja").write_text("# ours\n{% if %}\n")
    assert run(*_generate(schema, "-o", "out", "--templates", "mine")) == (
        1, "",
        "qapigen: error: mine/_header.py.jinja:2: Expected an expression, "
        "got 'end of statement block'\n",
    )


def test_templates_with_an_undefined_name(
    run: Callable[..., tuple[int, str, str]], schema: Path
) -> None:
    Path("mine").mkdir()
    Path("mine/_footer.py.jinja").write_text("# ours\n\n{{ nope }}\n")
    assert run(*_generate(schema, "-o", "out", "--templates", "mine")) == (
        1, "", "qapigen: error: mine/_footer.py.jinja:3: 'nope' is undefined\n"
    )


def test_missing_templates_folder(run: Callable[..., tuple[int, str, str]], schema: Path) -> None:
    assert run(*_generate(schema, "-o", "out", "--templates", "mine")) == (
        1, "", "qapigen: error: --templates: folder 'mine' does not exist\n"
    )


def test_templates_path_is_a_file(run: Callable[..., tuple[int, str, str]], schema: Path) -> None:
    Path("mine").write_text("")
    assert run(*_generate(schema, "-o", "out", "--templates", "mine")) == (
        1, "", "qapigen: error: --templates: 'mine' is not a folder\n"
    )


def test_empty_output_folder(run: Callable[..., tuple[int, str, str]], schema: Path) -> None:
    assert run(*_generate(schema, "-o", "")) == (
        1, "", "qapigen: error: -o: the output folder is empty\n"
    )
    assert not Path("generated").exists()


def test_missing_templates_setting(
    run: Callable[..., tuple[int, str, str]], schema: Path, tmp_path: Path
) -> None:
    Path("pyproject.toml").write_text('[tool.qapigen]\ntemplates = "mine"\n')
    assert run(*_generate(schema, "-o", "out")) == (
        1, "",
        f"qapigen: error: {tmp_path}/pyproject.toml: [tool.qapigen] templates: "
        f"folder '{tmp_path}/mine' does not exist\n",
    )
    # Commands that don't use templates don't care.
    assert run("check", str(schema)) == (0, "", "")


def test_missing_templates_folder_through_the_api(schema: Path, tmp_path: Path) -> None:
    options = GenerateOptions(schema=schema, output=tmp_path / "out", templates=tmp_path / "no")
    with pytest.raises(Exception, match=r"^templates folder '.*/no' does not exist$"):
        generate(options)


# -- version, escapes ----------------------------------------------------------


def test_version(run: Callable[..., tuple[int, str, str]]) -> None:
    assert run("--version") == (0, f"qapigen {version('qapigen')}\n", "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbf{ 'struct': 'Job', 'data': {} }\n", "s.json:1:1: stray '\\ufeff'\n"),
        (b"\x00{ 'struct': 'Job', 'data': {} }\n", "s.json:1:1: stray '\\x00'\n"),
    ],
)
def test_control_characters_are_shown_escaped(
    run: Callable[..., tuple[int, str, str]], data: bytes, message: str
) -> None:
    Path("s.json").write_bytes(data)
    assert run("check", "s.json") == (1, "", message)


def test_escapes_keep_the_lines_of_a_message(
    run: Callable[..., tuple[int, str, str]]
) -> None:
    Path("s.json").write_bytes(b"{ 'struct': 'Job', 'data': { 'y': 'No\x1bpe' } }\n")
    assert run("check", "--dialect", "legacy", "s.json") == (
        1, "", "s.json: In struct 'Job':\ns.json:1: member 'y' uses unknown type 'No\\x1bpe'\n"
    )


# -- the legacy hint -----------------------------------------------------------

OLD_STYLE = {
    "simple union": """\
{ 'struct': 'Alpha', 'data': { 'x': 'int' } }
{ 'union': 'Uni', 'data': { 'a': 'Alpha' } }
""",
    "string if": "{ 'struct': 'Alpha', 'data': { 'x': 'int' }, 'if': 'defined(CONFIG_A)' }\n",
    "old pragma name": "{ 'pragma': { 'returns-whitelist': [ 'x' ] } }\n",
    "long doc line": """\
##
# @Alpha:
#
# A documentation line of the old days, which went on past seventy columns.
##
{ 'struct': 'Alpha', 'data': { 'x': 'int' } }
""",
    "Features: era doc": """\
##
# @do-it:
#
# Do it.
#
# Features:
# @unstable: experimental
#
# Since: 5.0
#
# Example:
#
# -> { "execute": "do-it" }
##
{ 'command': 'do-it', 'features': [ 'unstable' ] }
""",
}


@pytest.mark.parametrize("text", OLD_STYLE.values(), ids=OLD_STYLE.keys())
def test_old_schemas_get_the_legacy_hint(
    run: Callable[..., tuple[int, str, str]], text: str
) -> None:
    Path("s.json").write_text(text)
    status, out, err = run("check", "s.json")
    assert (status, out) == (1, "")
    assert err.endswith(f"\n{LEGACY_HINT}\n")
    assert LEGACY_HINT == "(schemas from QEMU 5.2 or older: try --dialect legacy)"
    # Under legacy they load, and nothing is hinted.
    assert run("check", "--dialect", "legacy", "s.json") == (0, "", "")


PLAIN_MISTAKES = {
    "unknown type": """\
{ 'struct': 'Alpha', 'data': { 'x': 'int' }, 'if': { 'all': [ 'CONFIG_A' ] } }
{ 'struct': 'Beta', 'data': { 'y': 'Nope' } }
""",
    "syntax": "{ 'struct': 'Alpha', 'data': { 'x': 'int' }\n",
    "duplicate": "{ 'struct': 'Alpha', 'data': {} }\n{ 'struct': 'Alpha', 'data': {} }\n",
}


@pytest.mark.parametrize("text", PLAIN_MISTAKES.values(), ids=PLAIN_MISTAKES.keys())
def test_plain_mistakes_get_no_hint(run: Callable[..., tuple[int, str, str]], text: str) -> None:
    Path("s.json").write_text(text)
    with pytest.raises(QAPIError) as expected:
        load_schema("s.json")
    assert run("check", "s.json") == (1, "", f"{expected.value}\n")


def test_no_hint_when_legacy_was_asked_for(run: Callable[..., tuple[int, str, str]]) -> None:
    Path("s.json").write_text(OLD_STYLE["simple union"] + "{ 'struct': 'Beta', 'data': 1 }\n")
    status, _, err = run("check", "--dialect", "legacy", "s.json")
    assert status == 1 and "legacy" not in err


def test_generate_gets_the_hint_too(run: Callable[..., tuple[int, str, str]]) -> None:
    Path("s.json").write_text(OLD_STYLE["simple union"])
    status, out, err = run(*_generate(Path("s.json"), "-o", "out"))
    assert (status, out) == (1, "")
    assert err == (
        "s.json: In union 'Uni':\ns.json:2: union misses keys 'base', 'discriminator'\n"
        f"{LEGACY_HINT}\n"
    )


@pytest.mark.parametrize(
    "path", ["qapi/qapi-schema.json", "qapi/common.json", "qapi/char.json", "qapi/tpm.json",
             "qga/qapi-schema.json"],
)
def test_qemu_3_1_files_get_the_legacy_hint(
    run: Callable[..., tuple[int, str, str]], path: str
) -> None:
    schema = CORPUS / "qemu-3.1" / path
    if not schema.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"QEMU's corpus is missing {schema}")
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS}")
    status, out, err = run("check", str(schema))
    assert (status, out) == (1, "")
    assert err.endswith(f"\n{LEGACY_HINT}\n")


# -- what a successful run says ------------------------------------------------


@pytest.mark.parametrize(
    ("result", "summary"),
    [
        (GenerateResult(WriteReport(unchanged=["a.py"]), 0.5, skipped=True),
         "qapigen: 1 file up to date, nothing to do (0.50 s)"),
        (GenerateResult(WriteReport(unchanged=["a.py", "b.py"]), 0.5, skipped=True),
         "qapigen: 2 files up to date, nothing to do (0.50 s)"),
        (GenerateResult(WriteReport(written=["a.py"]), 1, False, 0, 5, "black"),
         "qapigen: 1 written, 0 unchanged; black: all 5 modules from cache (1.00 s)"),
        (GenerateResult(WriteReport(written=["a.py"], deleted=["c.py"]), 1, False, 1, 4, "ruff"),
         "qapigen: 1 written, 0 unchanged, 1 deleted; ruff: 1 module formatted, 4 from cache "
         "(1.00 s)"),
        (GenerateResult(WriteReport(written=["a.py"]), 1, False, 6, 0, "black"),
         "qapigen: 1 written, 0 unchanged; black: 6 modules formatted (1.00 s)"),
        (GenerateResult(WriteReport(written=["a.py"]), 1, False, 0, 0, "none"),
         "qapigen: 1 written, 0 unchanged (1.00 s)"),
    ],
)
def test_summaries(result: GenerateResult, summary: str) -> None:
    assert result.summary() == summary


def test_check_counts_one_stale_file_in_the_singular(
    run: Callable[..., tuple[int, str, str]], schema: Path
) -> None:
    assert run(*_generate(schema, "-o", "out"))[0] == 0
    Path("out/qmp/handlers.py").write_text("# edited\n")
    assert run(*_generate(schema, "-o", "out", "--check")) == (
        1, "", "qapigen: 1 generated file is out of date:\n  out/qmp/handlers.py\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_black_shows_progress_on_a_terminal(
    run: Callable[..., tuple[int, str, str]], schema: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    status, out, _ = run("generate", str(schema), "-o", "out", "--formatter", "black")
    assert status == 0
    modules = [
        "__init__.py", "builtin.py", "client.py", "handlers.py", "registry.py", "schema.py",
        "skeleton.py",
    ]
    assert sorted(p.name for p in Path("out/qmp").glob("*.py")) == modules
    assert terminal.getvalue() == "".join(
        f"\rqapigen: formatting with black: {i}/7 modules" for i in range(1, 8)
    ) + "\n"
    assert out.startswith("qapigen: 9 written, 0 unchanged; black: 7 modules formatted (")
    # Warm: nothing to format, so no progress line at all.
    terminal.seek(0)
    terminal.truncate()
    Path("out/qmp/handlers.py").unlink()
    assert run("generate", str(schema), "-o", "out", "--formatter", "black")[0] == 0
    assert terminal.getvalue() == ""


def test_no_progress_when_not_on_a_terminal(
    run: Callable[..., tuple[int, str, str]], schema: Path
) -> None:
    status, out, err = run("generate", str(schema), "-o", "out", "--formatter", "black")
    assert (status, err) == (0, "")
    assert out.startswith("qapigen: 9 written, 0 unchanged; black: 7 modules formatted (")


def test_ruff_formats_the_whole_package_in_one_process(
    schema: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        calls.append(list(args))
        return real_run(args, **kw)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "run", counting_run)
    options = GenerateOptions(
        schema=schema, output=tmp_path / "out", formatter="ruff", cache_dir=tmp_path / "c"
    )
    result = generate(options)
    assert (result.formatted, len(calls)) == (7, 1)
    assert Path(calls[0][-1]).parent == Path(formatting.scratch_dir() or tempfile.gettempdir())
    # Each module is formatted as ruff formats it alone.
    text = (tmp_path / "out" / "qmp" / "schema.py").read_text()
    alone = real_run(
        [*calls[0][:-1], "-"], input=text, capture_output=True, text=True, check=True
    ).stdout
    assert text == alone and "'" not in text.split('"""', 2)[2].replace("\"'\"", "")


def test_dump_prints_qemus_text_alone(run: Callable[..., tuple[int, str, str]]) -> None:
    """``dump`` reproduces QEMU's test-suite output: no hint added."""
    Path("s.json").write_text(OLD_STYLE["simple union"])
    assert run("dump", "s.json") == (
        1, "", "s.json: In union 'Uni':\ns.json:2: union misses keys 'base', 'discriminator'\n"
    )


def test_a_failing_hint_never_hides_the_error(
    run: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug in a dialect")

    monkeypatch.setattr("qapigen.hints.failure_point", broken)
    Path("s.json").write_text(OLD_STYLE["simple union"])
    assert run("check", "s.json") == (
        1, "", "s.json: In union 'Uni':\ns.json:2: union misses keys 'base', 'discriminator'\n"
    )


def test_ruff_scratch_files_go_to_memory_unless_tmpdir_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert formatting.scratch_dir() is None
    monkeypatch.delenv("TMPDIR")
    expected = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    assert formatting.scratch_dir() == expected
