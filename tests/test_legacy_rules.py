"""Rules of particular QEMU releases that the legacy dialect follows.

- QEMU 2.5-2.8 kept two exception lists in their generator (commands that
  may return a non-object, types whose members may use upper case).  A
  schema read with ``--doc-comments ignore`` (how those releases' schemas
  are read) starts out with them as its pragmas.
- From QEMU 5.0, ``name-case-whitelist`` names a union to exempt its inline
  base; before, it named the implicit base type ``q_obj_<Union>-base``.
  The legacy dialect accepts both.
- QEMU 2.7-3.1 let a boxed command or event take an alternate (and a union),
  and the Python back end generates working code for that.

Every schema here is written for this test.  Whole real old QEMU schemas
are read by ``tests/test_old_releases.py``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import qapigen
from qapigen import QAPIError
from qapigen.backends.dump import dump_schema
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect
from qapigen.frontend.legacy_exceptions import NAME_CASE_EXCEPTIONS, RETURNS_EXCEPTIONS
from tests.conftest import REPO


def write(folder: Path, text: str, name: str = "schema.json") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def load_error(
    folder: Path, text: str, dialect: str = "legacy", doc_comments: str = "parse"
) -> str:
    """The message of the QAPIError that loading *text* raises, with the
    schema's folder cut from the file names."""
    path = write(folder, text)
    with pytest.raises(QAPIError) as excinfo:
        qapigen.load_schema(str(path), dialect=dialect, doc_comments=doc_comments)
    return str(excinfo.value).replace(f"{folder}/", "")


# ------------------------------------------------ 2.5-2.8 built-in lists

PRE_2_9 = """
    { 'command': 'ringbuf-read', 'data': { 'device': 'str' }, 'returns': 'str' }
    { 'command': 'qom-get', 'data': { 'path': 'str' }, 'returns': 'any' }
    { 'command': 'guest-get-time', 'returns': 'int' }
    { 'struct': 'UuidInfo', 'data': { 'UUID': 'str' } }
    { 'enum': 'QapiErrorClass', 'data': [ 'GenericError', 'CommandNotFound' ] }
    { 'struct': 'CpuInfoBase', 'data': { 'CPU': 'int' } }
    { 'enum': 'CpuInfoArch', 'data': [ 'x86', 'mips' ] }
    { 'struct': 'CpuInfoMIPS', 'data': { 'PC': 'int' } }
    { 'struct': 'CpuInfoOther', 'data': { } }
    { 'union': 'CpuInfo', 'base': { 'CPU': 'int', 'arch': 'CpuInfoArch' },
      'discriminator': 'arch',
      'data': { 'x86': 'CpuInfoOther', 'mips': 'CpuInfoMIPS' } }
"""


def test_pre_2_9_lists_apply_when_doc_comments_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, PRE_2_9)
    schema = qapigen.load_schema(str(path), dialect="legacy", doc_comments="ignore")
    dump = dump_schema(schema)
    assert "command ringbuf-read q_obj_ringbuf-read-arg -> str" in dump
    assert "command qom-get q_obj_qom-get-arg -> any" in dump
    assert "command guest-get-time None -> int" in dump
    assert "    member UUID: str optional=False" in dump
    assert "object q_obj_CpuInfo-base\n    member CPU: int optional=False" in dump


def test_pre_2_9_lists_are_not_in_force_for_parsed_docs(tmp_path: Path) -> None:
    """Reading docs means QEMU >= 2.9, whose schemas carry their own lists."""
    assert load_error(tmp_path, PRE_2_9) == (
        "schema.json: In command 'ringbuf-read':\n"
        "schema.json:1: command's 'returns' cannot take built-in type 'str'"
    )


def test_pre_2_9_lists_are_not_in_force_for_the_qemu_dialect(tmp_path: Path) -> None:
    text = "{ 'command': 'ringbuf-read', 'returns': 'str' }\n"
    assert load_error(tmp_path, text, dialect="qemu", doc_comments="ignore") == (
        "schema.json: In command 'ringbuf-read':\n"
        "schema.json:1: command's 'returns' cannot take built-in type 'str'"
    )


def test_unlisted_command_may_not_return_a_non_object(tmp_path: Path) -> None:
    text = "{ 'command': 'my-read', 'returns': 'str' }\n"
    assert load_error(tmp_path, text, doc_comments="ignore") == (
        "schema.json: In command 'my-read':\n"
        "schema.json:1: command's 'returns' cannot take built-in type 'str'"
    )


def test_unlisted_type_may_not_use_upper_case(tmp_path: Path) -> None:
    text = "{ 'struct': 'MyInfo', 'data': { 'UUID': 'str' } }\n"
    assert load_error(tmp_path, text, doc_comments="ignore") == (
        "schema.json: In struct 'MyInfo':\n"
        "schema.json:1: 'data' member 'UUID' uses uppercase in name"
    )


def test_schema_pragma_replaces_the_built_in_list(tmp_path: Path) -> None:
    """As a 2.9 pragma replaced the list it names."""
    text = """
        { 'pragma': { 'returns-whitelist': [ 'my-read' ] } }
        { 'command': 'my-read', 'returns': 'str' }
        { 'command': 'ringbuf-read', 'returns': 'str' }
    """
    assert load_error(tmp_path, text, doc_comments="ignore") == (
        "schema.json: In command 'ringbuf-read':\n"
        "schema.json:3: command's 'returns' cannot take built-in type 'str'"
    )


def test_pre_2_9_list_contents() -> None:
    """The union of the lists in QEMU 2.5-2.8's scripts/qapi.py (plus 2.5's
    struct CpuInfo, from before 2.6 added the case rule)."""
    assert RETURNS_EXCEPTIONS == (
        "human-monitor-command",
        "qom-get",
        "query-migrate-cache-size",
        "query-tpm-models",
        "query-tpm-types",
        "ringbuf-read",
        "guest-file-open",
        "guest-fsfreeze-freeze",
        "guest-fsfreeze-freeze-list",
        "guest-fsfreeze-status",
        "guest-fsfreeze-thaw",
        "guest-get-time",
        "guest-set-vcpus",
        "guest-sync",
        "guest-sync-delimited",
    )
    assert NAME_CASE_EXCEPTIONS == (
        "ACPISlotType",
        "CpuInfo",
        "CpuInfoBase",
        "CpuInfoMIPS",
        "CpuInfoTricore",
        "QapiErrorClass",
        "UuidInfo",
        "X86CPURegister32",
        "q_obj_CpuInfo-base",
    )


# ------------------------------------------- union inline base and case

INLINE_BASE = """
    {{ 'pragma': {{ 'name-case-whitelist': [ {listed} ] }} }}
    {{ 'enum': 'Arch', 'data': [ 'x86' ] }}
    {{ 'struct': 'Other', 'data': {{ }} }}
    {{ 'union': 'Info', 'base': {{ 'CPU': 'int', 'arch': 'Arch' }},
      'discriminator': 'arch', 'data': {{ 'x86': 'Other' }} }}
"""


@pytest.mark.parametrize("listed", ["'Info'", "'q_obj_Info-base'"])
def test_inline_base_members_exempted_by_either_name(tmp_path: Path, listed: str) -> None:
    """5.0 names the union, 2.7-4.2 the implicit base type."""
    path = write(tmp_path, INLINE_BASE.format(listed=listed))
    dump = dump_schema(qapigen.load_schema(str(path), dialect="legacy"))
    assert "object q_obj_Info-base\n    member CPU: int optional=False" in dump


@pytest.mark.parametrize("listed", ["", "'Other'", "'Arch'"])
def test_inline_base_members_need_the_union_listed(tmp_path: Path, listed: str) -> None:
    assert load_error(tmp_path, INLINE_BASE.format(listed=listed)) == (
        "schema.json: In union 'Info':\nschema.json:4: 'base' member 'CPU' uses uppercase in name"
    )


# ---------------------------------------- boxed union or alternate data

BOXED = """
    { 'struct': 'S', 'data': { 'a': 'int' } }
    { 'enum': 'E', 'data': [ 'x', 'y' ] }
    { 'struct': 'Y', 'data': { 'b': 'str' } }
    { 'alternate': 'Alt', 'data': { 'i': 'int', 's': 'S' } }
    { 'union': 'U', 'base': { 'kind': 'E' }, 'discriminator': 'kind',
      'data': { 'x': 'S', 'y': 'Y' } }
    { 'command': 'cmd-alt', 'data': 'Alt', 'boxed': true, 'returns': 'S' }
    { 'command': 'cmd-union', 'data': 'U', 'boxed': true }
    { 'event': 'EV_ALT', 'data': 'Alt', 'boxed': true }
    { 'event': 'EV_UNION', 'data': 'U', 'boxed': true }
"""


def test_boxed_alternate_and_union_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, BOXED)
    dump = dump_schema(qapigen.load_schema(str(path), dialect="legacy"))
    assert (
        "command cmd-alt Alt -> S\n"
        "    gen=True success_response=True boxed=True oob=False preconfig=False\n"
    ) in dump
    assert "command cmd-union U -> None\n" in dump
    assert "event EV_ALT Alt\n    boxed=True\n" in dump
    assert "event EV_UNION U\n    boxed=True\n" in dump


def test_alternate_data_needs_boxed(tmp_path: Path) -> None:
    text = BOXED.replace("'data': 'Alt', 'boxed': true, 'returns'", "'data': 'Alt', 'returns'")
    assert load_error(tmp_path, text) == (
        "schema.json: In command 'cmd-alt':\n"
        "schema.json:7: command's 'data' can take alternate type 'Alt' only with 'boxed': true"
    )


def test_boxed_alternate_rejected_by_the_qemu_dialect(tmp_path: Path) -> None:
    """10.2's rule, unchanged: unions only."""
    text = """
        { 'struct': 'Thing', 'data': { 'a': 'int' } }
        { 'alternate': 'Alt', 'data': { 'i': 'int', 's': 'Thing' } }
        { 'command': 'cmd-alt', 'data': 'Alt', 'boxed': true }
    """
    assert load_error(tmp_path, text, dialect="qemu") == (
        "schema.json: In command 'cmd-alt':\n"
        "schema.json:3: command's 'data' cannot take alternate type 'Alt'"
    )


@pytest.fixture(scope="module")
def boxed_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("boxed")
    schema = write(folder, BOXED)
    out = folder / "out"
    generate(
        GenerateOptions(
            schema=schema,
            output=out,
            package="boxedpkg",
            dialect=Dialect.LEGACY,
            formatter="none",
            cache_dir=folder / ".cache",
        )
    )
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("boxedpkg")
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == "boxedpkg" or n.startswith("boxedpkg.")]:
            del sys.modules[name]


def test_boxed_alternate_command_dispatches(boxed_package: Any) -> None:
    pkg = boxed_package
    received: list[Any] = []
    base: type = pkg.Handlers

    class Handlers(base):  # type: ignore[misc]
        def cmd_alt(self, arguments: object) -> object:
            received.append(arguments)
            return pkg.S(a=42)

        def cmd_union(self, arguments: object) -> None:
            received.append(arguments)

    dispatcher = pkg.make_dispatcher(Handlers())
    assert dispatcher.dispatch({"execute": "qmp_capabilities"}) == {"return": {}}
    assert dispatcher.dispatch({"execute": "cmd-alt", "arguments": {"a": 1}, "id": 1}) == {
        "return": {"a": 42},
        "id": 1,
    }
    assert dispatcher.dispatch({"execute": "cmd-alt", "arguments": {"b": 1}, "id": 2}) == {
        "error": {"class": "GenericError", "desc": "Parameter 'a' is missing"},
        "id": 2,
    }
    assert dispatcher.dispatch(
        {"execute": "cmd-union", "arguments": {"kind": "y", "b": "v"}, "id": 3}
    ) == {"return": {}, "id": 3}
    assert dispatcher.dispatch({"execute": "cmd-union", "arguments": {"kind": "z"}, "id": 4}) == {
        "error": {"class": "GenericError", "desc": "Parameter 'kind' does not accept value 'z'"},
        "id": 4,
    }
    assert [type(arg).__name__ for arg in received] == ["S", "UY"]
    assert received[0] == pkg.S(a=1)
    assert received[1].b == "v"


def test_boxed_alternate_event_encodes_each_branch(boxed_package: Any) -> None:
    from qapigen.support.events import event_message

    pkg = boxed_package
    assert event_message(pkg.EvAlt(data=5), now=2.5) == {
        "timestamp": {"seconds": 2, "microseconds": 500000},
        "event": "EV_ALT",
        "data": 5,
    }
    assert pkg.EvAlt(data=pkg.S(a=3)).to_wire() == {"a": 3}
    assert pkg.EvAlt.from_wire({"a": 4}) == pkg.EvAlt(data=pkg.S(a=4))
    assert pkg.EvAlt.from_wire(7) == pkg.EvAlt(data=7)
    union_event = pkg.EvUnion.from_wire({"kind": "x", "a": 1})
    assert union_event.to_wire() == {"kind": "x", "a": 1}


MYPY = [sys.executable, "-m", "mypy", "--strict"]


def test_boxed_package_passes_mypy_strict(boxed_package: Any, tmp_path: Path) -> None:
    """The alternate event's ``to_wire() -> object`` and the handlers'
    ``arguments: Alt`` type-check like the rest of the package."""
    out = Path(boxed_package.__file__).parent.parent
    env = dict(os.environ, MYPYPATH=str(REPO))
    proc = subprocess.run(
        [*MYPY, "--cache-dir", str(tmp_path / "mypy"), "-p", "boxedpkg"],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
