"""Tolerant decoding: bindings of one QEMU reading a newer or older QEMU.

Real servers are older and newer than the bindings.  ``from_wire(value,
tolerant=True)`` (and ``from_json``, on every class and codec) decodes
what the strict decoder refuses because of *version drift*, and records
what differed on the value instead of raising:

- a member the bindings do not know (a newer server) is kept, as its raw
  JSON value, in the object's ``extra`` mapping;
- a member the bindings hold mandatory but the server left out (an older
  server) is ``None`` on the object, and its wire name is listed in the
  object's ``missing`` tuple;
- an enum value the bindings do not know is an :class:`UnknownValue`, a
  ``str`` subclass equal to (and encoding as) its wire string;
- a union value whose tag the bindings do not know decodes to the union's
  base class (its common members typed, the branch's members in
  ``extra``), or, for unions without a base (legacy simple unions), to an
  :class:`UnknownBranch` holding the data;
- each of these warns once per (type, name), with :class:`DriftWarning`.

A value of the wrong JSON type still raises QEMU's message: the
compatibility rules never change a member's type in a way old bindings
could read, so there is no typed value to give, and handing back the raw
value under a typed attribute would make the type hints lie about exactly
the members a program cannot check for.

``to_wire()`` of a tolerantly decoded value gives back what was read:
extra members (after the known ones), unknown enum values and unknown
branches go out as they came, and missing members stay out (nothing is
invented).  It ignores the compat output policy's ``hide`` for such
values.  :func:`differences` lists what differed, with QEMU's paths.

The strict decoders are untouched: tolerant decoding tries them first
(no drift: the same value, at the same cost) and walks the value with the
``WIRESPEC_HERE`` tables of the package only when they refuse it.  Objects
with extra or missing members are instances of a subclass of their class
(same name, ``isinstance`` holds, mypy sees the declared class) that adds
the two slots; ``extra`` and ``missing`` are reserved names, so no member
of a schema can be called so (naming.CLASS_ATTRIBUTES).
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from qapigen.support import wire
from qapigen.support.errors import QMPError
from qapigen.support.wire import NULL, Path, new_object, render

T = TypeVar("T")


class DriftWarning(UserWarning):
    """A server sent what the bindings do not describe (a member or enum
    value they do not know, or left out one they hold mandatory)."""


class UnknownValue(str):
    """An enum value (or union tag) the bindings do not know.  It is the
    wire string (``==``, ``hash`` and ``json`` treat it as one), and has
    the enum members' ``value`` and ``to_wire()``; it is no enum member,
    so ``v is Kind.X`` stays False for it."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)

    def to_wire(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"UnknownValue({str(self)!r})"


@dataclasses.dataclass(slots=True, kw_only=True)
class UnknownBranch:
    """A value of a union without a base class (a legacy simple union)
    whose tag the bindings do not know: the tag and the other members,
    raw."""

    #: The union's QAPI name.
    union: str
    #: The tag member's wire name.
    tag_member: str
    tag: UnknownValue
    #: Every member but the tag, as received.
    extra: dict[str, object]
    missing: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, object]:
        return {self.tag_member: str(self.tag), **self.extra}


class Difference(NamedTuple):
    """One difference between a decoded value and the bindings.

    ``kind`` is ``"missing"`` (``value`` None), ``"extra"`` (``value`` the
    member's JSON value) or ``"unknown-value"`` (``value`` the wire
    string); ``path`` is QEMU's path of the member or value
    (``[0].stats.zone_append_bytes``)."""

    kind: str
    path: str
    value: object


# -- warnings ------------------------------------------------------------------

_WARNED: set[tuple[str, str, str]] = set()


def _warn_once(kind: str, type_name: str, name: str, text: str) -> None:
    key = (kind, type_name, name)
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(text, DriftWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside qapigen's support
    modules and the generated package (whose modules hold ``TYPES_HERE``):
    the warning then names the line that decoded the value."""
    frame = sys._getframe(2)  # _warn_once's caller
    level = 2
    while frame.f_back is not None and (
        frame.f_globals.get("__name__", "").startswith("qapigen.support.")
        or "TYPES_HERE" in frame.f_globals
    ):
        frame = frame.f_back
        level += 1
    return level


def reset_warnings() -> None:
    """Warn again about what was already reported (tests, long-lived
    programs that reconnect)."""
    _WARNED.clear()


# -- the package's shape (WIRESPEC_HERE) ---------------------------------------

_Entry = tuple[Any, ...]


class _Index:
    """Where the types and events of one generated package are described."""

    def __init__(self, package: str) -> None:
        self.package = package
        registry = importlib.import_module(f"{package}.registry")
        self.arrays: dict[str, str] = registry._ARRAYS
        self.modules: dict[str, str] = registry._TYPE_MODULES
        self.events: dict[str, tuple[str, str]] = registry._EVENT_CLASSES

        # Caches: tolerant decoding looks these up once per member.
        self._entries: dict[str, _Entry] = {}
        self._strict: dict[str, Any] = {}
        self._classes: dict[tuple[str, str], Any] = {}

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    def cls(self, module: str, name: str) -> Any:
        """Class *name* of the package's module *module*."""
        key = (module, name)
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = getattr(self.module(module), name)
        return found

    def entry(self, name: str) -> _Entry:
        found = self._entries.get(name)
        if found is None:
            found = self._entries[name] = self._entry(name)
        return found

    def _entry(self, name: str) -> _Entry:
        element = self.arrays.get(name)
        if element is not None:
            return ("array", element)
        home = self.modules.get(name)
        if home is None:
            home = self.events[name][0]
        found: _Entry = self.module(home).WIRESPEC_HERE[name]
        if found[0] == "unsupported":  # for the fast path; the shape follows
            found = found[1]
        return found

    def strict(self, name: str) -> Any:
        """The strict decoder's owner (class or codec) of type *name*."""
        found = self._strict.get(name)
        if found is None:
            found = self._strict[name] = self.module(self.modules[name]).TYPES_HERE[name]
        return found


_INDEXES: dict[str, _Index] = {}


def _index(package: str) -> _Index:
    index = _INDEXES.get(package)
    if index is None:
        index = _INDEXES[package] = _Index(package)
    return index


class _Shape(NamedTuple):
    """How to decode and encode the objects of one class."""

    name: str  # QAPI name, for warnings
    members: tuple[tuple[Any, ...], ...]  # (wire, attr, type, optional[, flat])
    tag: tuple[str, str] | None  # a union branch's (wire, attr)
    boxed: str | None  # a boxed event's argument type


_SHAPES: dict[type, _Shape] = {}


def _shape(cls: Any) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is not None:
        return shape
    index = _index(cls.__module__.rpartition(".")[0])
    event = getattr(cls, "NAME", None)
    if event is not None:
        _, arg, boxed = index.entry(event)
        if boxed:
            shape = _Shape(event, (), None, arg)
        else:
            members = index.entry(arg)[3] if arg else ()
            shape = _Shape(event, members, None, None)
    elif hasattr(cls, "TAG"):
        union = index.entry(cls.WIRE_NAME)
        value = cls.TAG.value
        members = next(b[3] for b in union[4] if b[0] == value)
        shape = _Shape(cls.WIRE_NAME, members, (union[1], union[2]), None)
    else:
        entry = index.entry(cls.WIRE_NAME)
        shape = _Shape(cls.WIRE_NAME, entry[3], None, None)
    _SHAPES[cls] = shape
    return shape


# -- decoding --------------------------------------------------------------------


def decode_class(cls: type[T], value: object, path: Path = "", name: str = "null") -> T:
    """``cls.from_wire(value, tolerant=True)``: the strict decoder, or,
    when it refuses the value, the tolerant walk."""
    try:
        return cls.from_wire(value, path, name)  # type: ignore[attr-defined, no-any-return]
    except QMPError:
        pass
    if issubclass(cls, _enum_base()):
        return _enum(cls, value, path, name)  # type: ignore[return-value]
    return _object(cls, value, path, name)  # type: ignore[return-value]


def decode_type(
    type_name: str, strict: Callable[[object, Path, str], T], value: object, path: Path = "",
    name: str = "null",
) -> T:
    """A union's or alternate's ``X_from_wire(value, tolerant=True)``."""
    try:
        return strict(value, path, name)
    except QMPError:
        pass
    index = _index(strict.__module__.rpartition(".")[0])
    return _value(index, type_name, value, path, name)  # type: ignore[return-value]


def _enum_base() -> type:
    from qapigen.support.enums import WireEnum

    return WireEnum


def _enum(cls: Any, value: object, path: Path, name: str) -> object:
    if type(value) is str:
        member = cls._value2member_map_.get(value)
        if member is not None:
            return member
        _warn_once(
            "value", cls.__name__, value,
            f"{cls.__name__}: value {value!r} is unknown to the bindings; kept as UnknownValue",
        )
        return UnknownValue(value)
    raise wire.wrong_type(path or name, "string")


_BUILTIN_KINDS = {
    "str": str, "bool": bool, "null": type(None), "number": (int, float),
    **dict.fromkeys(
        ("int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "size"),
        int,
    ),
}
_KIND_TYPES = {"enum": str, "struct": dict, "union": dict, "array": list}
_BUILTIN_DECODERS: dict[str, Callable[[object, Path, str], object]] = {
    name: getattr(wire, f"{name}_value") for name in [*_BUILTIN_KINDS, "any"]
}


def _value(index: _Index, type_name: str, value: object, path: Path, name: str) -> object:
    """Decode *value* of QAPI type *type_name*, tolerantly."""
    builtin = _BUILTIN_DECODERS.get(type_name)
    if builtin is not None:
        return builtin(value, path, name)
    entry = index.entry(type_name)
    kind = entry[0]
    if kind == "array":
        if type(value) is not list:
            raise wire.wrong_type(path or name, "array")
        return [_value(index, entry[1], x, (path, i), "null") for i, x in enumerate(value)]
    if kind == "enum":
        return _enum(index.cls(entry[1], entry[2]), value, path, name)
    if kind == "alternate":
        for branch in entry[1]:
            if _matches(index, branch, value):
                return _value(index, branch, value, path, name)
        return index.strict(type_name).from_wire(value, path, name)  # QEMU's error
    # struct or union: the strict decoder first (most values have no drift)
    try:
        return index.strict(type_name).from_wire(value, path, name)
    except QMPError:
        pass
    if kind == "struct":
        return _object(index.cls(entry[1], entry[2]), value, path, name)
    return _union(index, type_name, entry, value, path, name)


def _matches(index: _Index, type_name: str, value: object) -> bool:
    """Whether *value*'s JSON type is the one an alternate branch of type
    *type_name* takes (the strict decoders choose the same way)."""
    expected = _BUILTIN_KINDS.get(type_name) or _KIND_TYPES[index.entry(type_name)[0]]
    if type(expected) is tuple:
        return type(value) in expected
    return type(value) is expected


def _union(index: _Index, type_name: str, entry: _Entry, value: object, path: Path, name: str) -> object:
    _, tag_wire, _, tag_type, branches = entry
    if type(value) is not dict:
        raise wire.not_an_object(path)
    tag = value.get(tag_wire)
    for tag_value, module, py, _members in branches:
        if tag == tag_value:
            return _object(index.cls(module, py), value, path, name)
    if type(tag) is not str:  # absent or not a string: QEMU's error
        return index.strict(type_name).from_wire(value, path, name)
    first = index.cls(branches[0][1], branches[0][2])
    base = first.__mro__[1]
    if hasattr(base, "WIRE_NAME"):
        # The union's base class: common members typed, the rest extra.
        return _object(base, value, path, name, quiet=True)
    kind_entry = index.entry(tag_type)
    unknown = _enum(index.cls(kind_entry[1], kind_entry[2]), tag, (path, tag_wire), tag_wire)
    assert isinstance(unknown, UnknownValue)
    extra = {k: v for k, v in value.items() if k != tag_wire}
    return UnknownBranch(union=type_name, tag_member=tag_wire, tag=unknown, extra=extra)


def _object(cls: type, value: object, path: Path, name: str, quiet: bool = False) -> object:
    """Decode a struct, union branch or event class's object tolerantly;
    *quiet*: no warning for extra members (an unknown branch's, when the
    unknown tag was reported)."""
    shape = _shape(cls)
    index = _index(cls.__module__.rpartition(".")[0])
    if shape.boxed is not None:
        return cls(data=_value(index, shape.boxed, value, path, name))
    if type(value) is not dict:
        raise wire.not_an_object(path)
    known: frozenset[str] = getattr(cls, "WIRE_MEMBERS", frozenset())
    values: list[tuple[str, object]] = []
    missing: list[str] = []
    flat = False
    if shape.tag is not None:
        values.append((shape.tag[1], cls.TAG))  # type: ignore[attr-defined]
    for member in shape.members:
        wire_name, attr, type_name, optional = member[:4]
        if len(member) > 4 and member[4]:
            # A branch that is itself a union: it takes the other members.
            flat = True
            rest = {k: v for k, v in value.items() if k not in known}
            values.append((attr, _value(index, type_name, rest, path, "null")))
        elif wire_name in value:
            values.append(
                (attr, _value(index, type_name, value[wire_name], (path, wire_name), wire_name))
            )
        else:
            values.append((attr, None))
            if not optional:
                missing.append(wire_name)
                _warn_once(
                    "missing", shape.name, wire_name,
                    f"{shape.name}: member {wire_name!r} is missing (an older server?);"
                    " it is None, and listed in .missing",
                )
    extra = {} if flat else {k: v for k, v in value.items() if k not in known}
    for key in () if quiet else extra:
        _warn_once(
            "extra", shape.name, key,
            f"{shape.name}: member {key!r} is unknown to the bindings; kept in .extra",
        )
    result: Any = new_object(_drifted_class(cls) if extra or missing else cls)
    for attr, decoded in values:
        setattr(result, attr, decoded)
    if extra or missing:
        result.extra = extra
        result.missing = tuple(missing)
    return result


# -- drifted classes -------------------------------------------------------------

_DRIFTED: dict[type, type] = {}


def _drifted_class(cls: type) -> type:
    """The subclass of *cls* for objects with extra or missing members:
    two more slots, and a ``to_wire`` that re-emits what was read."""
    sub = _DRIFTED.get(cls)
    if sub is None:
        base_init: Callable[..., None] = cls.__init__  # type: ignore[misc]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            # dataclasses.replace() and friends: the declared members only.
            base_init(self, *args, **kwargs)
            self.extra, self.missing = {}, ()

        sub = _DRIFTED[cls] = type(cls)(
            cls.__name__, (cls,),
            {"__slots__": ("extra", "missing"), "__module__": cls.__module__,
             "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
             "__init__": __init__, "to_wire": _drifted_to_wire, "__reduce__": _drifted_reduce,
             "_drifted_from": cls},
        )
    return sub


def _drifted_reduce(self: Any) -> tuple[Any, ...]:
    """copy, deepcopy and pickle keep ``extra`` and ``missing`` (the
    subclass is rebuilt from the declared class, which pickle can name)."""
    cls = type(self).__mro__[1]
    values = {f.name: getattr(self, f.name) for f in dataclasses.fields(cls)}
    return (_restore, (cls, values, self.extra, self.missing))


def _restore(
    cls: type, values: dict[str, object], extra: dict[str, object], missing: tuple[str, ...]
) -> object:
    result: Any = new_object(_drifted_class(cls))
    for name, value in values.items():
        object.__setattr__(result, name, value)
    result.extra, result.missing = extra, missing
    return result


def _encode(value: object) -> object:
    if type(value) is list:
        return [_encode(v) for v in value]
    if value is NULL:
        return None
    to_wire = getattr(value, "to_wire", None)
    return value if to_wire is None else to_wire()


def _drifted_to_wire(self: Any) -> object:
    """``to_wire`` of a value with extra or missing members: the members
    that are there (the tag first, then schema order), then the extra
    ones; missing members stay out."""
    shape = _shape(type(self).__mro__[1])
    if shape.boxed is not None:
        return _encode(self.data)
    out: dict[str, object] = {}
    if shape.tag is not None:
        out[shape.tag[0]] = _encode(getattr(self, shape.tag[1]))
    for member in shape.members:
        value = getattr(self, member[1])
        if value is None:
            continue
        if len(member) > 4 and member[4]:
            out.update(_encode(value))  # type: ignore[call-overload]
        else:
            out[member[0]] = _encode(value)
    out.update(self.extra)
    return out


# -- reporting -------------------------------------------------------------------


def differences(value: object, path: Path = "") -> list[Difference]:
    """What differed between *value* (as ``from_wire(..., tolerant=True)``
    returned it) and the bindings, depth first in member order: missing
    members, extra members and unknown enum values, with QEMU's paths."""
    found: list[Difference] = []
    _walk(value, path, found)
    return found


def _walk(value: Any, path: Path, found: list[Difference]) -> None:
    if isinstance(value, UnknownValue):
        found.append(Difference("unknown-value", render(path), str(value)))
    elif type(value) is list:
        for i, element in enumerate(value):
            _walk(element, (path, i), found)
    elif isinstance(value, UnknownBranch):
        found.append(Difference("unknown-value", render((path, value.tag_member)), str(value.tag)))
        for key, raw in value.extra.items():
            found.append(Difference("extra", render((path, key)), raw))
    elif hasattr(type(value), "__dataclass_fields__") and hasattr(type(value), "from_wire"):
        cls: type = type(value)
        shape = _shape(getattr(cls, "_drifted_from", cls))
        if shape.boxed is not None:
            _walk(value.data, path, found)
            return
        if shape.tag is not None:
            _walk(getattr(value, shape.tag[1]), (path, shape.tag[0]), found)
        missing = set(getattr(value, "missing", ()))
        for member in shape.members:
            sub = getattr(value, member[1])
            flat = len(member) > 4 and member[4]
            if sub is None:
                if member[0] in missing:
                    found.append(Difference("missing", render((path, member[0])), None))
            else:
                _walk(sub, path if flat else (path, member[0]), found)
        extra: Mapping[str, object] = getattr(value, "extra", {})
        for key, raw in extra.items():
            found.append(Difference("extra", render((path, key)), raw))
