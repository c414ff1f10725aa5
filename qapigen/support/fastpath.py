"""The fast path of ``from_json``: msgspec's typed decoder, then a cheap
conversion into the generated classes.

Measured (``benchmarks/decode.py``), parsing with orjson and validating in
the generated Python code costs about as much as pydantic; msgspec parses
and validates a typed message about six times faster than that, but into
msgspec Structs, and without QEMU's messages.  So ``from_json`` first
tries msgspec with *mirror* types built from the ``WIRESPEC_HERE``
tables of the package's modules (the first time a type is decoded), then
turns the Structs into the generated classes with straight-line code (no
checks left to do: msgspec made them).  When msgspec refuses the text, for any reason, the exact
path runs: QEMU's parse (:mod:`~qapigen.support.wirejson`) and the
generated ``from_wire``, which give QEMU's message.  So the fast path
never decides an error; it must only never accept what the exact path
refuses, and return the same value.  The mirrors are built to that rule:

- members under their wire names, unknown members forbidden, optional
  members absent or of their type (never ``null``);
- strict scalars, QEMU's integer ranges; values QEMU reads differently
  (negative numbers for unsigned types, integers beyond 64 bits) are
  refused, so the exact path handles them;
- unions are tagged by their discriminator, alternates are unions;
- types using ``any`` (whose big integers msgspec and QEMU read
  differently), or whose shape msgspec cannot express (some alternates,
  flat union branches), always take the exact path.

The fast path runs only under the default compat policy, which accepts
every deprecated and unstable input.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from qapigen.support.wire import INT_RANGES, NULL, UINT64_MAX, new_object


class _Refused(Exception):
    """A value msgspec accepted but QEMU reads differently: exact path."""


#: What the fast path raises for text it does not take (the exact path
#: then decides).
FAST_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, _Refused)

#: Integer types msgspec bounds exactly (its bounds stop at 2**63-1).
_INT_RANGES = {name: r for name, r in INT_RANGES.items() if name not in ("uint64", "size")}
#: Unsigned 64-bit types: msgspec bounds stop at 2**63-1 and it reads
#: bigger integers exactly, where QEMU reads a float; checked after.
_BIG = frozenset({"uint64", "size"})
_SIMPLE = {"str": "str", "bool": "bool", "number": "float", "null": "None"}

Decode = Callable[[bytes | str], Any]


class _Unsupported(Exception):
    pass


class _Specs:
    """The shape of each type, as the generator wrote it: arrays in the
    registry, everything else in ``WIRESPEC_HERE`` of the type's module
    (loaded on first use, as the type's classes are needed anyway).
    Entries:

    - ``("struct", module, class, members)``
    - ``("union", tag wire name, tag attribute, tag type, branches)``,
      each branch ``(tag value, module, class, members)``
    - ``("alternate", branch type names)``
    - ``("enum", module, class)``
    - ``("array", element type name)``
    - ``("event", argument type or None, boxed)`` (tolerant decoding,
      :mod:`qapigen.support.drift`, reads these; the fast path never
      asks for an event);
    - ``("unsupported", entry)`` for what the fast path does not take,
      with the shape for tolerant decoding, whose members may have a
      fifth item, True for a flat member (a branch that is a union);

    each member ``(wire name, attribute, type name, optional)``.
    """

    def __init__(self, package: str) -> None:
        self.package = package
        registry = importlib.import_module(f"{package}.registry")
        self.arrays: dict[str, str] = registry._ARRAYS
        self.modules: dict[str, str] = registry._TYPE_MODULES

    def get(self, name: str, default: Any = None) -> Any:
        element = self.arrays.get(name)
        if element is not None:
            return ("array", element)
        module = self.modules.get(name)
        if module is None:
            return default
        table = importlib.import_module(f"{self.package}.{module}").WIRESPEC_HERE
        return table.get(name, default)


class _Builder:
    """Mirror types and converters for one root type of one package.

    Every QAPI type gets an alias ``T<n>`` (assigned at the end of the
    code, annotations being strings), a converter name (``""`` when the
    decoded value is already right) allocated before its parts are
    visited, so recursive types refer to themselves.
    """

    def __init__(self, package: str, spec: _Specs) -> None:
        self.package = package
        self.spec = spec
        self.ns = ModuleType(f"{package}._fastpath")
        self.ns.__dict__.update(
            Annotated=Annotated, Meta=Meta, UnsetType=UnsetType, UNSET=UNSET, NULL=NULL,
            new=new_object, msgspec=msgspec, Refused=_Refused,
        )
        sys.modules[self.ns.__name__] = self.ns
        self.alias: dict[str, str] = {}  # QAPI name -> T<n>
        self.convs: dict[str, str] = {}  # QAPI name -> converter ("" = none)
        self.mirrors: dict[str, list[str]] = {}  # struct/union -> mirror classes
        self.code: list[str] = ["from __future__ import annotations\n"]
        self.aliases: list[str] = []
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def cls(self, module: str, name: str) -> str:
        target = getattr(importlib.import_module(f"{self.package}.{module}"), name)
        alias = self.fresh("C")
        self.ns.__dict__[alias] = target
        return alias

    def type(self, name: str) -> str:
        """The alias of *name*'s mirror type; defines what it needs."""
        if name in self.alias:
            return self.alias[name]
        alias = self.alias[name] = self.fresh("T")
        if name in _INT_RANGES:
            lo, hi = _INT_RANGES[name]
            self.aliases.append(f"{alias} = Annotated[int, Meta(ge={lo}, le={hi})]")
            self.convs[name] = ""
        elif name in _BIG:
            self.aliases.append(f"{alias} = Annotated[int, Meta(ge=0)]")
            self.convs[name] = self.define(
                f"def {{f}}(x):\n    if x > {UINT64_MAX}:\n        raise Refused\n    return x\n"
            )
        elif name in _SIMPLE:
            self.aliases.append(f"{alias} = {_SIMPLE[name]}")
            self.convs[name] = "NULL_OF" if name == "null" else ""
        else:
            self.composite(name, alias)
        return alias

    def composite(self, name: str, alias: str) -> None:
        entry = self.spec.get(name)
        if entry is None or entry[0] == "unsupported":
            raise _Unsupported(name)
        kind = entry[0]
        if kind == "enum":
            self.aliases.append(f"{alias} = {self.cls(entry[1], entry[2])}")
            self.convs[name] = ""
        elif kind == "array":
            element = entry[1]
            scalar = element in _INT_RANGES or element in ("str", "bool", "number") or (
                self.spec.get(element, ("",))[0] == "enum"
            )
            func = "" if scalar else self.fresh("f")
            self.convs[name] = func
            self.aliases.append(f"{alias} = list[{self.type(element)}]")
            if func:
                each = self.apply(self.convs[element], "e")
                self.code.append(f"def {func}(x):\n    return [{each} for e in x]\n")
        elif kind == "struct":
            mirror = self.fresh("S")
            self.mirrors[name] = [mirror]
            self.convs[name] = f"conv_{mirror}"
            self.aliases.append(f"{alias} = {mirror}")
            self.struct(mirror, entry[1], entry[2], entry[3])
        elif kind == "union":
            tag_wire, tag_py, branches = entry[1], entry[2], entry[4]
            mirrors = [self.fresh("S") for _ in branches]
            table = self.fresh("U")
            self.mirrors[name] = mirrors
            self.convs[name] = f"{table}_conv"
            never = self.fresh("S")
            self.aliases.append(f"{alias} = {' | '.join([*mirrors, never])}")
            for mirror, (value, module, py, members) in zip(mirrors, branches, strict=True):
                self.struct(mirror, module, py, members, (tag_wire, value, tag_py))
            # msgspec requires the tag only of a union of several classes:
            # a union with one branch gets a second that no input names
            # (a NUL tag), which hands the text to the exact path.
            self.code.append(
                f"class {never}(msgspec.Struct, tag_field={tag_wire!r}, tag='\\x00'):\n    pass\n"
                f"def conv_{never}(s):\n    raise Refused\n"
            )
            self.code.append(
                f"{table} = {{{', '.join(f'{m}: conv_{m}' for m in [*mirrors, never])}}}\n"
                f"def {table}_conv(x):\n    return {table}[type(x)](x)\n"
            )
        elif kind == "alternate":
            func = self.convs[name] = self.fresh("f")
            branches = [(b, self.type(b)) for b in entry[1]]
            self.aliases.append(f"{alias} = {' | '.join(a for _, a in branches)}")
            lines = [f"def {func}(x):"]
            for branch, _ in branches:
                conv = self.convs[branch]
                branch_kind = self.spec.get(branch, ("builtin",))[0]
                if conv == "NULL_OF":
                    lines.append("    if x is None:\n        return NULL")
                elif branch_kind in ("struct", "union"):
                    classes = ", ".join(self.mirrors[branch])
                    lines.append(f"    if type(x) in ({classes},):\n        return {conv}(x)")
                elif branch_kind == "array" and conv:
                    lines.append(f"    if type(x) is list:\n        return {conv}(x)")
                elif conv:
                    lines.append(f"    if type(x) is int:\n        return {conv}(x)")
            lines.append("    return x\n")
            self.code.append("\n".join(lines))
        else:  # pragma: no cover - the generator writes no other kind
            raise _Unsupported(name)

    def define(self, template: str) -> str:
        func = self.fresh("f")
        self.code.append(template.replace("{f}", func))
        return func

    @staticmethod
    def apply(conv: str, expr: str) -> str:
        if not conv:
            return expr
        if conv == "NULL_OF":
            return "NULL"
        return f"{conv}({expr})"

    def struct(
        self, mirror: str, module: str, py: str, members: tuple[Any, ...],
        tag: tuple[str, str, str] | None = None,
    ) -> None:
        target = self.cls(module, py)
        fields: list[str] = []
        body = [f"def conv_{mirror}(s):", f"    r = new({target})"]
        if tag is not None:
            body.append(f"    r.{tag[2]} = {target}.TAG")
        rename = {}
        for i, (wire, attr, type_name, optional) in enumerate(members):
            alias = self.type(type_name)
            conv = self.convs[type_name]
            rename[f"f{i}"] = wire
            if optional:
                fields.append(f"    f{i}: {alias} | UnsetType = UNSET")
                body.append(
                    f"    r.{attr} = None if (v := s.f{i}) is UNSET else {self.apply(conv, 'v')}"
                )
            else:
                fields.append(f"    f{i}: {alias}")
                body.append(f"    r.{attr} = {self.apply(conv, f's.f{i}')}")
        options = f"kw_only=True, forbid_unknown_fields=True, rename={rename!r}"
        if tag is not None:
            options += f", tag_field={tag[0]!r}, tag={tag[1]!r}"
        self.code.append(
            f"class {mirror}(msgspec.Struct, {options}):\n" + ("\n".join(fields) or "    pass")
            + "\n"
        )
        self.code.append("\n".join([*body, "    return r\n"]))


class _Package:
    """The fast decoders of one generated package.  One :class:`_Builder`
    (one namespace) serves every type, so a type used by many roots is
    mirrored once; each call compiles only what is new."""

    def __init__(self, package: str) -> None:
        self.builder = _Builder(package, _Specs(package))
        self.done_code = 0
        self.done_aliases = 0
        self.unsupported: set[str] = set()

    def decoder(self, name: str) -> Decode | None:
        b = self.builder
        code, aliases = len(b.code), len(b.aliases)
        known = (set(b.alias), set(b.convs), set(b.mirrors))
        try:
            alias = b.type(name)
        except _Unsupported as err:
            self.unsupported.add(str(err))
            # Forget the half-built types of this attempt.
            del b.code[code:], b.aliases[aliases:]
            tables: tuple[dict[str, Any], ...] = (b.alias, b.convs, b.mirrors)
            for table, before in zip(tables, known, strict=True):
                for key in set(table) - before:
                    del table[key]
            return None
        source = "\n".join([b.code[0], *b.code[self.done_code or 1 :], ""])
        exec(compile(source, f"<fastpath {b.package}>", "exec"), b.ns.__dict__)
        # An alias may name one assigned later (a type still being built
        # when the alias was written): assign until all are.
        pending = b.aliases[self.done_aliases :]
        while pending:
            left = []
            for line in pending:
                try:
                    exec(line, b.ns.__dict__)
                except NameError:
                    left.append(line)
            if len(left) == len(pending):  # pragma: no cover - a cycle of aliases
                raise RuntimeError(f"fastpath: unresolved aliases {left}")
            pending = left
        self.done_code, self.done_aliases = len(b.code), len(b.aliases)
        try:
            decode = msgspec.json.Decoder(b.ns.__dict__[alias]).decode
        except TypeError:  # a shape msgspec's unions cannot express
            return None
        conv = b.convs[name]
        if conv == "NULL_OF":
            return None
        if not conv:
            return decode
        convert = b.ns.__dict__[conv]

        def fast(data: bytes | str) -> Any:
            return convert(decode(data))

        return fast


_PACKAGES: dict[str, _Package] = {}
_CACHE: dict[tuple[str, str], Decode | None] = {}


def decoder(package: str, name: str) -> Decode | None:
    """The fast decoder of QAPI type *name* in generated *package*, or None
    when the type must always take the exact path."""
    key = (package, name)
    try:
        return _CACHE[key]
    except KeyError:
        pass
    home = _PACKAGES.get(package)
    if home is None:
        home = _PACKAGES[package] = _Package(package)
    made = _CACHE[key] = home.decoder(name)
    return made


_SEEN: set[tuple[str, str]] = set()


def decoder_in_use(package: str, name: str) -> Decode | None:
    """:func:`decoder`, from the second use of a type on.  Building the
    mirrors of a type loads the modules of every type it can hold (for a
    ``transaction``: every action's); a type decoded only once (by a
    one-shot tool, or a server's first command) takes the exact path and
    loads only what that value needs."""
    key = (package, name)
    made = _CACHE.get(key)
    if made is not None or key in _CACHE:
        return made
    if key not in _SEEN:
        _SEEN.add(key)
        return None
    return decoder(package, name)
