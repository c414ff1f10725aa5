"""No schema name can break the generated package (issue 6, section 2).

The names to try come from the generator itself: ``tests/names/probe.json``
takes every path through the templates, and every identifier its package
writes (helpers and their aliases, locals, tables, methods, class
attributes, modules, the builtins it calls ...) becomes a schema name, with
Python keywords besides.  Each of them is then used as a struct, enum, union,
alternate, event and command (one package per role, since those share one
namespace), and in every package as a member, an enum value, a union
branch, a union branch class (``Class`` + branch ``Var`` -> ``ClassVar``)
and a schema file (module) name.  Each package must generate, import,
round-trip values, dispatch its commands, bind no module-level name twice,
and pass ``mypy --strict``.  A new helper name is thus tried as soon as a
template writes it.

``tests/names/qemu-names.json`` holds the cases seen in the default dialect
(an event ``NONE``, a struct ``ClassVar`` ...), hand-written.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import keyword
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.backends.python.model import TypeRef
from qapigen.backends.python.render import Imports
from qapigen.dialect import Dialect
from qapigen.support.events import event_message
from tests.conftest import REPO

NAMES = REPO / "tests" / "names"
ROLES = ("struct", "enum", "union", "alternate", "event", "command")

# QAPI's name syntax (legacy dialect), minus what QAPI reserves: builtin
# type names, the q_ prefix, and the List/Kind suffixes of generated types.
_QAPI_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_QAPI_BUILTINS = {
    "str", "number", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "size", "bool", "any", "null", "QType",
}


def _import(folder: Path, package: str) -> ModuleType:
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(folder))


def _identifiers(package: Path) -> set[str]:
    """Every identifier written anywhere in the package's modules."""
    found: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, (ast.arg, ast.keyword)) and node.arg:
                found.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, ast.alias):
                found.update(node.name.split("."))
                if node.asname:
                    found.add(node.asname)
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None):
                found.update(str(node.module).split("."))
    return found


def _usable(name: str) -> bool:
    return (
        bool(_QAPI_NAME.fullmatch(name))
        and not name.lower().startswith("q_")
        and not name.endswith(("List", "Kind"))
        and name not in _QAPI_BUILTINS
        and not name.startswith("Stress")
    )


def _stress_names(probe: Path) -> list[str]:
    """The generator's identifiers (private ones without their leading
    ``_``), Python keywords, a few builtins, and ``dataclasses.field``,
    which the issue names, as usable QAPI names."""
    raw = _identifiers(probe) | set(keyword.kwlist) | {"match", "case", "type", "field"}
    # Builtins the generated code names are among the identifiers; a few
    # more that class bodies or decorators could come to use.
    raw |= {"classmethod", "staticmethod", "property", "tuple", "bytes", "Exception", "id"}
    names = {n.lstrip("_") for n in raw}
    # Leave out the probe's own names: they are schema names, not the generator's.
    return sorted(n for n in names if _usable(n) and not n.lower().startswith("probe"))


def _branch_splits(names: list[str]) -> dict[str, list[str]]:
    """``ClassVar`` -> union ``Class`` with branch ``Var``: the branch class
    is then called ``ClassVar``.  Keyed by union name."""
    splits: dict[str, list[str]] = {}
    for name in names:
        match = re.fullmatch(r"([A-Z][a-z0-9]+)([A-Z][A-Za-z0-9]*)", name)
        if match and match.group(1) not in names and _usable(match.group(1)):
            splits.setdefault(match.group(1), []).append(match.group(2))
    return splits


def _qapi(value: object) -> str:
    """*value* in QAPI's JSON dialect (single-quoted strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, list):
        return "[ " + ", ".join(_qapi(v) for v in value) + " ]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{_qapi(k)}: {_qapi(v)}" for k, v in value.items()) + " }"


def _schema(folder: Path, names: list[str], role: str) -> Path:
    """The schema using every name in *role*, plus the shared roles."""
    folder.mkdir(parents=True)
    splits = _branch_splits(names)
    whitelist = ["StressValues", "StressMembers", "StressBranches", "StressHolder"]
    whitelist += [f"StressTag{p}" for p in splits]
    leaf = "StressLeaf"
    exprs: list[dict[str, object]] = [
        {"pragma": {"name-case-whitelist": whitelist}},
        {"struct": leaf, "data": {"v": "str"}},
        {"enum": "StressLeafType", "data": ["leaf", "other"]},
        {"enum": "StressValues", "data": names},
        {"struct": "StressMembers", "data": dict.fromkeys(names, "str")},
        {"union": "StressBranches", "base": {"kind": "StressValues"}, "discriminator": "kind",
         "data": dict.fromkeys(names, leaf)},
        {"command": "stress-members", "data": "StressMembers", "returns": "StressMembers"},
        {"command": "stress-boxed", "data": "StressMembers", "boxed": True,
         "returns": "StressMembers"},
    ]
    for prefix, rests in splits.items():
        exprs.append({"enum": f"StressTag{prefix}", "data": rests})
        exprs.append({"union": prefix, "base": {"kind": f"StressTag{prefix}"},
                      "discriminator": "kind", "data": dict.fromkeys(rests, leaf)})
    for i, name in enumerate(names):
        if role == "struct":
            # Each in a schema file of that name: module names are tried too.
            (folder / f"{name}.json").write_text(_qapi({"struct": name, "data": {"v": "str"}}))
            exprs.append({"include": f"{name}.json"})
        elif role == "enum":
            exprs.append({"enum": name, "data": ["a", "b"]})
        elif role == "union":
            exprs.append({"union": name, "base": {"kind": "StressLeafType"},
                          "discriminator": "kind", "data": {"leaf": leaf, "other": leaf}})
        elif role == "alternate":
            exprs.append({"alternate": name, "data": {"s": "str", "o": leaf}})
        elif role == "event":
            data: list[dict[str, object]] = [{"data": leaf}, {"data": leaf, "boxed": True}, {}]
            exprs.append({"event": name, **data[i % 3]})
        else:
            exprs.append({"command": name, "data": leaf, "returns": leaf})
    if role in ("struct", "enum", "union", "alternate"):
        # Members named like the classes they hold: annotations must still
        # see the classes.
        exprs.append({"struct": "StressHolder", "data": {n: n for n in names}})
    schema = folder / "stress.json"
    schema.write_text("\n".join(_qapi(e) for e in exprs) + "\n")
    return schema


class Stress:
    """One generated stress package."""

    def __init__(self, role: str, names: list[str], module: ModuleType, folder: Path) -> None:
        self.role = role
        self.names = names
        self.pkg = module
        self.folder = folder


@pytest.fixture(scope="module")
def stress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Stress]]:
    base = tmp_path_factory.mktemp("names")
    generate(GenerateOptions(schema=NAMES / "probe.json", output=base / "probe", package="probe",
                             formatter="none", cache_dir=base / ".cache"))
    names = _stress_names(base / "probe" / "probe")
    out = base / "out"
    made: dict[str, Stress] = {}
    for role in ROLES:
        schema = _schema(base / role, names, role)
        generate(GenerateOptions(schema=schema, output=out, package=f"stress_{role}",
                                 dialect=Dialect.LEGACY, formatter="none", cache_dir=base / ".cache"))
        made[role] = Stress(role, names, _import(out, f"stress_{role}"), out / f"stress_{role}")
    generate(GenerateOptions(schema=NAMES / "qemu-names.json", output=out, package="stress_qemu",
                             formatter="none", cache_dir=base / ".cache"))
    made["qemu"] = Stress("qemu", [], _import(out, "stress_qemu"), out / "stress_qemu")
    yield made


def test_names_come_from_the_generator(stress: dict[str, Stress]) -> None:
    """The helpers the issue names, and the templates' own names, are among
    the names tried, found in the generated code."""
    names = set(stress["struct"].names)
    for expected in ("dataclass", "field", "ClassVar", "TypeAlias", "Literal", "Any", "Path",
                     "Codec", "CommandSpec", "WireEnum", "TYPE_CHECKING", "TYPES_HERE",
                     "COMMANDS_HERE", "from_wire", "to_wire", "WIRE_NAME", "value", "path",
                     "result", "Handlers", "make_dispatcher", "None", "class", "object"):
        assert expected in names, expected
    assert len(names) > 180


@pytest.mark.parametrize("role", ROLES)
def test_every_name_in_its_role_round_trips(stress: dict[str, Stress], role: str) -> None:
    s = stress[role]
    pkg = s.pkg
    for name in s.names:
        if role == "struct":
            assert pkg.TYPES[name].from_wire({"v": "x"}).to_wire() == {"v": "x"}
        elif role == "enum":
            assert pkg.TYPES[name].from_wire("b").to_wire() == "b"
        elif role == "union":
            value = {"kind": "other", "v": "x"}
            assert pkg.TYPES[name].to_wire(pkg.TYPES[name].from_wire(value)) == value
        elif role == "alternate":
            for value in ("x", {"v": "x"}):
                assert pkg.TYPES[name].to_wire(pkg.TYPES[name].from_wire(value)) == value
        elif role == "event":
            event_class = pkg.EVENTS[name]
            data: dict[str, Any] = {} if not event_class.HAS_DATA else {"v": "x"}
            event = event_class.from_wire(data)
            assert event.to_wire() == data
            message = event_message(event, now=1.5)
            assert message["event"] == name
            assert message.get("data", {}) == data
    if role in ("struct", "enum", "union", "alternate"):
        sample = {"struct": {"v": "x"}, "enum": "a", "union": {"kind": "leaf", "v": "x"},
                  "alternate": "x"}[role]
        holder = {n: sample for n in s.names}
        assert pkg.TYPES["StressHolder"].from_wire(holder).to_wire() == holder
    if role == "command":
        _dispatch_every_command(s)


def _dispatch_every_command(s: Stress) -> None:
    pkg = s.pkg
    methods: dict[str, Any] = {}
    for name in s.names:
        methods[pkg.COMMANDS[name].method] = lambda self, v, _n=name: pkg.StressLeaf(v=v + _n)
    members = {n: n.upper() for n in s.names}
    methods[pkg.COMMANDS["stress-members"].method] = lambda self, **kwargs: pkg.StressMembers(**kwargs)
    methods[pkg.COMMANDS["stress-boxed"].method] = lambda self, arguments: arguments
    dispatcher = pkg.make_dispatcher(type("Server", (pkg.Handlers,), methods)())
    assert dispatcher.dispatch({"execute": "qmp_capabilities"}) == {"return": {}}
    for name in s.names:
        reply = dispatcher.dispatch({"execute": name, "arguments": {"v": "x"}, "id": name})
        assert reply == {"return": {"v": "x" + name}, "id": name}
    for command in ("stress-members", "stress-boxed"):
        reply = dispatcher.dispatch({"execute": command, "arguments": members})
        assert reply == {"return": members}


@pytest.mark.parametrize("role", ROLES)
def test_every_name_as_member_value_and_branch(stress: dict[str, Stress], role: str) -> None:
    pkg = stress[role].pkg
    names = stress[role].names
    members = {n: "x" + n for n in names}
    obj = pkg.TYPES["StressMembers"].from_wire(members)
    assert obj.to_wire() == members
    values = pkg.TYPES["StressValues"]
    branches = pkg.TYPES["StressBranches"]
    for name in names:
        assert values.from_wire(name).to_wire() == name
        value = {"kind": name, "v": "x"}
        decoded = branches.from_wire(value)
        assert decoded.TAG is values.from_wire(name)
        assert branches.to_wire(decoded) == value
    for prefix, rests in _branch_splits(names).items():
        for rest in rests:
            value = {"kind": rest, "v": "x"}
            assert pkg.TYPES[prefix].to_wire(pkg.TYPES[prefix].from_wire(value)) == value


@pytest.mark.parametrize("role", [*ROLES, "qemu"])
def test_no_module_level_name_is_bound_twice(stress: dict[str, Stress], role: str) -> None:
    """Two bindings of one name at module level means one hides the other."""
    for path in sorted(stress[role].folder.glob("*.py")):
        seen: dict[str, int] = {}
        for node in ast.parse(path.read_text()).body:
            for name in _bound(node):
                assert name not in seen, f"{path.name}: {name} bound at lines {seen[name]} and {node.lineno}"
                seen[name] = node.lineno


def test_no_module_level_name_is_bound_twice_in_the_committed_package() -> None:
    for path in sorted((REPO / "generated" / "qmp").glob("*.py")):
        names = [n for node in ast.parse(path.read_text()).body for n in _bound(node)]
        assert len(names) == len(set(names)), path.name


def _bound(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    return []


def test_seen_cases_in_the_default_dialect(stress: dict[str, Stress]) -> None:
    """The issue's cases: an event NONE, a struct ClassVar before other
    structs, and helpers' names as types, commands and members."""
    pkg = stress["qemu"].pkg
    assert pkg.EVENTS["NONE"].__name__ == "None_"
    assert pkg.EVENTS["NONE"]().to_wire() == {}
    assert pkg.ClassVar.from_wire({"v": "x"}).to_wire() == {"v": "x"}
    # A dataclass after ClassVar still has only its own members as fields.
    assert pkg.Later.from_wire({"dataclass": "d", "ClassVar": {"v": "y"}}) == pkg.Later(
        dataclass="d", ClassVar_=pkg.ClassVar(v="y")
    )
    assert [f.name for f in dataclasses.fields(pkg.Later)] == ["dataclass", "ClassVar_"]
    assert pkg.Literal.from_wire("field").to_wire() == "field"
    value = {"type": "path", "v": "x"}
    assert pkg.Any_from_wire(value).to_wire() == value
    assert pkg.TypeAlias_from_wire("s") == "s"
    server = type("Server", (pkg.Handlers,), {"dataclass": lambda self, field: pkg.Path(v=field)})
    dispatcher = pkg.make_dispatcher(server())
    dispatcher.dispatch({"execute": "qmp_capabilities"})
    assert dispatcher.dispatch({"execute": "dataclass", "arguments": {"field": "f"}}) == {
        "return": {"v": "f"}
    }


def test_stress_packages_pass_mypy_strict(stress: dict[str, Stress], tmp_path: Path) -> None:
    folder = stress["qemu"].folder.parent
    args = [a for role in [*ROLES, "qemu"] for a in ("-p", f"stress_{role}")]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy"), *args],
        cwd=folder, env=dict(os.environ, MYPYPATH=str(REPO)), capture_output=True, text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_helpers_are_imported_under_private_aliases() -> None:
    imports = Imports("here")
    assert imports.name("dataclasses", "dataclass") == "_dataclass"
    assert imports.typing("ClassVar") == "_ClassVar"
    assert imports.support("Path") == "_Path"
    # A user template may import from anywhere; that is aliased too.
    assert imports.name("pathlib", "PurePath") == "_PurePath"
    # Classes of the package keep their names.
    assert imports.name(".other", "ClassVar") == "ClassVar"
    assert imports.stdlib() == [
        ("dataclasses", ["dataclass as _dataclass"]),
        ("typing", ["ClassVar as _ClassVar"]),
    ]
    assert imports.third_party() == [
        ("pathlib", ["PurePath as _PurePath"]),
        ("qapigen.support.wire", ["Path as _Path"]),
    ]


def test_helpers_that_could_collide_are_refused() -> None:
    """Developer errors, caught when generating: a qapigen helper module the
    naming rules do not know, a helper shaped like ``_call_<method>``, and a
    module alias equal to a helper's."""
    imports = Imports("here")
    with pytest.raises(AssertionError, match=r"not in naming\.HELPER_MODULES"):
        imports.name("qapigen.support.fast", "decode")
    with pytest.raises(AssertionError, match="looks like a generated private name"):
        imports.name("qapigen.support.wire", "call_handler")
    imports.name("dataclasses", "field")
    assert imports.runtime(TypeRef("struct", "F", "F", module="field")) == "_field.F"
    with pytest.raises(AssertionError, match=r"\['_field'\] name both a helper and a module"):
        imports.check()


def test_module_names_avoid_helpers_and_package_modules(tmp_path: Path) -> None:
    """Schema files named like a helper, a package module or with a leading
    underscore get modules that collide with nothing."""
    for stem in ("field", "registry", "_private", "json", "client"):
        (tmp_path / f"{stem}.json").write_text(_qapi({"struct": f"S{stem.strip('_')}", "data": {}}))
    (tmp_path / "main.json").write_text(
        "\n".join(_qapi({"include": f"{s}.json"})
                  for s in ("field", "registry", "_private", "json", "client"))
    )
    generate(GenerateOptions(schema=tmp_path / "main.json", output=tmp_path / "out", package="mods",
                             formatter="none", cache_dir=tmp_path / ".cache"))
    made = sorted(p.name for p in (tmp_path / "out" / "mods").glob("*.py"))
    assert made == ["__init__.py", "builtin.py", "client.py", "client_.py", "field_.py",
                    "handlers.py", "json_.py", "m__private.py", "registry.py", "registry_.py",
                    "skeleton.py"]
    assert _import(tmp_path / "out", "mods").Sregistry.from_wire({}).to_wire() == {}
