"""An installed qapigen is visible to type checkers, from any folder.

A generated package imports ``qapigen.support.*``; ``mypy --strict`` run on
it from outside the repository must find those modules, after an editable
install (the README's ``pip install -e``) as after a normal one.  Each case
installs a copy of the project into a throwaway virtual environment, then
runs mypy from a temporary folder with that environment's interpreter.

The copy gets the ``"qapigen.qmp" = "generated/qmp"`` mapping if the
project doesn't have it yet, to show that mapped packages (not only
``qapigen.templates``) are seen too.  About 10 s per case: pip builds the
project in an isolated environment (setuptools from the package index).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
from pathlib import Path

import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from tests.conftest import REPO

PROJECT_FILES = [
    "pyproject.toml", "README.md", "MANIFEST.in", "qapigen", "templates", "generated",
    "build_backend",
]


def _copy_project(dest: Path) -> None:
    for name in PROJECT_FILES:
        source = REPO / name
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(
                source, dest / name, symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache"),
            )
        else:
            shutil.copy2(source, dest / name)
    pyproject = dest / "pyproject.toml"
    text = pyproject.read_text()
    if '"qapigen.qmp"' not in text:
        text = text.replace('    "qapigen.templates",\n]', '    "qapigen.templates",\n    "qapigen.qmp",\n]')
        text = text.replace(
            '"qapigen.templates" = "templates"\n',
            '"qapigen.templates" = "templates"\n"qapigen.qmp" = "generated/qmp"\n',
        )
        text = text.replace(
            '"qapigen.templates" = ["*.jinja"]\n',
            '"qapigen.templates" = ["*.jinja"]\n"qapigen.qmp" = ["py.typed", "schema_info.json"]\n',
        )
        pyproject.write_text(text)
    setuptools = tomllib.loads(text)["tool"]["setuptools"]
    assert setuptools["package-dir"]["qapigen.qmp"] == "generated/qmp"
    assert "qapigen.qmp" in setuptools["packages"]


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("editable", [True, False], ids=["editable", "normal"])
def test_generated_package_type_checks_from_a_foreign_folder(
    tmp_path: Path, editable: bool
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _copy_project(project)
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps"]
    installed = _run(*install, *(["-e"] if editable else []), project, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    work = tmp_path / "elsewhere"
    schema = work / "api.json"
    work.mkdir()
    schema.write_text(
        "{ 'struct': 'Job', 'data': { 'id': 'str', '*speed': 'uint32' } }\n"
        "{ 'command': 'start', 'data': { 'job': 'Job' }, 'returns': 'Job' }\n"
    )
    generate(GenerateOptions(schema=schema, output=work, package="api", formatter="none",
                             cache_dir=tmp_path / "cache"))
    (work / "use.py").write_text(
        textwrap.dedent(
            """\
            import api
            import qapigen.qmp
            from qapigen.support.wire import Null

            job: api.Job = api.Job.from_wire({"id": "j1"})
            spec: qapigen.support.dispatch.CommandSpec = api.COMMANDS["start"]
            reveal_type(qapigen.qmp.COMMANDS)
            reveal_type(Null)
            """
        )
    )
    mypy: list[str | Path] = [sys.executable, "-m", "mypy", "--python-executable", python, "--strict",
            "--cache-dir", tmp_path / "mypy-cache", "use.py", "api"]
    checked = _run(*mypy, cwd=work)
    # (older mypy versions spell dict and str with "builtins.")
    assert checked.stdout.replace("builtins.", "").splitlines() == [
        # COMMANDS is a lazy mapping: modules load when a command is looked up.
        'use.py:7: note: Revealed type is "typing.Mapping[str, qapigen.support.dispatch.CommandSpec]"',
        'use.py:8: note: Revealed type is "def () -> qapigen.support.wire.Null"',
        f"Success: no issues found in {len(list((work / 'api').glob('*.py'))) + 1} source files",
    ], checked.stdout

    # And Python itself imports the same files.
    imported = _run(python, "-c", "import qapigen.qmp, qapigen.support.wire as w; print(w.__file__)",
                    cwd=work)
    assert imported.returncode == 0, imported.stderr
    where = Path(imported.stdout.strip()).resolve()
    assert where.is_relative_to(project) == editable


def test_sdist_ships_the_build_backend(tmp_path: Path) -> None:
    """pyproject.toml names an in-tree backend; an sdist without it could
    not be built into a wheel."""
    project = tmp_path / "project"
    project.mkdir()
    _copy_project(project)
    built = _run(
        sys.executable, "-c",
        "import sys; sys.path.insert(0, 'build_backend'); import qapigen_build; "
        "print(qapigen_build.build_sdist('dist'))",
        cwd=project,
    )
    assert built.returncode == 0, built.stderr
    name = built.stdout.strip().splitlines()[-1]
    with tarfile.open(project / "dist" / name) as sdist:
        names = sdist.getnames()
    assert f"{name.removesuffix('.tar.gz')}/build_backend/qapigen_build.py" in names
