"""Decoding helpers the generated validators call, with QEMU's error texts.

Generated ``from_wire`` code is straight-line: one helper call per member,
in schema order, because QEMU's input visitor visits members in that order
and reports the first problem it meets.  Each helper has a fast path (the
value is fine: one type check and return) and builds the exact QEMU message
only when it raises.  Paths follow QEMU's ``full_name()``: members joined
with ``.``, list elements as ``[i]``; some messages use only the bare member
name, which is ``null`` for a list element, exactly as QEMU prints them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn, TypeAlias, TypeVar

from qapigen.support import policy
from qapigen.support.errors import QMPError

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

#: Where a value sits in the request: the full path as a string (``""``
#: for the arguments object itself), or, built up while decoding nested
#: values, a pair (path of the parent, member name or list index).  The
#: pairs cost less than formatting strings for every nested value, and
#: only an error message needs the text (see :func:`render`).
Path: TypeAlias = "str | tuple[Path, str | int]"

#: A value decoder: (JSON value, path, bare name) -> Python value.
Decoder = Callable[[object, Path, str], T]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT64_MAX: Final = 2**64 - 1

#: The values each QAPI integer type admits on input (``size`` is a uint64).
#: The generator writes them into range checks, the fast path into its
#: msgspec bounds, ``qapigen diff`` compares them.
INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "int": (INT64_MIN, INT64_MAX),
    "int64": (INT64_MIN, INT64_MAX),
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, UINT64_MAX),
    "size": (0, UINT64_MAX),
}


class Null:
    """JSON ``null`` as a value of QAPI's ``null`` type.

    ``None`` already means "optional member absent"; an alternate such as
    ``StrOrNull`` must tell the two apart, so ``null`` is its own singleton.
    """

    _instance: Null | None = None

    def __new__(cls) -> Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"

    def __reduce__(self) -> str:
        return "NULL"


NULL: Final = Null()


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def join(path: Path, name: str) -> Path:
    """The path of member *name* of the object at *path*."""
    return (path, name)


def item(path: Path, index: int) -> Path:
    """The path of element *index* of the list at *path*."""
    return (path, index)


def render(path: Path) -> str:
    """QEMU's text for *path*: members joined with ``.``, list elements as
    ``[i]`` (``actions[0].data.name``)."""
    steps: list[str | int] = []
    while type(path) is tuple:
        path, step = path
        steps.append(step)
    assert isinstance(path, str)
    text = path
    for step in reversed(steps):
        if type(step) is int:
            text = f"{text}[{step}]"
        elif text:
            text = f"{text}.{step}"
        else:
            text = str(step)
    return text


# -- error texts (qapi/qmp/qerror.h and the QObject input visitor) -----------


def missing(path: Path) -> QMPError:
    return QMPError(f"Parameter '{render(path)}' is missing")


def unexpected(path: Path) -> QMPError:
    return QMPError(f"Parameter '{render(path)}' is unexpected")


def wrong_type(path: Path, expected: str) -> QMPError:
    return QMPError(f"Invalid parameter type for '{render(path)}', expected: {expected}")


def bad_value(path: Path, expected: str) -> QMPError:
    return QMPError(f"Parameter '{render(path)}' expects {expected}")


def bad_enum(name: str, value: str) -> QMPError:
    return QMPError(f"Parameter '{name}' does not accept value '{value}'")


# -- objects -------------------------------------------------------------------


def object_(value: object, path: Path) -> dict[str, Any]:
    """The value as a JSON object, or QEMU's "expected: object" error."""
    if type(value) is dict:
        return value
    raise wrong_type(path or "null", "object")


#: Makes an instance without running ``__init__``.  Generated decoders then
#: set every member themselves, one statement each in schema order (the
#: order QEMU checks them in); skipping the keyword parsing of a dataclass
#: ``__init__`` makes decoding about a third faster.
new_object: Final = object.__new__


def not_an_object(path: Path) -> QMPError:
    return wrong_type(path or "null", "object")


def report_extra(d: Mapping[str, object], known: frozenset[str], path: Path) -> None:
    """Raise for the first member of *d* not in *known* (if any)."""
    for key in d:
        if key not in known:
            raise unexpected(join(path, key))


def check_extra(d: Mapping[str, object], known: frozenset[str], path: Path) -> None:
    """Report the first member not in *known*; QEMU does this after visiting
    every declared member, so callers call it last."""
    if not d.keys() <= known:
        for key in d:
            if key not in known:
                raise unexpected(join(path, key))


# -- scalar value decoders: (value, full path, bare name) --------------------------


def str_value(value: object, path: Path, name: str) -> str:
    if type(value) is str:
        return value
    raise wrong_type(path or name, "string")


def bool_value(value: object, path: Path, name: str) -> bool:
    if type(value) is bool:
        return value
    raise wrong_type(path or name, "boolean")


def number_value(value: object, path: Path, name: str) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise wrong_type(path or name, "number")


def any_value(value: object, path: Path, name: str) -> object:
    # A null ``any`` value is NULL, not None: an optional member that is
    # present with value null must stay present.
    return NULL if value is None else value


def null_value(value: object, path: Path, name: str) -> Null:
    if value is None:
        return NULL
    raise wrong_type(path or name, "null")


def _int64(value: object, path: Path, name: str) -> int:
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    raise wrong_type(path or name, "integer")


def _uint64(value: object, path: Path, name: str, what: str) -> int:
    if type(value) is int:
        if 0 <= value <= UINT64_MAX:
            return value
        if INT64_MIN <= value < 0:
            # QEMU accepts negative numbers for unsigned types and takes
            # them modulo 2**64, for backward compatibility.
            return value + 2**64
    raise bad_value(path or name, what)


def _signed(bits: int) -> Decoder[int]:
    lo, hi, ctype = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1, f"int{bits}_t"

    def decode(value: object, path: Path, name: str) -> int:
        if type(value) is int and lo <= value <= hi:
            return value
        number = _int64(value, path, name)
        if not lo <= number <= hi:
            raise bad_value(name, ctype)
        return number

    return decode


def _unsigned(bits: int) -> Decoder[int]:
    hi, ctype = 2**bits - 1, f"uint{bits}_t"

    def decode(value: object, path: Path, name: str) -> int:
        if type(value) is int and 0 <= value <= hi:
            return value
        number = _uint64(value, path, name, "uint64")
        if number > hi:
            raise bad_value(name, ctype)
        return number

    return decode


def int_value(value: object, path: Path, name: str) -> int:
    return _int64(value, path, name)


def uint64_value(value: object, path: Path, name: str) -> int:
    if type(value) is int and 0 <= value <= UINT64_MAX:
        return value
    return _uint64(value, path, name, "uint64")


def size_value(value: object, path: Path, name: str) -> int:
    # QMP's input visitor has no size parser of its own: a bad size gets
    # the uint64 message (only command-line parsing says "size").
    if type(value) is int and 0 <= value <= UINT64_MAX:
        return value
    return _uint64(value, path, name, "uint64")


int8_value: Final = _signed(8)
int16_value: Final = _signed(16)
int32_value: Final = _signed(32)
uint8_value: Final = _unsigned(8)
uint16_value: Final = _unsigned(16)
uint32_value: Final = _unsigned(32)


def enum_value(cls: type[E], value: object, path: Path, name: str) -> E:
    """Decode an enum by its wire value."""
    if type(value) is str:
        member = cls._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
        raise bad_enum(name, value)
    raise wrong_type(path or name, "string")


def list_value(decode: Decoder[T], value: object, path: Path, name: str) -> list[T]:
    if type(value) is not list:
        raise wrong_type(path or name, "array")
    return [decode(element, item(path, i), "null") for i, element in enumerate(value)]


def list_decoder(decode: Decoder[T]) -> Decoder[list[T]]:
    """A decoder for lists of what *decode* decodes."""

    def decode_list(value: object, path: Path, name: str) -> list[T]:
        return list_value(decode, value, path, name)

    return decode_list


def alternate_mismatch(name: str, type_name: str) -> NoReturn:
    raise wrong_type(name, type_name)


# -- members: (object, key, path of the object) ------------------------------------
#
# ``req`` raises "is missing" for an absent member; ``opt`` returns None.
# A member present with value null is *present*: QEMU then rejects the
# null with the member type's message.


def req(d: Mapping[str, object], key: str, path: Path, decode: Decoder[T]) -> T:
    value = d.get(key, MISSING)
    if value is MISSING:
        raise missing(join(path, key))
    return decode(value, join(path, key), key)


def opt(d: Mapping[str, object], key: str, path: Path, decode: Decoder[T]) -> T | None:
    value = d.get(key, MISSING)
    if value is MISSING:
        return None
    return decode(value, join(path, key), key)


def req_str(d: Mapping[str, object], key: str, path: Path) -> str:
    value = d.get(key, MISSING)
    if type(value) is str:
        return value
    if value is MISSING:
        raise missing(join(path, key))
    raise wrong_type(join(path, key), "string")


def opt_str(d: Mapping[str, object], key: str, path: Path) -> str | None:
    value = d.get(key, MISSING)
    if type(value) is str:
        return value
    if value is MISSING:
        return None
    raise wrong_type(join(path, key), "string")


def req_bool(d: Mapping[str, object], key: str, path: Path) -> bool:
    value = d.get(key, MISSING)
    if type(value) is bool:
        return value
    if value is MISSING:
        raise missing(join(path, key))
    raise wrong_type(join(path, key), "boolean")


def opt_bool(d: Mapping[str, object], key: str, path: Path) -> bool | None:
    value = d.get(key, MISSING)
    if type(value) is bool:
        return value
    if value is MISSING:
        return None
    raise wrong_type(join(path, key), "boolean")


# req_enum and opt_enum take WireEnum classes (qapigen.support.enums), whose
# ``__special__`` lists the values under the compat policy.


def req_enum(d: Mapping[str, object], key: str, path: Path, cls: type[E]) -> E:
    value = d.get(key, MISSING)
    if type(value) is str:
        member = cls._value2member_map_.get(value)
        if member is not None:
            special = cls.__special__.get(value)  # type: ignore[attr-defined]
            if special is not None:
                policy.check_value(value, *special)
            return member  # type: ignore[return-value]
    if value is MISSING:
        raise missing(join(path, key))
    return enum_value(cls, value, join(path, key), key)


def opt_enum(d: Mapping[str, object], key: str, path: Path, cls: type[E]) -> E | None:
    value = d.get(key, MISSING)
    if type(value) is str:
        member = cls._value2member_map_.get(value)
        if member is not None:
            special = cls.__special__.get(value)  # type: ignore[attr-defined]
            if special is not None:
                policy.check_value(value, *special)
            return member  # type: ignore[return-value]
    if value is MISSING:
        return None
    return enum_value(cls, value, join(path, key), key)



def req_special(
    d: Mapping[str, object], key: str, path: Path, decode: Decoder[T],
    deprecated: bool, unstable: bool,
) -> T:
    """``req`` for a member with the deprecated or unstable feature."""
    if key in d:
        policy.check_member(key, deprecated, unstable)
    return req(d, key, path, decode)


def opt_special(
    d: Mapping[str, object], key: str, path: Path, decode: Decoder[T],
    deprecated: bool, unstable: bool,
) -> T | None:
    """``opt`` for a member with the deprecated or unstable feature."""
    if key in d:
        policy.check_member(key, deprecated, unstable)
    return opt(d, key, path, decode)


def req_list(d: Mapping[str, object], key: str, path: Path, decode: Decoder[T]) -> list[T]:
    value = d.get(key, MISSING)
    if value is MISSING:
        raise missing(join(path, key))
    return list_value(decode, value, join(path, key), key)


def opt_list(d: Mapping[str, object], key: str, path: Path, decode: Decoder[T]) -> list[T] | None:
    value = d.get(key, MISSING)
    if value is MISSING:
        return None
    return list_value(decode, value, join(path, key), key)


# -- encoding ------------------------------------------------------------------------


def encode_scalar(value: object) -> object:
    """Builtins and ``any`` go on the wire as they are; ``NULL`` is null."""
    return None if value is NULL else value


int64_value: Final = int_value
