"""``qapigen serve`` from a normal (not editable) install: the wheel ships
the generated package as ``qapigen.qmp`` with its data files, and the
installed console script serves QMP from outside the source tree."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: an in-tree build would leave build/ in the work tree.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, source / name)
    # build_backend/ holds the in-tree build backend pyproject.toml names.
    for name in ("qapigen", "generated", "templates", "build_backend"):
        shutil.copytree(REPO / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, cwd=out)
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("qapigen-*.whl")
    return found


def test_wheel_ships_the_generated_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    generated = sorted(p.name for p in (REPO / "generated" / "qmp").glob("*.py"))
    assert generated
    for name in generated:
        assert f"qapigen/qmp/{name}" in names
    for data in ("schema_info.json", "py.typed"):
        assert f"qapigen/qmp/{data}" in names
    for module in ("server.py", "options.py", "jsonstream.py", "machine.py", "main.py"):
        assert f"qapigen/runtime/{module}" in names


def test_installed_serve_answers_qmp(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # System site packages bring the dependencies (jinja2, lark, black);
    # the wheel itself is installed without touching an index.
    venv.EnvBuilder(with_pip=False, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sock = tmp_path / "qmp.sock"
    process = subprocess.Popen(
        [str(env_dir / "bin" / "qapigen"), "serve", "-machine", "none",
         "-qmp", f"unix:{sock},server=on,wait=off",
         "-blockdev", "driver=null-co,node-name=n0,size=1048576"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        client = socket.socket(socket.AF_UNIX)
        while True:
            try:
                client.connect(str(sock))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.01)
        client.settimeout(30)
        replies = client.makefile("rb")
        greeting = json.loads(replies.readline())
        assert greeting["QMP"]["capabilities"] == ["oob"]
        client.sendall(b'{"execute": "qmp_capabilities"}\n'
                       b'{"execute": "query-named-block-nodes", "arguments": {"flat": true}}\n'
                       b'{"execute": "quit"}\n')
        assert json.loads(replies.readline()) == {"return": {}}
        nodes = json.loads(replies.readline())["return"]
        assert [n["node-name"] for n in nodes] == ["n0"]
        assert json.loads(replies.readline())["event"] == "SHUTDOWN"
        assert json.loads(replies.readline()) == {"return": {}}
        assert process.wait(30) == 0
        assert not sock.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # The installed package is the one that ran, not the source tree.
    where = subprocess.run([str(python), "-c", "import qapigen.qmp; print(qapigen.qmp.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert str(env_dir) in where


def test_every_package_is_listed_in_pyproject() -> None:
    """A subpackage missing from [tool.setuptools] packages is missing from
    the wheel (as qapigen.runtime.block once was)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "qapigen").rglob("__init__.py")
        if "qmp" not in init.parent.relative_to(REPO).parts
    }
    assert found - listed == set()


def test_the_version_serve_reports_is_the_distributions() -> None:
    import tomllib

    from qapigen.runtime.version import QAPIGEN_VERSION

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == QAPIGEN_VERSION
