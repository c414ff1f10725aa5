"""The jinja2 environment, and the import bookkeeping templates use.

Templates render a module's body first; while they do, every name they
write goes through an :class:`Imports` object, which remembers where it
comes from.  The import block is rendered last, from that record, so a
module imports exactly what it uses (the approach betterproto takes).

Helpers (from the standard library and ``qapigen.support``) are bound
under private aliases, ``from typing import ClassVar as _ClassVar``:
schema names never start with ``_`` (see :mod:`naming`), so no type,
event or member of a schema can hide a helper, whatever its name.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from pathlib import Path

import jinja2

from qapigen.backends.python import naming
from qapigen.backends.python.model import TypeRef
from qapigen.support.wire import INT_RANGES


def _shipped_templates() -> Path:
    """``templates/`` of the source tree (editable installs), or the copy a
    wheel installs as ``qapigen/templates``."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "templates", here.parents[2] / "templates"):
        if (candidate / "part.py.jinja").is_file():
            return candidate
    raise FileNotFoundError("qapigen's templates folder is missing from the installation")


PACKAGE_TEMPLATES = _shipped_templates()


class Imports:
    """What one generated module imports, collected while rendering it."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.from_imports: dict[str, set[str]] = {}  # top of module
        self.type_only: dict[str, set[str]] = {}  # under TYPE_CHECKING
        self.late_modules: set[str] = set()  # bottom: `from . import m as _m`

    def name(self, module: str, name: str) -> str:
        """Use *name* from *module*; returns how to write it: a helper's
        private alias, or a class of the package (``.module``) as is."""
        if not module.startswith("."):
            _check_helper(module, name)
        self.from_imports.setdefault(module, set()).add(name)
        return name if module.startswith(".") else alias(name)

    def support(self, name: str) -> str:
        """A helper from qapigen.support (module chosen by name)."""
        return self.name(_SUPPORT_HOME.get(name, "qapigen.support.wire"), name)

    def typing(self, name: str) -> str:
        return self.name("typing", name)

    def annotation(self, ref: TypeRef) -> str:
        """*ref*'s class in an annotation (never evaluated at run time)."""
        if ref.kind == "builtin":
            if ref.py == "Null":
                return self.support("Null")
            if ref.py == "object":
                return self.typing("Any")
            return ref.py
        if ref.kind == "array":
            assert ref.element is not None
            return f"list[{self.annotation(ref.element)}]"
        if ref.module and ref.module != self.module:
            self.type_only.setdefault(f".{ref.module}", set()).add(ref.py)
        return ref.py

    def runtime(self, ref: TypeRef, attr: str = "") -> str:
        """*ref*'s class (or *attr*, a function next to it) in code that runs
        after import: other modules are reached through their module object,
        which is safe even when modules refer to each other."""
        target = attr or ref.py
        if not ref.module or ref.module == self.module:
            return target
        self.late_modules.add(ref.module)
        return f"_{ref.module}.{target}"

    def handlers(self) -> str:
        """The package's ``Handlers`` class in an annotation: the command
        glue calls its methods (``Handlers`` is a reserved package name)."""
        self.type_only.setdefault(".handlers", set()).add("Handlers")
        return "Handlers"

    def base(self, ref: TypeRef) -> str:
        """*ref*'s class, needed while this module is imported (a base
        class or a class-level default)."""
        if ref.module and ref.module != self.module:
            return self.name(f".{ref.module}", ref.py)
        return ref.py

    # -- for the header template ---------------------------------------------

    def stdlib(self) -> list[tuple[str, list[str]]]:
        """``(module, ["name as _name", ...])`` for the standard library."""
        return [(m, _aliased(n)) for m, n in sorted(self.from_imports.items()) if m in _STDLIB]

    def third_party(self) -> list[tuple[str, list[str]]]:
        return [
            (m, _aliased(n))
            for m, n in sorted(self.from_imports.items())
            if m not in _STDLIB and not m.startswith(".")
        ]

    def local(self) -> list[tuple[str, list[str]]]:
        return [(m, sorted(n)) for m, n in sorted(self.from_imports.items()) if m.startswith(".")]

    def type_checking(self) -> list[tuple[str, list[str]]]:
        local = self.from_imports
        return [
            (m, sorted(n - local.get(m, set())))
            for m, n in sorted(self.type_only.items())
            if n - local.get(m, set())
        ]

    def late(self) -> list[str]:
        return sorted(self.late_modules)

    def check(self) -> None:
        """A module alias (``_<module>``) must not be a helper's alias: the
        model keeps module names off every name of :data:`naming.HELPER_MODULES`;
        this catches a helper from anywhere else."""
        helpers = {alias(n) for m, ns in self.from_imports.items() if not m.startswith(".") for n in ns}
        clash = helpers & {f"_{m}" for m in self.late_modules}
        if clash:
            raise AssertionError(f"module {self.module}: {sorted(clash)} name both a helper and a module")


class PackageImports(Imports):
    """Imports for a module that lives outside the generated package (the
    skeleton users copy): every schema type comes from the package root."""

    def __init__(self) -> None:
        super().__init__("")
        self.from_package: set[str] = set()

    def annotation(self, ref: TypeRef) -> str:
        if ref.kind in ("builtin", "array"):
            return super().annotation(ref)
        self.from_package.add(ref.py)
        return ref.py

    def package_names(self) -> list[str]:
        return sorted(self.from_package)


def alias(name: str) -> str:
    """The private name a helper is bound to in generated modules."""
    return "_" + name


def _aliased(names: set[str]) -> list[str]:
    return [f"{n} as {alias(n)}" for n in sorted(names)]


def _check_helper(module: str, name: str) -> None:
    """qapigen's own helpers come from the modules :mod:`naming` knows
    (their names are kept free as module names) and must not look like the
    private names the templates derive from commands; either would let a
    schema name collide with a helper.  (Other modules, which user
    templates may import from, are aliased all the same.)"""
    if not module.startswith("qapigen."):
        return
    if module not in naming.HELPER_MODULES:
        raise AssertionError(f"{module} is not in naming.HELPER_MODULES")
    if name.startswith(naming.PRIVATE_PREFIXES) or name.endswith(("_BRANCHES", "_DECODERS")):
        raise AssertionError(f"helper {name!r} looks like a generated private name")


_STDLIB = frozenset({"__future__", "dataclasses", "enum", "typing", "collections.abc", "json"})

_SUPPORT_HOME = {
    "Null": "qapigen.support.wire",
    "NULL": "qapigen.support.wire",
    "WireEnum": "qapigen.support.enums",
    "CommandSpec": "qapigen.support.dispatch",
    "Reply": "qapigen.support.dispatch",
    "NotImplementedCommand": "qapigen.support.dispatch",
    "no_arguments": "qapigen.support.dispatch",
    "Codec": "qapigen.support.codec",
    "array_codec": "qapigen.support.codec",
    "encode_object": "qapigen.support.codec",
    "BUILTINS": "qapigen.support.codec",
    "QMPError": "qapigen.support.errors",
    "ClientBase": "qapigen.support.client",
    "CommandError": "qapigen.support.client",
    "SyncClient": "qapigen.support.client",
    "hidden": "qapigen.support.policy",
    "FromJson": "qapigen.support.wirejson",
    "decode_class": "qapigen.support.drift",
    "decode_type": "qapigen.support.drift",
}




def _docstring(text: str, indent: int = 4) -> str:
    """*text* as the body of a triple-quoted docstring.  Doc comments
    indent a description's continuation lines; cleandoc removes that."""
    text = inspect.cleandoc(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    if not text:
        return '""""""'
    pad = " " * indent
    lines = [line.rstrip() for line in text.splitlines()]
    body = ("\n" + pad).join(lines).replace(pad + "\n", "\n")
    if len(lines) == 1 and not body.endswith('"'):
        return f'"""{body}"""'
    return f'"""{body}\n{pad}"""'


def _pyrepr(value: object) -> str:
    return repr(value)


def template_problem(err: BaseException) -> str | None:
    """``file:line: message`` for an error in a template, or None when
    *err* did not happen in one.  jinja2 rewrites tracebacks so that
    template code shows as frames of the template file, at its lines."""
    if isinstance(err, jinja2.TemplateSyntaxError):
        return f"{err.filename or err.name}:{err.lineno}: {err.message}"
    frames = [
        frame for frame in traceback.extract_tb(err.__traceback__)
        if frame.filename.endswith(".jinja")
    ]
    if not frames:
        return None
    message = f"template '{err}' not found" if isinstance(err, jinja2.TemplateNotFound) else str(err)
    return f"{frames[-1].filename}:{frames[-1].lineno}: {message}"


@functools.cache
def environment(user_templates: Path | None = None) -> jinja2.Environment:
    """Templates from *user_templates* first (to override single files),
    then the ones qapigen ships.  Kept per process: compiling the
    templates costs more than rendering a small change."""
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["docstring"] = _docstring
    env.filters["pyrepr"] = _pyrepr
    env.globals["int_ranges"] = INT_RANGES  # for inline range checks
    return env
