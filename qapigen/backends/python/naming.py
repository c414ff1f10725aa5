"""How QAPI wire names become Python names.

The mapping is deterministic and documented, because users write these
names in their code:

* Members and arguments: ``-`` and ``.`` become ``_`` (``node-name`` ->
  ``node_name``); a name that is a Python keyword, a builtin that
  annotations use (``str``, ``object`` ...), or one of the attributes every
  generated class has (``from_wire``, ``to_wire``, ``wire_fields`` ...),
  gets a trailing ``_`` (``if`` -> ``if_``, ``str`` -> ``str_``); a leading ``_`` (QAPI's downstream prefix
  ``__com.example_``) gets a ``q`` in front, so Python does not mangle it.
* Enum values: the member name upper-cased (``on-success`` ->
  ``ON_SUCCESS``); a leading digit gets a ``_`` in front (``3des`` ->
  ``_3DES``).
* Types keep their QAPI name where it is a Python identifier; otherwise
  ``-``/``.`` become ``_``.  Implicit types are named after their owner:
  ``q_obj_block-dirty-bitmap-add-arg`` -> ``BlockDirtyBitmapAddArguments``,
  ``q_obj_Foo-base`` -> ``FooBase``, ``q_obj_Foo-wrapper`` -> ``FooWrapper``,
  ``q_empty`` -> ``Empty``.
* Union branches: ``<Union><Branch>`` in CamelCase (``TransactionAction``
  branch ``blockdev-backup`` -> ``TransactionActionBlockdevBackup``).
* Commands: handler methods are the command name in snake case
  (``block-dirty-bitmap-add`` -> ``block_dirty_bitmap_add``).
* Events: the event name in CamelCase (``JOB_STATUS_CHANGE`` ->
  ``JobStatusChange``).

Wire names are never lost: every generated class and member records its
wire name, and encoding always uses it.  When two Python names would
collide, the later one (in schema order) gets a ``_`` appended, repeatedly,
until it is unique.
"""

from __future__ import annotations

import keyword
import re

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]")
_WORD = re.compile(r"[A-Za-z0-9]+")

#: Attribute names every generated class uses for itself, and builtins its
#: annotations use (a member called ``str`` would hide ``str`` from them).
_CLASS_RESERVED = frozenset(
    {"from_wire", "to_wire", "WIRE_NAME", "WIRE_MEMBERS", "NAME", "HAS_DATA", "self", "cls", "wire_fields", "TAG",
     "str", "int", "float", "bool", "object", "dict", "list", "frozenset"}
)


def attribute_name(wire: str) -> str:
    """The Python attribute for a member or argument called *wire*."""
    name = _NOT_IDENT.sub("_", wire)
    if name.startswith("_"):
        name = "q" + name
    if name[:1].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _CLASS_RESERVED:
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
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
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
    if keyword.iskeyword(name):
        name += "_"
    return name


def module_name(qapi_module: str) -> str:
    """The Python module for the schema file *qapi_module* (a path)."""
    stem = qapi_module.rsplit("/", 1)[-1]
    if stem.endswith(".json"):
        stem = stem[: -len(".json")]
    name = _NOT_IDENT.sub("_", stem).lower()
    if not name or name[:1].isdigit():
        name = "m_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


class NameSpace:
    """Hands out unique names: a taken name gets ``_`` appended."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self._taken: set[str] = set(reserved)

    def claim(self, name: str) -> str:
        while name in self._taken:
            name += "_"
        self._taken.add(name)
        return name
