"""How QAPI wire names become Python names.

The mapping is deterministic and documented, because users write these
names in their code:

* Members and arguments: ``-`` and ``.`` become ``_`` (``node-name`` ->
  ``node_name``); a leading ``_`` (QAPI's downstream prefix
  ``__com.example_``) gets a ``q`` in front, so Python does not mangle it.
  A name that is a Python keyword (or the soft keywords ``match`` and
  ``case``), a builtin that generated class bodies use (``str``,
  ``object`` ...), one of the attributes every generated class has
  (``from_wire``, ``to_wire``, ``WIRE_NAME`` ...), or a class name of the
  package (annotations would see the member instead of the class) gets a
  trailing ``_`` (``if`` -> ``if_``, ``str`` -> ``str_``).
* Enum values: the member name upper-cased (``on-success`` ->
  ``ON_SUCCESS``); a leading digit gets a ``_`` in front (``3des`` ->
  ``_3DES``).
* Types keep their QAPI name where it is a Python identifier; otherwise
  ``-``/``.`` become ``_``, and a leading ``_`` or digit gets a ``Q`` in
  front.  Implicit types are named after their owner:
  ``q_obj_block-dirty-bitmap-add-arg`` -> ``BlockDirtyBitmapAddArguments``,
  ``q_obj_Foo-base`` -> ``FooBase``, ``q_obj_Foo-wrapper`` -> ``FooWrapper``,
  ``q_empty`` -> ``Empty``.
* Union branches: ``<Union><Branch>`` in CamelCase (``TransactionAction``
  branch ``blockdev-backup`` -> ``TransactionActionBlockdevBackup``).
* Commands: handler methods are the command name in snake case
  (``block-dirty-bitmap-add`` -> ``block_dirty_bitmap_add``); like members,
  they avoid keywords, the builtins class bodies use and class names.
* Events: the event name in CamelCase (``JOB_STATUS_CHANGE`` ->
  ``JobStatusChange``).
* Modules: the schema file's name in snake case (``block-core.json`` ->
  ``block_core``); a leading digit or ``_`` gets ``m_`` in front.

Module-level names (types, events, union branch classes, handler classes)
never start with ``_`` and are never a keyword, a builtin, or a name the
generated code uses for itself (:data:`RESERVED_GLOBAL`); they never start
with ``e_`` either (decoders use such locals), a ``Q`` goes in front.
Everything the generated modules import is bound under a private alias
(``from dataclasses import dataclass as _dataclass``), so no schema name
can hide it.

Wire names are never lost: every generated class and member records its
wire name, and encoding always uses it.  When two Python names would
collide, the later one (in schema order) gets a ``_`` appended, repeatedly,
until it is unique.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable, Iterable

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]")
_WORD = re.compile(r"[A-Za-z0-9]+")

#: Python keywords, and the soft keywords that were keywords-to-be when
#: this rule was written (fixed, so that the output does not depend on the
#: Python version running the generator).
KEYWORDS = frozenset(keyword.kwlist) | {"match", "case"}

#: Builtins that generated class bodies name (annotations and class-level
#: values): a class attribute of that name would hide them from mypy.
CLASS_BUILTINS = frozenset(
    {"str", "int", "float", "bool", "object", "dict", "list", "frozenset", "tuple",
     "classmethod", "staticmethod"}
)

#: Attribute names every generated class uses for itself.  ``from_json`` and
#: ``to_json`` are kept free for decoders of raw JSON text.
CLASS_ATTRIBUTES = frozenset(
    {"from_wire", "to_wire", "from_branch", "wire_fields", "from_json", "to_json",
     "WIRE_NAME", "WIRE_MEMBERS", "NAME", "HAS_DATA", "SPECIAL", "TAG", "self", "cls"}
)

#: What tolerant decoding records on objects (``qapigen.support.drift``):
#: inherited from the classes' base, never bound in a class body, so only
#: members must avoid them.
DRIFT_ATTRIBUTES = frozenset({"extra", "missing"})

#: What a member, argument or handler method may not be called.
CLASS_RESERVED = KEYWORDS | CLASS_BUILTINS | CLASS_ATTRIBUTES | DRIFT_ATTRIBUTES

#: Parameters and locals of generated functions: a module-level class of
#: that name would be hidden from the function that needs it.
FUNCTION_LOCALS = frozenset(
    {"value", "path", "name", "cls", "self", "d", "v", "p", "i", "x", "k", "result", "base",
     "tag", "decode", "out", "handlers", "args", "arguments", "tolerant"}
)

#: Names the package's fixed modules bind next to the schema's names.
PACKAGE_NAMES = frozenset(
    {"TYPES", "COMMANDS", "EVENTS", "SCHEMA_INFO", "TYPES_HERE", "COMMANDS_HERE", "WIRESPEC_HERE",
     "TYPE_CHECKING", "Handlers", "handlers", "registry",
     "MyHandlers", "make_dispatcher", "Dispatcher", "annotations", "NULL", "Null", "QMPError",
     "from_wire", "to_wire", "Client", "SyncClient", "CommandError", "client"}
)

#: What a module-level Python name (type, event, branch or handler class)
#: may not be.
RESERVED_GLOBAL = (
    KEYWORDS
    | frozenset(n for n in dir(builtins) if not n.startswith("_"))
    | FUNCTION_LOCALS
    | PACKAGE_NAMES
    # Class bodies bind these before annotating members with class names.
    | CLASS_ATTRIBUTES
)

#: Module-level names start with none of these (decoders' locals do).
RESERVED_GLOBAL_PREFIXES = ("e_",)

#: The modules generated code imports helpers from.  Every name they define
#: is kept free as a generated module's name (``from . import m as _m``
#: binds ``_m``, ``from x import n as _n`` binds ``_n``).
HELPER_MODULES = (
    "collections.abc",
    "dataclasses",
    "typing",
    "qapigen.support.client",
    "qapigen.support.codec",
    "qapigen.support.dispatch",
    "qapigen.support.drift",
    "qapigen.support.enums",
    "qapigen.support.errors",
    "qapigen.support.lazy",
    "qapigen.support.policy",
    "qapigen.support.wire",
    "qapigen.support.wirejson",
)

#: Prefixes of private module-level names the templates derive from a
#: command's method (``_call_<method>`` ...): helpers may not look like them.
PRIVATE_PREFIXES = ("call_", "args_", "reply_")


def attribute_name(wire: str) -> str:
    """The Python attribute for a member or argument called *wire*."""
    name = _NOT_IDENT.sub("_", wire)
    if name.startswith("_"):
        name = "q" + name
    if name[:1].isdigit():
        name = "_" + name
    if name in CLASS_RESERVED:
        name += "_"
    return name


def global_name(name: str) -> str:
    """*name*, a would-be module-level Python name, made safe: never a
    keyword, builtin or name the generated code uses itself."""
    if name.startswith(RESERVED_GLOBAL_PREFIXES):
        name = "Q" + name
    while name in RESERVED_GLOBAL:
        name += "_"
    return name


def enum_member_name(wire: str) -> str:
    """The Python enum member for the enum value *wire*."""
    name = _NOT_IDENT.sub("_", wire).upper()
    if name[:1].isdigit():
        name = "_" + name
    if name.startswith("__") or (name.startswith("_") and name.endswith("_")):
        # Enum treats _sunder_ and __dunder names specially.
        name = "Q" + name
    return name


def camel(text: str) -> str:
    """``block-dirty-bitmap-add`` or ``JOB_STATUS_CHANGE`` in CamelCase;
    names already in CamelCase keep their inner capitals."""
    words = _WORD.findall(text)
    if text.isupper() or ("_" in text and text.upper() == text):
        return "".join(w.capitalize() for w in words)
    return "".join(w[:1].upper() + w[1:] for w in words)


def snake(text: str) -> str:
    """``block-dirty-bitmap-add`` -> ``block_dirty_bitmap_add``."""
    name = _NOT_IDENT.sub("_", text)
    if name[:1].isdigit() or name.startswith("_"):
        name = "q" + name if name.startswith("_") else "_" + name
    if name in CLASS_RESERVED:
        name += "_"
    return name


def type_name(qapi: str) -> str:
    """The Python class (or alias) name for the QAPI type *qapi*."""
    if qapi == "q_empty":
        return "Empty"
    match = re.fullmatch(r"q_obj_(.+)-(arg|base|wrapper)", qapi)
    if match:
        owner, role = match.groups()
        suffix = {"arg": "Arguments", "base": "Base", "wrapper": "Wrapper"}[role]
        return camel(owner) + suffix
    name = _NOT_IDENT.sub("_", qapi)
    if name[:1].isdigit() or name.startswith("_"):
        name = "Q" + name
    return global_name(name)


def module_name(qapi_module: str) -> str:
    """The Python module for the schema file *qapi_module* (a path)."""
    stem = qapi_module.rsplit("/", 1)[-1]
    if stem.endswith(".json"):
        stem = stem[: -len(".json")]
    name = _NOT_IDENT.sub("_", stem).lower()
    if not name or name[:1].isdigit() or name.startswith("_"):
        # A leading "_" would make ``_<module>`` a mangled name in classes.
        name = "m_" + name
    if name in KEYWORDS:
        name += "_"
    return name


class NameSpace:
    """Hands out unique names: a taken name gets ``_`` appended."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self._taken: set[str] = set(reserved)
        self._claimed: set[str] = set()

    def __contains__(self, name: str) -> bool:
        """Whether *name* was handed out (reserved names do not count)."""
        return name in self._claimed

    def claim(self, name: str, derive: Callable[[str], Iterable[str]] | None = None) -> str:
        """*name*, or *name* with ``_`` appended until it and the names
        *derive* makes of it are all free; claims them all."""
        while any(n in self._taken for n in (name, *(derive(name) if derive else ()))):
            name += "_"
        names = (name, *(derive(name) if derive else ()))
        self._taken.update(names)
        self._claimed.update(names)
        return name

    def claimed(self) -> frozenset[str]:
        return frozenset(self._claimed)
