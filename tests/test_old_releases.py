"""Whole real schemas of QEMU 2.5-5.2, read with the legacy dialect.

Opt-in: ``QAPIGEN_OLD_SCHEMAS`` names one or more folders (separated by
``os.pathsep``) holding ``qemu-X.Y`` or ``qemu-X.Y.Z`` folders: a copy of a
release's schema files, or its whole source tree.  In each, these schemas
are used when present:

- the main schema, ``qapi-schema.json`` (2.x) or ``qapi/qapi-schema.json``;
- the guest agent's, ``qga/qapi-schema.json``;
- the storage daemon's, ``storage-daemon/qapi/qapi-schema.json`` (5.0+).

Each is checked, generated, imported module by module, and the package
must pass ``mypy --strict``.  Its introspection is compared with QEMU's:
with ``expected/introspect.json`` (the corpus's format) for the main
schema, and, when the folder is a source tree whose ``scripts/qapi-gen.py``
runs here, with what that generator writes for every schema.

QEMU 5.0 began visiting (and so listing in introspection) definitions
module by module; the legacy dialect keeps the definition order of the
releases before it.  So for 5.0+ the entries must be the same, each equal
byte for byte, but their order is not compared.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import qapigen
from qapigen.backends.introspect import introspect
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect, DocComments
from tests.conftest import REPO
from tests.qlit import read_introspect_c

OLD_SCHEMAS_VAR = "QAPIGEN_OLD_SCHEMAS"
_RELEASE = re.compile(r"qemu-(\d+)\.(\d+)(?:\.\d+)?")
_SKIP_REASON = f"{OLD_SCHEMAS_VAR} does not name a folder of QEMU 2.5-5.2 schemas (qemu-X.Y/...)"

# (id suffix, candidate paths inside a release folder; the first found)
_KINDS = (
    ("", ("qapi-schema.json", "qapi/qapi-schema.json")),
    ("-qga", ("qga/qapi-schema.json",)),
    ("-storage-daemon", ("storage-daemon/qapi/qapi-schema.json",)),
)


@dataclass(frozen=True)
class OldSchema:
    release_dir: Path
    release: tuple[int, int]
    path: Path
    kind: str  # "", "-qga" or "-storage-daemon"

    @property
    def name(self) -> str:
        return self.release_dir.name + self.kind

    @property
    def doc_comments(self) -> DocComments:
        # QEMU 2.9 made ## blocks documentation.
        return DocComments.IGNORE if self.release < (2, 9) else DocComments.PARSE


def _roots() -> list[Path]:
    value = os.environ.get(OLD_SCHEMAS_VAR, "")
    return [Path(part) for part in value.split(os.pathsep) if part]


def _old_schemas() -> list[OldSchema]:
    found = []
    for root in _roots():
        for folder in sorted(root.iterdir()):
            match = _RELEASE.fullmatch(folder.name)
            if not match or not folder.is_dir():
                continue
            release = (int(match.group(1)), int(match.group(2)))
            for kind, candidates in _KINDS:
                for candidate in candidates:
                    if (folder / candidate).is_file():
                        found.append(OldSchema(folder, release, folder / candidate, kind))
                        break
    return found


OLD_SCHEMAS = _old_schemas()
needs_old_schemas = pytest.mark.skipif(not OLD_SCHEMAS, reason=_SKIP_REASON)
each_old_schema = pytest.mark.parametrize("old", OLD_SCHEMAS, ids=lambda old: old.name)


@pytest.mark.skipif(not os.environ.get(OLD_SCHEMAS_VAR), reason=_SKIP_REASON)
def test_old_schemas_folder_is_not_empty() -> None:
    assert OLD_SCHEMAS, f"no qemu-X.Y/qapi-schema.json under ${OLD_SCHEMAS_VAR}"


def _package_name(old: OldSchema) -> str:
    return "old_" + re.sub(r"\W", "_", old.name)


@needs_old_schemas
@each_old_schema
def test_old_release_schema_loads_and_generates(old: OldSchema, tmp_path: Path) -> None:
    """Checked, generated, every module imported, and ``mypy --strict`` clean."""
    qapigen.load_schema(str(old.path), dialect="legacy", doc_comments=old.doc_comments.value)
    package = _package_name(old)
    generate(
        GenerateOptions(
            schema=old.path,
            output=tmp_path,
            package=package,
            dialect=Dialect.LEGACY,
            doc_comments=old.doc_comments,
            formatter="none",
            cache_dir=tmp_path / ".cache",
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(package)
        assert module.TYPES
        for info in pkgutil.iter_modules(module.__path__):
            importlib.import_module(f"{package}.{info.name}")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "mypy"),
            "-p",
            package,
        ],
        cwd=tmp_path,
        env=dict(os.environ, MYPYPATH=str(REPO)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def _ours(old: OldSchema) -> list[Any]:
    schema = qapigen.load_schema(
        str(old.path), dialect="legacy", doc_comments=old.doc_comments.value
    )
    return introspect(schema)


def _compare(old: OldSchema, got: list[Any], expected: list[Any]) -> None:
    by_name = {info["name"]: info for info in got}
    assert len(by_name) == len(got)
    for info in expected:
        assert by_name.get(info["name"]) == info
    assert len(got) == len(expected)
    if old.release < (5, 0):
        assert got == expected


def _expected_files() -> list[OldSchema]:
    return [
        old
        for old in OLD_SCHEMAS
        if old.kind == "" and (old.release_dir / "expected" / "introspect.json").is_file()
    ]


@pytest.mark.skipif(
    not _expected_files(), reason=f"no expected/introspect.json under {OLD_SCHEMAS_VAR}"
)
@pytest.mark.parametrize("old", _expected_files(), ids=lambda old: old.name)
def test_introspection_matches_the_expected_file(old: OldSchema) -> None:
    import json

    expected = json.loads((old.release_dir / "expected" / "introspect.json").read_text())
    _compare(old, _ours(old), expected)


def _with_generator() -> list[OldSchema]:
    return [old for old in OLD_SCHEMAS if (old.release_dir / "scripts" / "qapi-gen.py").is_file()]


@pytest.mark.skipif(
    not _with_generator(),
    reason=f"no QEMU source tree (scripts/qapi-gen.py) under {OLD_SCHEMAS_VAR}",
)
@pytest.mark.parametrize("old", _with_generator(), ids=lambda old: old.name)
def test_introspection_matches_the_release_generator(old: OldSchema, tmp_path: Path) -> None:
    """What the release's own ``qapi-gen.py -u`` compiles into QEMU."""
    generator = old.release_dir / "scripts" / "qapi-gen.py"
    proc = subprocess.run(
        [sys.executable, str(generator), "-u", "-o", str(tmp_path), str(old.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"{generator} does not run under this Python: {proc.stderr[-500:]}")
    expected = read_introspect_c((tmp_path / "qapi-introspect.c").read_text())
    _compare(old, _ours(old), expected)


def test_qlit_reader_reads_every_macro() -> None:
    """The reader the comparison above relies on, on a hand-written file."""
    text = """
        #include "qapi-introspect.h"
        const QLitObject qmp_schema_qlit = QLIT_QLIST(((QLitObject[]) {
            QLIT_QDICT(((QLitDictEntry[]) {
                { "arg-type", QLIT_QSTR("q_empty"), },
                { "allow-oob", QLIT_QBOOL(true), },
        #if defined(CONFIG_X)
                { "features", QLIT_QLIST(((QLitObject[]) {
                    QLIT_QSTR("a \\"quoted\\" one"),
                    {}
                })), },
        #endif /* defined(CONFIG_X) */
                { "default", QLIT_QNULL, },
                { "size", QLIT_QNUM(-3), },
                {}
            })),
            {}
        }));

        /* Dummy declaration to prevent empty .o file */
        char qapi_dummy_qapi_introspect_c;
    """
    assert read_introspect_c(text) == [
        {
            "arg-type": "q_empty",
            "allow-oob": True,
            "features": ['a "quoted" one'],
            "default": None,
            "size": -3,
        }
    ]
