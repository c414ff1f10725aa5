"""QEMU's ``KEY=VALUE,...`` option syntax (``util/keyval.c``), and turning
its all-string values into the types a schema member expects.

``-blockdev driver=qcow2,file.driver=file,file.filename=a.img,read-only=on``
is parsed into nested dicts (dotted keys), lists (numeric key fragments),
and string leaves; ``,,`` stands for a comma.  The first ``KEY=`` may be
left out when the option has an implied key (``driver`` for -blockdev).

:func:`coerce` then walks the result along the schema (the introspection
data of the generated package) and converts strings the way QEMU's keyval
input visitor does: ``on``/``off`` for booleans, C integer syntax for
integers.  A value it cannot convert is replaced by a marker and its
keyval error text is remembered by path, so that the generated decoder,
which visits members in schema order, decides which error comes first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qapigen.support.errors import QMPError


class KeyvalError(Exception):
    """A syntax error in a KEY=VALUE string; the message is QEMU's."""


_NAME = re.compile(r"(?:__[A-Za-z0-9.-]*_)?[A-Za-z][A-Za-z0-9_-]*")
_INDEX = re.compile(r"[0-9]+")


def parse(params: str, implied_key: str | None = None) -> dict[str, Any]:
    """Parse *params* into nested dicts, lists and strings."""
    root: dict[str, Any] = {}
    pos = 0
    first = True
    while pos < len(params):
        pos = _parse_one(root, params, pos, implied_key if first else None)
        first = False
    result = _listify(root, [])
    assert isinstance(result, dict)
    return result


def _parse_one(root: dict[str, Any], params: str, pos: int, implied_key: str | None) -> int:
    span = re.compile(r"[^=,]*").match(params, pos)
    assert span is not None
    implied = bool(implied_key and span.end() > pos and
                   (span.end() == len(params) or params[span.end()] != "="))
    key = implied_key if implied and implied_key else params[pos:span.end()]
    cur = root
    s = 0
    fragment = ""
    while True:
        index = _INDEX.match(key, s) if s else None
        match = index or _NAME.match(key, s)
        length = match.end() - s if match else 0
        if not length or (s + length < len(key) and key[s + length] != "."):
            raise KeyvalError(f"Invalid parameter '{key}'")
        if length >= 128:
            whole = s == 0 and s + length == len(key)
            raise KeyvalError(
                f"Parameter{'' if whole else ' fragment'} '{key[s:s + length]}' is too long")
        if s:
            cur = _put(cur, fragment, None, key[:s - 1])
        fragment = key[s:s + length]
        s += length
        if s >= len(key) or key[s] != ".":
            break
        s += 1
    if implied:
        vpos = pos
    else:
        vpos = span.end()
        if vpos >= len(params) or params[vpos] != "=":
            raise KeyvalError(f"Expected '=' after parameter '{key[:s]}'")
        vpos += 1
    value: list[str] = []
    while vpos < len(params):
        ch = params[vpos]
        if ch == ",":
            vpos += 1
            if vpos >= len(params) or params[vpos] != ",":
                break
        value.append(params[vpos])
        vpos += 1
    _put(cur, fragment, "".join(value), key)
    return vpos


def _put(cur: dict[str, Any], key: str, value: str | None, shown: str) -> Any:
    """Map *key* in *cur* to a dict (value None) or to the string *value*."""
    old = cur.get(key)
    if old is not None:
        if isinstance(old, dict) != (value is None):
            raise KeyvalError(f"Parameters '{shown}.*' used inconsistently")
        if value is None:
            return old
    new: Any = {} if value is None else value
    cur[key] = new
    return new


def _listify(cur: dict[str, Any], path: list[str]) -> Any:
    has_index = has_member = False
    for key, value in list(cur.items()):
        if _INDEX.fullmatch(key):
            has_index = True
        else:
            has_member = True
        if isinstance(value, dict):
            cur[key] = _listify(value, [*path, key])
    prefix = "".join(f"{p}." for p in path)
    if has_index and has_member:
        raise KeyvalError(f"Parameters '{prefix}*' used inconsistently")
    if not has_index:
        return cur
    by_index = {min(int(k), 2**31 - 1): v for k, v in cur.items()}
    items = []
    for i in range(min(len(cur) + 1, max(by_index) + 1)):
        if i not in by_index:
            raise KeyvalError(f"Parameter '{prefix}{i}' missing")
        items.append(by_index[i])
    return items


# -- typing the strings ---------------------------------------------------------

#: Stands for a value the keyval visitor could not convert; the generated
#: decoder rejects it with a type error at its path, which :func:`coerce`'s
#: caller replaces with the remembered keyval text.
BAD = object()

_TRUE = frozenset({"on", "yes", "true", "y"})
_FALSE = frozenset({"off", "no", "false", "n"})
_C_INT = re.compile(r"\s*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")


def c_integer(text: str) -> int | None:
    """``strtoll``/``strtoull`` with base 0 on the whole string; None when
    it is not a number or out of range (qemu_strtoi64/qemu_strtou64)."""
    match = _C_INT.match(text)
    if match is None:
        return None
    sign, digits = match.groups()
    if digits[:2].lower() == "0x":
        value = int(digits, 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    value = -value if sign == "-" else value
    if -(1 << 63) <= value <= (1 << 64) - 1:
        return value
    return None


class Coercer:
    """Converts a keyval tree along the schema's introspection data."""

    def __init__(self, schema_info: list[dict[str, Any]]) -> None:
        self.types: dict[str, dict[str, Any]] = {e["name"]: e for e in schema_info}
        self.errors: dict[str, str] = {}

    def value(self, value: Any, type_name: str, path: str) -> Any:
        info = self.types.get(type_name)
        if info is None:
            return value
        meta = info["meta-type"]
        if meta == "builtin":
            return self._scalar(value, info["json-type"], path)
        if meta == "enum":
            return self._scalar(value, "string", path)
        if meta == "object":
            return self._object(value, info, path)
        if meta == "array":
            if isinstance(value, list):
                return [self.value(v, info["element-type"], path) for v in value]
            return value
        if meta == "alternate":
            return self._alternate(value, info, path)
        return value

    def _scalar(self, value: Any, json_type: str, path: str) -> Any:
        if json_type == "value":
            return value
        if isinstance(value, dict | list):
            self.errors[path] = f"Parameters '{path}.*' are unexpected"
            return BAD
        if not isinstance(value, str) or json_type in ("string", "null"):
            return value
        if json_type == "boolean":
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            self.errors[path] = f"Parameter '{path}' expects 'on' or 'off'"
            return BAD
        if json_type == "int":
            number = c_integer(value)
            if number is None:
                self.errors[path] = f"Parameter '{path}' expects integer"
                return BAD
            return number
        if json_type == "number":
            try:
                result = float(value)
            except ValueError:
                result = float("nan")
            if result != result or result in (float("inf"), float("-inf")):
                self.errors[path] = f"Parameter '{path}' expects a number"
                return BAD
            return result
        return value

    def _object(self, value: Any, info: Mapping[str, Any], path: str) -> Any:
        if not isinstance(value, dict):
            return value
        out = dict(value)
        members = list(info.get("members", []))
        tag = info.get("tag")
        if tag is not None and isinstance(value.get(tag), str):
            for variant in info.get("variants", []):
                if variant["case"] == value[tag]:
                    members += self.types.get(variant["type"], {}).get("members", [])
        for member in members:
            name = member["name"]
            if name in out:
                out[name] = self.value(out[name], member["type"],
                                       f"{path}.{name}" if path else name)
        return out

    def _alternate(self, value: Any, info: Mapping[str, Any], path: str) -> Any:
        if isinstance(value, dict):
            for member in info.get("members", []):
                if self.types.get(member["type"], {}).get("meta-type") == "object":
                    return self.value(value, member["type"], path)
        return value

    def explain(self, err: QMPError) -> QMPError:
        """The keyval text for a decoder type error at a path we marked."""
        from qapigen.support.errors import QMPError

        match = re.fullmatch(r"(?:Invalid parameter type for|Parameter) '(.*?)'.*", err.desc)
        if match and match.group(1) in self.errors:
            return QMPError(self.errors[match.group(1)])
        return err
