"""Context-free checks of top-level schema expressions.

The parser hands over every definition as the JSON object it read; this
module decides whether each one is well formed: the right keys, names that
follow the naming rules, types written in an allowed shape, flags with the
only value they may take, sensible ``'if'`` conditions and ``'features'``.
What needs the whole schema (unknown types, clashes, duplicate definitions)
is left to the IR builder, exactly where QEMU 10.2 splits ``expr.py`` from
``schema.py``, so that both the first error reported and its text match
QEMU's byte for byte.

The expressions are never changed.  QEMU normalizes shorthand in place (a
member written ``'name': 'str'`` becomes ``{'type': 'str'}``); here the same
normalized *view* is computed on the fly and thrown away, because the IR
builder reads the raw forms.  The one side effect is
``info.set_defn(meta, name)``, done where QEMU does it, which gives later
errors their ``"F: In struct 'Foo':"`` context line.

The legacy dialect (``Dialect.LEGACY``: the language of QEMU 2.9 to 5.2)
is checked the way QEMU 3.1's ``check_exprs`` checked it, with the later
additions of that language (``'features'``, the ``'coroutine'`` flag,
features on struct members) checked the way 4.x/5.x checked them.  QEMU 3.1
did not split context-free checks from the rest the way 10.2 does: its
``check_exprs`` also resolved type names.  To report the same first error
at the same place, the legacy checks keep 3.1's order:

1. every definition in turn: metatype, name is a string, known keys, flag
   values, the definition's ``'if'``, name syntax, duplicate definition,
   the reserved ``Kind``/``List`` suffixes, doc comment names the
   definition;
2. (no errors) the implicit ``FooKind`` enums of simple unions and
   alternates are entered into the name table, so they can be referenced;
3. every definition in turn: its body, including member names, type
   references (unknown types, types of the wrong kind), flat-union
   discriminators, alternate branches that can't be told apart, then
   ``doc.check_expr``;
4. every definition in turn: the checks 3.1 made only when building its
   schema but which 10.2 makes in ``expr.py`` (so the IR doesn't): member
   names in uppercase (unless the owner is listed in the
   ``name-case-whitelist`` pragma; a union's inline base also by the
   union's name, as from QEMU 5.0), feature names in uppercase (a
   member's features right after the member, never exempt, as 5.2),
   ``'boxed'`` without ``'data'``, and ``'boxed'`` with a type without
   members.

Legacy differences from 10.2 implemented here:

- ``'base'`` and ``'discriminator'`` are optional keys of a union; without
  ``'discriminator'`` it is a simple union (no ``'base'``; branches are
  type names or one-element arrays, named like members), with it a flat
  union as in 10.2, whose branch names must also be valid names;
- ``'if'`` is a string or a non-empty list of strings; only ``''`` is
  rejected as a condition (no identifier syntax, no ``all``/``any``/``not``);
- names only need QEMU 3.1's syntax (letters, digits, ``-``, ``_``, optional
  ``__RFQDN_`` prefix, nothing starting with ``q_``); no CamelCase, upper- or
  lowercase rules for definition names; enum values may start with a digit;
- type names must not end in ``Kind`` or ``List``;
- the metatype is the first of enum, union, alternate, struct, command,
  event present (3.1 did not demand exactly one), and an expression with
  none is "missing metatype";
- alternates need at least two branches and can't have array branches;
  a command or event takes an alternate (as well as a union) with
  ``'boxed': true`` (QEMU 2.7 to 3.1 allowed it; 4.0 dropped alternates);
- enum values can't carry ``'features'``;
- ``null`` (which the legacy parser accepts) counts as absent where 3.1's
  ``expr.get(key) is None`` tests made it so (``'if'``, ``'base'``,
  ``'discriminator'``, ``'prefix'``, a command's ``'data'``/``'returns'``);
  where 3.1 would have crashed on it (a struct's ``'data'``, a member's
  type) it is rejected;
- as in 3.1, an optional member named ``'*u'`` or ``'*has-...'`` is not
  rejected as reserved (3.1 tested the name with its ``*``).

Where 3.1 crashed on bad input, or let it through unchecked to its code
generators (a union ``'data'`` that is not an object, the ``'if'`` of a
member or branch), the 5.2 check is made.  Error texts use 10.2's wording
wherever 10.2 has an equivalent check, and 5.2's otherwise; like 10.2's,
they carry the ``"In struct 'Foo':"`` context line, which 3.1 didn't print.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from qapigen.dialect import Dialect
from qapigen.errors import QAPISourceError
from qapigen.frontend.expression import Expression
from qapigen.frontend.legacy_exceptions import case_exempt
from qapigen.frontend.source import SourceInfo

__all__ = ["check_exprs"]

JSONObject = Mapping[str, object]

#: The keys that make an expression a definition, in the order QEMU 3.1
#: looked for them (10.2 demands exactly one of them).
DEFINITION_KEYS = ("enum", "union", "alternate", "struct", "command", "event")


def check_exprs(exprs: list[Expression], dialect: Dialect) -> list[Expression]:
    """Check every definition in *exprs*; return *exprs* unchanged.

    Include directives are skipped.  Raises :class:`QAPISourceError` for
    the first problem, in the order QEMU (10.2, or 3.1 for the legacy
    dialect) finds it.
    """
    if Dialect(dialect) is Dialect.LEGACY:
        _LegacyChecker(exprs).run()
    else:
        for expr in exprs:
            if "include" not in expr:
                _check_expr(expr)
    return exprs


# ---------------------------------------------------------------------------
# Shared helpers


def _error(info: SourceInfo, msg: str) -> QAPISourceError:
    return QAPISourceError(info, msg)


_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")


def _c_name(name: str) -> str:
    """The C identifier QEMU derives from *name* (without keyword
    protection): only the reserved-name checks need it."""
    return _NOT_IDENT.sub("_", name)


def _quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f"'{name}'" for name in sorted(names))


def _check_keys(
    value: JSONObject,
    info: SourceInfo,
    source: str,
    required: Sequence[str],
    optional: Sequence[str],
) -> None:
    """Reject missing required keys first, then keys nobody knows.

    Both lists are sorted in the message, so the text doesn't depend on
    the order the schema author wrote the keys in.
    """
    # (Lists, not sets: this runs for every definition, member, value and
    # feature, and the key lists are short.)
    missing = [key for key in required if key not in value]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise _error(info, f"{source} misses key{plural} {_quoted_list(missing)}")
    unknown = [key for key in value if key not in required and key not in optional]
    if unknown:
        allowed = set(required) | set(optional)
        plural = "s" if len(unknown) > 1 else ""
        raise _error(
            info,
            f"{source} has unknown key{plural} {_quoted_list(unknown)}\n"
            f"Valid keys are {_quoted_list(allowed)}.",
        )


def _check_name_is_str(name: object, info: SourceInfo, source: str) -> str:
    if not isinstance(name, str):
        raise _error(info, f"{source} requires a string name")
    return name


def _as_member(value: object) -> JSONObject:
    """The normalized view of a member, branch or argument definition:
    ``'T'`` is shorthand for ``{'type': 'T'}``."""
    if isinstance(value, dict):
        return value
    return {"type": value}


def _as_named(value: object) -> JSONObject:
    """The normalized view of an enum value or feature: ``'v'`` is
    shorthand for ``{'name': 'v'}``."""
    if isinstance(value, dict):
        return value
    return {"name": value}


def _check_oob_coroutine(expr: JSONObject, info: SourceInfo) -> None:
    # QEMU has no use case for an out-of-band coroutine command and forbids
    # the combination rather than define its semantics.
    if "allow-oob" in expr and "coroutine" in expr:
        raise _error(info, "flags 'allow-oob' and 'coroutine' are incompatible")


# ---------------------------------------------------------------------------
# QEMU 10.2 (Dialect.QEMU)

# A name: optional downstream prefix __RFQDN_, optional experimental
# prefix x-, then the stem, which starts with a letter.  IGNORECASE and
# the trailing-newline-tolerant '$' match QEMU's own pattern exactly.
_VALID_NAME = re.compile(r"(?:__[a-z0-9.-]+_)?(?:x-)?(?P<stem>[a-z][a-z0-9_-]*)$", re.IGNORECASE)
_CAMEL_STEM = re.compile(r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")
_IF_IDENTIFIER = re.compile(r"[A-Z][A-Z0-9_]*")
_LOWER_OR_DASH = re.compile(r"[a-z-]")
_UPPER = re.compile(r"[A-Z]")

# Keys a command may have besides 'data', 'returns', 'if' and 'features'
# (the same in both dialects: 'coroutine' arrived in 5.2).
_COMMAND_FLAGS = ["gen", "success-response", "boxed", "allow-oob", "allow-preconfig", "coroutine"]

# metatype -> (required keys, optional keys)
_KEYS: dict[str, tuple[list[str], list[str]]] = {
    "enum": (["enum", "data"], ["if", "features", "prefix"]),
    "union": (["union", "base", "discriminator", "data"], ["if", "features"]),
    "alternate": (["alternate", "data"], ["if", "features"]),
    "struct": (["struct", "data"], ["base", "if", "features"]),
    "command": (["command"], ["data", "returns", "if", "features", *_COMMAND_FLAGS]),
    "event": (["event"], ["data", "boxed", "if", "features"]),
}


def _check_name_str(name: str, info: SourceInfo, source: str) -> str:
    """Check the general name syntax; return the stem (the name without
    its ``__RFQDN_`` and ``x-`` prefixes), which the case rules look at.

    The whole ``q_`` namespace is reserved for generated names.
    """
    match = _VALID_NAME.match(name)
    if not match or _c_name(name).startswith("q_"):
        raise _error(info, f"{source} has an invalid name")
    return match.group("stem")


def _check_name_upper(name: str, info: SourceInfo, source: str) -> None:
    stem = _check_name_str(name, info, source)
    if _LOWER_OR_DASH.search(stem):
        raise _error(info, f"name of {source} must not use lowercase or '-'")


def _check_name_lower(
    name: str,
    info: SourceInfo,
    source: str,
    permit_upper: bool = False,
    permit_underscore: bool = False,
) -> None:
    stem = _check_name_str(name, info, source)
    if (not permit_upper and _UPPER.search(stem)) or (not permit_underscore and "_" in stem):
        raise _error(info, f"name of {source} must not use uppercase or '_'")


def _check_name_camel(name: str, info: SourceInfo, source: str) -> None:
    stem = _check_name_str(name, info, source)
    if not _CAMEL_STEM.match(stem):
        raise _error(info, f"name of {source} must use CamelCase")


def _check_defn_name_str(name: str, info: SourceInfo, meta: str) -> None:
    """Events are SHOUTY, commands lower-case (underscores only where the
    ``command-name-exceptions`` pragma allows), types CamelCase and not
    ending in ``List`` (that suffix names array types)."""
    if meta == "event":
        _check_name_upper(name, info, meta)
    elif meta == "command":
        permit_underscore = name in info.pragma.command_name_exceptions
        _check_name_lower(name, info, meta, permit_underscore=permit_underscore)
    else:
        _check_name_camel(name, info, meta)
        if name.endswith("List"):
            raise _error(info, f"{meta} name should not end in 'List'")


def _check_flags(expr: JSONObject, info: SourceInfo) -> None:
    """Flags exist to switch a default off (or on); only that value may be
    written."""
    for key in ("gen", "success-response"):
        if key in expr and expr[key] is not False:
            raise _error(info, f"flag '{key}' may only use false value")
    for key in ("boxed", "allow-oob", "allow-preconfig", "coroutine"):
        if key in expr and expr[key] is not True:
            raise _error(info, f"flag '{key}' may only use true value")
    _check_oob_coroutine(expr, info)


def _check_doc(expr: Expression, name: str) -> None:
    """The doc comment in front of a definition must name it; the doc
    module checks its sections against the definition's kind."""
    doc = expr.doc
    if doc is not None:
        if doc.symbol != name:
            raise _error(expr.info, f"documentation comment is for '{doc.symbol}'")
        doc.check_expr(expr)
    elif expr.info.pragma.doc_required:
        raise _error(expr.info, "documentation comment required")


def _check_if(expr: JSONObject, info: SourceInfo, source: str) -> None:
    """An ``'if'`` is a config symbol or an ``all``/``any``/``not`` object
    built from them; each operator takes exactly what it needs."""
    cond = expr.get("if")
    if cond is not None:
        _check_if_cond(cond, info, source)


def _check_if_cond(cond: object, info: SourceInfo, source: str) -> None:
    if isinstance(cond, str):
        if not _IF_IDENTIFIER.fullmatch(cond):
            raise _error(info, f"'if' condition '{cond}' of {source} is not a valid identifier")
        return
    if not isinstance(cond, dict):
        raise _error(info, f"'if' condition of {source} must be a string or an object")
    _check_keys(cond, info, f"'if' condition of {source}", [], ["all", "any", "not"])
    if len(cond) != 1:
        raise _error(info, f"'if' condition of {source} has conflicting keys")
    if "not" in cond:
        _check_if_cond(cond["not"], info, source)
    else:
        operator = "all" if "all" in cond else "any"
        _check_if_operands(operator, cond[operator], info, source)


def _check_if_operands(operator: str, operands: object, info: SourceInfo, source: str) -> None:
    if not isinstance(operands, list):
        raise _error(info, f"'{operator}' condition of {source} must be an array")
    if not operands:
        raise _error(info, f"'if' condition [] of {source} is useless")
    for operand in operands:
        _check_if_cond(operand, info, source)


def _check_features(features: object, info: SourceInfo, legacy: bool = False) -> None:
    """The 'features' list; *legacy* checks names and 'if' as QEMU <= 5.2."""
    if features is None:
        return
    if not isinstance(features, list):
        raise _error(info, "'features' must be an array")
    for raw in features:
        feature = _as_named(raw)
        source = "'features' member"
        _check_keys(feature, info, source, ["name"], ["if"])
        name = _check_name_is_str(feature["name"], info, source)
        source = f"{source} '{name}'"
        if legacy:
            if not _legacy_name_ok(name):
                raise _error(info, f"{source} has an invalid name")
            _check_legacy_if(feature, info, source)
        else:
            _check_name_lower(name, info, source)
            _check_if(feature, info, source)


def _check_type_name(value: object, info: SourceInfo, source: str) -> None:
    if value is not None and not isinstance(value, str):
        raise _error(info, f"{source} should be a type name")


def _check_type_name_or_array(value: object, info: SourceInfo, source: str) -> None:
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _error(info, f"{source} should be a type name or array")
    if len(value) != 1 or not isinstance(value[0], str):
        raise _error(info, f"{source}: array type must contain single type name")


def _check_type_implicit(
    value: object, info: SourceInfo, source: str, parent_name: str | None
) -> None:
    """Check an inline object type (a struct's members, a union's base or
    a command's or event's arguments).

    Member names may break the case rules only where the
    ``member-name-exceptions`` pragma names the definition.  ``u`` and
    ``has_*`` are reserved: the generated C uses them next to the members.
    """
    if value is None:
        return
    if not isinstance(value, dict):
        raise _error(info, f"{source} should be an object or type name")
    permissive = parent_name is not None and parent_name in info.pragma.member_name_exceptions
    for key, raw in value.items():
        key_source = f"{source} member '{key}'"
        name = key[1:] if key.startswith("*") else key
        _check_name_lower(
            name, info, key_source, permit_upper=permissive, permit_underscore=permissive
        )
        c_name = _c_name(name)
        if c_name == "u" or c_name.startswith("has_"):
            raise _error(info, f"{key_source} uses reserved name")
        member = _as_member(raw)
        _check_keys(member, info, key_source, ["type"], ["if", "features"])
        _check_if(member, info, key_source)
        _check_features(member.get("features"), info)
        _check_type_name_or_array(member["type"], info, key_source)


def _check_type_name_or_implicit(
    value: object, info: SourceInfo, source: str, parent_name: str | None
) -> None:
    if value is None or isinstance(value, str):
        return
    _check_type_implicit(value, info, source, parent_name)


def _check_enum(expr: JSONObject, info: SourceInfo, name: str) -> None:
    values = expr["data"]
    prefix = expr.get("prefix")
    if not isinstance(values, list):
        raise _error(info, "'data' must be an array")
    if prefix is not None and not isinstance(prefix, str):
        raise _error(info, "'prefix' must be a string")
    permissive = name in info.pragma.member_name_exceptions
    for raw in values:
        value = _as_named(raw)
        source = "'data' member"
        _check_keys(value, info, source, ["name"], ["if", "features"])
        value_name = _check_name_is_str(value["name"], info, source)
        source = f"{source} '{value_name}'"
        # Enum values may start with a digit; the name rules don't allow
        # that, so check the name as if it started with a letter.
        if value_name[:1].isdigit():
            value_name = "d" + value_name
        _check_name_lower(
            value_name, info, source, permit_upper=permissive, permit_underscore=permissive
        )
        _check_if(value, info, source)
        _check_features(value.get("features"), info)


def _check_struct(expr: JSONObject, info: SourceInfo, name: str) -> None:
    _check_type_implicit(expr["data"], info, "'data'", name)
    _check_type_name(expr.get("base"), info, "'base'")


def _check_union(expr: JSONObject, info: SourceInfo, name: str) -> None:
    """Union branches are named by the discriminator enum's values, which
    are checked with the enum; only their shape is checked here."""
    _check_type_name_or_implicit(expr["base"], info, "'base'", name)
    _check_name_is_str(expr["discriminator"], info, "'discriminator'")
    branches = expr["data"]
    if not isinstance(branches, dict):
        raise _error(info, "'data' must be an object")
    for key, raw in branches.items():
        source = f"'data' member '{key}'"
        branch = _as_member(raw)
        _check_keys(branch, info, source, ["type"], ["if"])
        _check_if(branch, info, source)
        _check_type_name(branch["type"], info, source)


def _check_alternate(expr: JSONObject, info: SourceInfo, name: str) -> None:
    branches = expr["data"]
    if not branches:
        raise _error(info, "'data' must not be empty")
    if not isinstance(branches, dict):
        raise _error(info, "'data' must be an object")
    for key, raw in branches.items():
        source = f"'data' member '{key}'"
        _check_name_lower(key, info, source)
        branch = _as_member(raw)
        _check_keys(branch, info, source, ["type"], ["if"])
        _check_if(branch, info, source)
        _check_type_name_or_array(branch["type"], info, source)


def _check_arguments(expr: JSONObject, info: SourceInfo) -> None:
    """A command's or event's ``'data'``: inline members, or with
    ``'boxed': true`` the name of the type passed as a whole."""
    args = expr.get("data")
    if expr.get("boxed", False):
        if args is None:
            raise _error(info, "'boxed': true requires 'data'")
        _check_type_name(args, info, "'data'")
    else:
        _check_type_name_or_implicit(args, info, "'data'", None)


def _check_command(expr: JSONObject, info: SourceInfo, name: str) -> None:
    _check_arguments(expr, info)
    _check_type_name_or_array(expr.get("returns"), info, "'returns'")


def _check_event(expr: JSONObject, info: SourceInfo, name: str) -> None:
    _check_arguments(expr, info)


_BODY_CHECKS: dict[str, Callable[[JSONObject, SourceInfo, str], None]] = {
    "enum": _check_enum,
    "union": _check_union,
    "alternate": _check_alternate,
    "struct": _check_struct,
    "command": _check_command,
    "event": _check_event,
}


def _check_expr(expr: Expression) -> None:
    """All of QEMU 10.2's checks of one definition, in its order."""
    info = expr.info
    metas = [meta for meta in DEFINITION_KEYS if meta in expr]
    if len(metas) != 1:
        raise _error(
            info,
            "expression must have exactly one key"
            " 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
        )
    meta = metas[0]
    name = _check_name_is_str(expr[meta], info, f"'{meta}'")
    info.set_defn(meta, name)
    _check_defn_name_str(name, info, meta)
    _check_doc(expr, name)
    required, optional = _KEYS[meta]
    _check_keys(expr, info, meta, required, optional)
    _BODY_CHECKS[meta](expr, info, name)
    _check_if(expr, info, meta)
    _check_features(expr.get("features"), info)
    _check_flags(expr, info)


# ---------------------------------------------------------------------------
# Legacy dialect: QEMU 3.1's check_exprs, with the 4.x/5.x additions

# QEMU 3.1's name syntax: no case rules, and 'x-' is just part of the name.
_LEGACY_NAME = re.compile(r"^(?:__[a-zA-Z0-9.-]+_)?[a-zA-Z][a-zA-Z0-9_-]*$")

_LEGACY_KEYS: dict[str, tuple[list[str], list[str]]] = {
    "enum": (["enum", "data"], ["if", "prefix", "features"]),
    "union": (["union", "data"], ["base", "discriminator", "if", "features"]),
    "alternate": (["alternate", "data"], ["if", "features"]),
    "struct": (["struct", "data"], ["base", "if", "features"]),
    "command": (["command"], ["data", "returns", "if", "features", *_COMMAND_FLAGS]),
    "event": (["event"], ["data", "boxed", "if", "features"]),
}

# The types QEMU 3.1 knew before reading a schema, with the JSON type
# ("QType") an alternate branch of that type is told apart by.  'any' can
# be anything, so it can't be an alternate branch.
_LEGACY_BUILTINS: dict[str, str | None] = {
    "null": "QNULL",
    "str": "QSTRING",
    "int": "QNUM",
    "number": "QNUM",
    "bool": "QBOOL",
    "int8": "QNUM",
    "int16": "QNUM",
    "int32": "QNUM",
    "int64": "QNUM",
    "uint8": "QNUM",
    "uint16": "QNUM",
    "uint32": "QNUM",
    "uint64": "QNUM",
    "size": "QNUM",
    "any": None,
    "QType": "QSTRING",
}


def _legacy_c_name(name: str) -> str:
    # 3.1 translated only '.' and '-', so a leading '*' survived: that is
    # why it never found '*u' reserved.
    return name.replace(".", "_").replace("-", "_")


def _legacy_name_ok(name: str, enum_value: bool = False) -> bool:
    if enum_value and name[:1].isdigit():
        name = "D" + name
    return bool(_LEGACY_NAME.match(name)) and not _legacy_c_name(name).startswith("q_")


def _check_legacy_if(expr: JSONObject, info: SourceInfo, source: str) -> None:
    """Before 6.0 a condition was a C preprocessor expression, or a list
    of them that must all hold; 3.1 rejected only the empty ones."""
    cond = expr.get("if")
    if cond is None:
        return
    if isinstance(cond, list):
        if not cond:
            raise _error(info, f"'if' condition [] of {source} is useless")
        items: list[Any] = cond
    else:
        items = [cond]
    for item in items:
        if not isinstance(item, str):
            raise _error(info, f"'if' condition of {source} must be a string or a list of strings")
        if item == "":
            raise _error(info, f"'if' condition '' of {source} makes no sense")


def _legacy_meta(expr: JSONObject) -> str | None:
    return next((meta for meta in DEFINITION_KEYS if meta in expr), None)


class _LegacyChecker:
    """QEMU 3.1's check_exprs: a table of every name defined, then checks
    that look names up in it.  See the module docstring for the passes."""

    def __init__(self, exprs: list[Expression]) -> None:
        self.exprs = [expr for expr in exprs if "include" not in expr]
        # name -> 'built-in' or the metatype that defined it
        self.names: dict[str, str] = dict.fromkeys(_LEGACY_BUILTINS, "built-in")
        self.defined_at: dict[str, SourceInfo] = {}
        # enum name -> its values (raw, as written)
        self.enum_values: dict[str, list[object]] = {}
        # struct name -> its 'data' and its 'base' (raw)
        self.struct_data: dict[str, object] = {}
        self.struct_base: dict[str, object] = {}

    def run(self) -> None:
        for expr in self.exprs:
            self._scan(expr)
        for expr in self.exprs:
            self._add_implicit_enum(expr)
        for expr in self.exprs:
            self._check_body(expr)
            if expr.doc is not None:
                expr.doc.check_expr(expr)
        for expr in self.exprs:
            self._check_late(expr)

    # -- pass 1 ------------------------------------------------------------

    def _scan(self, expr: Expression) -> None:
        info = expr.info
        meta = _legacy_meta(expr)
        name = expr[meta] if meta else None
        if meta and isinstance(name, str):
            info.set_defn(meta, name)
        if expr.doc is None and info.pragma.doc_required:
            raise _error(info, "documentation comment required")
        if meta is None:
            raise _error(info, "expression is missing metatype")
        name = _check_name_is_str(name, info, f"'{meta}'")
        required, optional = _LEGACY_KEYS[meta]
        _check_keys(expr, info, meta, required, optional)
        self._check_flags_and_if(expr, info, meta)
        self._add_name(name, info, meta)
        if expr.doc is not None and expr.doc.symbol != name:
            raise _error(info, f"documentation comment is for '{expr.doc.symbol}'")
        if meta == "enum" and isinstance(expr["data"], list):
            self.enum_values[name] = [_as_named(value).get("name") for value in expr["data"]]
        elif meta == "struct":
            self.struct_data[name] = expr["data"]
            self.struct_base[name] = expr.get("base")

    @staticmethod
    def _check_flags_and_if(expr: JSONObject, info: SourceInfo, meta: str) -> None:
        """3.1 checked flags and the condition key by key, in the order
        written."""
        for key, value in expr.items():
            if key in ("gen", "success-response") and value is not False:
                raise _error(info, f"flag '{key}' may only use false value")
            if key in ("boxed", "allow-oob", "allow-preconfig", "coroutine") and value is not True:
                raise _error(info, f"flag '{key}' may only use true value")
            if key == "if":
                _check_legacy_if(expr, info, meta)
        _check_oob_coroutine(expr, info)

    def _add_name(self, name: str, info: SourceInfo, meta: str) -> None:
        if not _legacy_name_ok(name):
            raise _error(info, f"{meta} has an invalid name")
        if name in self.names:
            previous = self.defined_at.get(name)
            if previous is None:
                raise _error(info, f"{self._describe(name)} is already defined")
            where = _error(previous, "previous definition")
            raise _error(info, f"'{name}' is already defined\n{where}")
        if name.endswith(("Kind", "List")):
            raise _error(info, f"{meta} name should not end in '{name[-4:]}'")
        self.names[name] = meta
        self.defined_at[name] = info

    # -- pass 2 ------------------------------------------------------------

    def _add_implicit_enum(self, expr: Expression) -> None:
        """Simple unions and alternates get an enum ``FooKind`` of their
        branch names; 3.1 let a schema refer to it."""
        meta = _legacy_meta(expr)
        simple_union = meta == "union" and self._discriminator_enum(expr) is None
        if not (simple_union or meta == "alternate"):
            return
        assert meta is not None
        kind = f"{expr[meta]}Kind"
        branches = expr["data"]
        self.names.setdefault(kind, "enum")
        self.enum_values.setdefault(kind, list(branches) if isinstance(branches, dict) else [])

    def _base_members(self, base: object) -> JSONObject | None:
        """The members of a union's base: inline, or the named struct's."""
        if isinstance(base, str):
            base = self.struct_data.get(base)
        return base if isinstance(base, dict) else None

    @staticmethod
    def _base_member(members: JSONObject, name: str) -> JSONObject | None:
        """Base member *name*, normalized; like 3.1, an empty definition
        counts as no member."""
        raw = members.get(name)
        member = None if raw is None else _as_member(raw)
        return member or None

    def _discriminator_enum(self, expr: JSONObject) -> str | None:
        """The enum type naming a flat union's branches, if it has one."""
        members = self._base_members(expr.get("base"))
        discriminator = expr.get("discriminator")
        if members is None or not isinstance(discriminator, str):
            return None
        member = self._base_member(members, discriminator)
        if member is None:
            return None
        typ = member.get("type")
        if isinstance(typ, str) and typ in self.enum_values:
            return typ
        return None

    # -- pass 3 ------------------------------------------------------------

    def _check_body(self, expr: Expression) -> None:
        meta = _legacy_meta(expr)
        assert meta is not None
        info = expr.info
        body_check = {
            "enum": self._check_enum,
            "union": self._check_union,
            "alternate": self._check_alternate,
            "struct": self._check_struct,
            "command": self._check_command,
            "event": self._check_event,
        }[meta]
        body_check(expr, info)
        _check_features(expr.get("features"), info, legacy=True)

    def _describe(self, name: str) -> str:
        meta = self.names[name]
        if name == "QType":
            meta = "enum"
        return f"{meta} type '{name}'"

    def _type_meta(self, name: str, info: SourceInfo, what: str) -> str:
        """The metatype of type *name*; commands and events aren't types."""
        meta = self.names.get(name)
        if meta is None or meta in ("command", "event"):
            raise _error(info, f"{what} uses unknown type '{name}'")
        return meta

    def _check_members(self, members: JSONObject, info: SourceInfo, source: str, role: str) -> None:
        """Check inline members (of a struct, union base, or arguments)."""
        for key, raw in members.items():
            key_source = f"{source} member '{key}'"
            name = key[1:] if key.startswith("*") else key
            if not _legacy_name_ok(name):
                raise _error(info, f"{key_source} has an invalid name")
            c_name = _legacy_c_name(key)
            if c_name == "u" or c_name.startswith("has_"):
                raise _error(info, f"{key_source} uses reserved name")
            member = _as_member(raw)
            _check_keys(member, info, key_source, ["type"], ["if", "features"])
            _check_legacy_if(member, info, key_source)
            _check_features(member.get("features"), info, legacy=True)
            self._check_member_type(member["type"], info, key_source, f"{role} '{name}'")

    def _check_member_type(self, value: object, info: SourceInfo, source: str, what: str) -> None:
        """A member can be of any type, or an array of any type."""
        if isinstance(value, list):
            if len(value) != 1 or not isinstance(value[0], str):
                raise _error(info, f"{source}: array type must contain single type name")
            value = value[0]
        if not isinstance(value, str):
            raise _error(info, f"{source} should be a type name or array")
        self._type_meta(value, info, what)

    def _check_enum(self, expr: JSONObject, info: SourceInfo) -> None:
        values = expr["data"]
        prefix = expr.get("prefix")
        if not isinstance(values, list):
            raise _error(info, "'data' must be an array")
        if prefix is not None and not isinstance(prefix, str):
            raise _error(info, "'prefix' must be a string")
        for raw in values:
            value = _as_named(raw)
            source = "'data' member"
            _check_keys(value, info, source, ["name"], ["if"])
            name = _check_name_is_str(value["name"], info, source)
            source = f"{source} '{name}'"
            _check_legacy_if(value, info, source)
            if not _legacy_name_ok(name, enum_value=True):
                raise _error(info, f"{source} has an invalid name")

    def _check_struct(self, expr: JSONObject, info: SourceInfo) -> None:
        members = expr["data"]
        if not isinstance(members, dict):
            raise _error(info, "'data' should be an object or type name")
        self._check_members(members, info, "'data'", "member")
        base = expr.get("base")
        if base is None:
            return
        if not isinstance(base, str):
            raise _error(info, "'base' should be a type name")
        self._check_base_type(base, info)

    def _check_base_type(self, base: str, info: SourceInfo) -> None:
        if self._type_meta(base, info, "'base'") != "struct":
            raise _error(info, f"'base' requires a struct type, {self._describe(base)} isn't")

    def _check_union(self, expr: JSONObject, info: SourceInfo) -> None:
        base = expr.get("base")
        discriminator = expr.get("discriminator")
        enum: str | None = None
        if discriminator is None:
            if base is not None:
                raise _error(info, "'base' requires 'discriminator'")
            allowed = {"built-in", "union", "alternate", "struct", "enum"}
        else:
            enum = self._check_flat_union_head(expr, info)
            allowed = {"struct"}
        branches = expr["data"]
        if not isinstance(branches, dict):
            raise _error(info, "'data' must be an object")
        if not branches:
            raise _error(info, "union has no branches")
        for key, raw in branches.items():
            source = f"'data' member '{key}'"
            if not _legacy_name_ok(key):
                raise _error(info, f"{source} has an invalid name")
            branch = _as_member(raw)
            _check_keys(branch, info, source, ["type"], ["if"])
            _check_legacy_if(branch, info, source)
            self._check_branch_type(branch["type"], info, key, allowed, array_ok=base is None)
            if enum is not None and key not in self.enum_values[enum]:
                raise _error(info, f"branch '{key}' is not a value of enum type '{enum}'")

    def _check_flat_union_head(self, expr: JSONObject, info: SourceInfo) -> str:
        """Check a flat union's base and discriminator; return the enum
        type of the discriminator, whose values name the branches."""
        base = expr.get("base")
        if isinstance(base, str):
            self._check_base_type(base, info)
        elif isinstance(base, dict):
            self._check_members(base, info, "'base'", "base member")
        elif base is not None:
            raise _error(info, "'base' should be an object or type name")
        if not base:
            raise _error(info, "'discriminator' requires 'base'")
        discriminator = _check_name_is_str(expr["discriminator"], info, "'discriminator'")
        if not _legacy_name_ok(discriminator):
            raise _error(info, f"discriminator '{discriminator}' has an invalid name")
        members = self._base_members(base) or {}
        where = "'base'" if isinstance(base, dict) else f"base type '{base}'"
        member = self._base_member(members, discriminator)
        if member is None:
            if f"*{discriminator}" in members:
                raise _error(
                    info,
                    f"discriminator member '{discriminator}' of {where} must not be optional",
                )
            raise _error(info, f"discriminator '{discriminator}' is not a member of 'base'")
        if member.get("if"):
            raise _error(
                info, f"discriminator member '{discriminator}' of {where} must not be conditional"
            )
        enum = self._discriminator_enum(expr)
        if enum is None:
            raise _error(
                info, f"discriminator member '{discriminator}' of {where} must be of enum type"
            )
        return enum

    def _check_branch_type(
        self, value: object, info: SourceInfo, key: str, allowed: set[str], array_ok: bool
    ) -> str:
        """Check the type of a union or alternate branch; return it."""
        source = f"'data' member '{key}'"
        if isinstance(value, list):
            if not array_ok:
                raise _error(info, f"{source} cannot be an array")
            if len(value) != 1 or not isinstance(value[0], str):
                raise _error(info, f"{source}: array type must contain single type name")
            value = value[0]
        if not isinstance(value, str):
            raise _error(info, f"{source} should be a type name")
        if self._type_meta(value, info, f"branch '{key}'") not in allowed:
            raise _error(info, f"branch '{key}' cannot use {self._describe(value)}")
        return value

    def _check_alternate(self, expr: JSONObject, info: SourceInfo) -> None:
        branches = expr["data"]
        if not branches:
            raise _error(info, "'data' must not be empty")
        if not isinstance(branches, dict):
            raise _error(info, "'data' must be an object")
        if len(branches) < 2:
            raise _error(info, "'data' must have at least two branches")
        allowed = {"built-in", "union", "struct", "enum"}
        seen: dict[str, str] = {}
        for key, raw in branches.items():
            source = f"'data' member '{key}'"
            if not _legacy_name_ok(key):
                raise _error(info, f"{source} has an invalid name")
            branch = _as_member(raw)
            _check_keys(branch, info, source, ["type"], ["if"])
            _check_legacy_if(branch, info, source)
            typ = self._check_branch_type(branch["type"], info, key, allowed, array_ok=False)
            self._check_distinguishable(typ, key, info, seen)

    def _check_distinguishable(
        self, typ: str, key: str, info: SourceInfo, seen: dict[str, str]
    ) -> None:
        """An alternate's value is decoded by its JSON type, so no two
        branches may accept the same one.  A string can be parsed as a
        number or a boolean (from the command line), except an enum's,
        which conflicts only where its values look like one."""
        meta = self.names[typ]
        qtype = _LEGACY_BUILTINS[typ] if meta == "built-in" else None
        if meta in ("struct", "union"):
            qtype = "QDICT"
        elif meta == "enum":
            qtype = "QSTRING"
        if qtype is None:
            raise _error(info, f"branch '{key}' cannot use {self._describe(typ)}")
        conflicting = [qtype]
        if qtype == "QSTRING":
            values = self.enum_values.get(typ)
            if values is None:
                conflicting += ["QNUM", "QBOOL"]
            else:
                names = [value for value in values if isinstance(value, str)]
                if any(name in ("on", "off") for name in names):
                    conflicting.append("QBOOL")
                if any(re.match(r"[-+0-9.]", name) for name in names):
                    conflicting.append("QNUM")
        for qt in conflicting:
            if qt in seen:
                raise _error(info, f"branch '{key}' can't be distinguished from '{seen[qt]}'")
            seen[qt] = key

    def _check_arguments(self, expr: JSONObject, info: SourceInfo, meta: str) -> None:
        args = expr.get("data")
        boxed = bool(expr.get("boxed", False))
        if args is None:
            return
        if isinstance(args, dict) and not boxed:
            self._check_members(args, info, "'data'", "parameter")
            return
        if not isinstance(args, str):
            shape = "a type name" if boxed else "an object or type name"
            raise _error(info, f"'data' should be {shape}")
        what = f"{meta}'s 'data'"
        arg_meta = self._type_meta(args, info, what)
        if arg_meta in ("union", "alternate") and not boxed:
            raise _error(info, f"{what} can take {self._describe(args)} only with 'boxed': true")
        if arg_meta not in ("struct", "union", "alternate"):
            raise _error(info, f"{what} cannot take {self._describe(args)}")

    def _check_command(self, expr: JSONObject, info: SourceInfo) -> None:
        self._check_arguments(expr, info, "command")
        returns = expr.get("returns")
        if returns is None:
            return
        element = returns
        if isinstance(returns, list):
            if len(returns) != 1 or not isinstance(returns[0], str):
                raise _error(info, "'returns': array type must contain single type name")
            element = returns[0]
        if not isinstance(element, str):
            raise _error(info, "'returns' should be a type name or array")
        what = "command's 'returns'"
        ret_meta = self._type_meta(element, info, what)
        if expr["command"] in info.pragma.command_returns_exceptions:
            return
        if ret_meta not in ("struct", "union"):
            described = (
                f"array type ['{element}']"
                if isinstance(returns, list)
                else self._describe(element)
            )
            raise _error(info, f"{what} cannot take {described}")

    def _check_event(self, expr: JSONObject, info: SourceInfo) -> None:
        self._check_arguments(expr, info, "event")

    # -- pass 4 ------------------------------------------------------------

    def _check_late(self, expr: Expression) -> None:
        meta = _legacy_meta(expr)
        assert meta is not None
        info = expr.info
        name: str = expr[meta]
        if meta in ("command", "event"):
            self._check_boxed(expr, info)
        for source, owner, member_name in self._case_checked_names(expr, meta, name):
            if case_exempt(owner, info.pragma.member_name_exceptions):
                continue
            c_name = _legacy_c_name(member_name)
            if c_name.lower() != c_name:
                raise _error(info, f"{source} uses uppercase in name")

    def _check_boxed(self, expr: JSONObject, info: SourceInfo) -> None:
        if not expr.get("boxed", False):
            return
        args = expr.get("data")
        if args is None:
            raise _error(info, "'boxed': true requires 'data'")
        if isinstance(args, str) and self._struct_is_empty(args, set()):
            raise _error(info, "cannot use 'boxed' with empty type")

    def _struct_is_empty(self, name: str, visiting: set[str]) -> bool:
        """Whether struct *name* has no members, its bases' included.
        A base cycle is someone else's error; treat it as not empty."""
        if self.names.get(name) != "struct" or name in visiting:
            return False
        visiting.add(name)
        data = self.struct_data.get(name)
        if data:
            return False
        base = self.struct_base.get(name)
        return base is None or (isinstance(base, str) and self._struct_is_empty(base, visiting))

    @staticmethod
    def _case_checked_names(
        expr: JSONObject, meta: str, name: str
    ) -> Iterable[tuple[str, str | None, str]]:
        """(message source, owner for the whitelist, name) of everything
        3.1 required to be lower case, and of features (see
        ``_member_features``).  Owners are 3.1's entity names, implicit
        ones included, because the whitelist names those; None: not
        exempt whatever the whitelist says."""
        data = expr.get("data")
        if meta == "enum" and isinstance(data, list):
            for value in data:
                value_name = _as_named(value)["name"]
                yield f"'data' member '{value_name}'", name, str(value_name)
        elif meta in ("struct", "command", "event") and isinstance(data, dict):
            owner = name if meta == "struct" else f"q_obj_{name}-arg"
            for key, member in data.items():
                yield f"'data' member '{key}'", owner, key.removeprefix("*")
                yield from _member_features(member)
        elif meta == "union":
            base = expr.get("base")
            if isinstance(base, dict):
                for key, member in base.items():
                    owner = f"q_obj_{name}-base"
                    yield f"'base' member '{key}'", owner, key.removeprefix("*")
                    yield from _member_features(member)
            if expr.get("discriminator") is None and isinstance(data, dict):
                for key in data:
                    yield f"'data' member '{key}'", f"{name}Kind", key
        elif meta == "alternate" and isinstance(data, dict):
            for key in data:
                yield f"'data' member '{key}'", name, key
        yield from _feature_names(expr.get("features"), name)


def _feature_names(features: object, owner: str | None) -> Iterable[tuple[str, str | None, str]]:
    """The case-checked names (see ``_case_checked_names``) of a
    'features' list; *owner* None: no pragma exempts them."""
    if isinstance(features, list):
        for feature in features:
            feature_name = str(_as_named(feature)["name"])
            yield f"'features' member '{feature_name}'", owner, feature_name


def _member_features(member: object) -> Iterable[tuple[str, str | None, str]]:
    """The features of an object member written ``{'type': ..., 'features':
    [...]}`` (QEMU 5.0-5.2), checked right after the member's own name, as
    5.2 did.  No release exempted them from the case rule: 5.2 checked
    them with the expressions, ignoring the name-case pragma (unlike a
    definition's features, which 4.x checked with the members, pragma
    and all)."""
    if isinstance(member, dict):
        yield from _feature_names(member.get("features"), None)
