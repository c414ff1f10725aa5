"""What a change is, and the compatibility rules that classify it.

QEMU's rules ("Compatibility considerations" in qapi-code-gen) depend on
the direction data flows: what a client sends (command arguments) must
keep being accepted, and what a server sends (return values, event data)
must keep being understood.  Each :class:`Rule` therefore says, for one
kind of change, whether it breaks clients when it happens in input and
when it happens in output, and why.  A type used both ways gets both
verdicts; it breaks if either does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class Direction(enum.Flag):
    """Which way values of a type travel."""

    INPUT = enum.auto()
    OUTPUT = enum.auto()
    BOTH = INPUT | OUTPUT

    @property
    def label(self) -> str:
        """``input``, ``output`` or ``both``."""
        if self is Direction.BOTH:
            return "both"
        return "input" if self is Direction.INPUT else "output"


class Rule(NamedTuple):
    """One kind of change, judged per direction."""

    input_breaking: bool
    input_reason: str
    output_breaking: bool
    output_reason: str

    def judge(self, direction: Direction | None) -> tuple[bool, str]:
        """(breaking, reason) of the change for values going *direction*
        (None: not tied to a direction, judged as input)."""
        verdicts: list[tuple[bool, str]] = []
        if direction is None or Direction.INPUT in direction:
            verdicts.append((self.input_breaking, self.input_reason))
        if direction is not None and Direction.OUTPUT in direction:
            verdicts.append((self.output_breaking, self.output_reason))
        breaking = any(b for b, _ in verdicts)
        reasons = [r for b, r in verdicts if b == breaking]
        return breaking, "; ".join(dict.fromkeys(reasons))


def _same(breaking: bool, reason: str) -> Rule:
    return Rule(breaking, reason, breaking, reason)


# Definitions.
COMMAND_ADDED = _same(False, "a new command")
COMMAND_REMOVED = _same(True, "clients calling it get CommandNotFound")
COMMAND_CONDITIONAL = _same(True, "builds without the condition lack the command")
COMMAND_LOST_OOB = _same(True, "clients executing it out-of-band are refused")
COMMAND_GAINED_OOB = _same(False, "clients may now execute it out-of-band")
EVENT_ADDED = _same(False, "a new event; clients ignore events they don't know")
EVENT_REMOVED = _same(False, "no longer sent; only clients waiting for it notice")
TYPE_RENAMED = _same(False, "type names are not part of the wire format")

# Object members (command arguments, struct and union members, event data).
MEMBER_ADDED_OPTIONAL = Rule(
    False,
    "clients may leave it out",
    False,
    "clients ignore members they don't know",
)
MEMBER_ADDED_MANDATORY = Rule(
    True,
    "clients that leave it out are refused",
    False,
    "clients ignore members they don't know",
)
MEMBER_REMOVED_OPTIONAL = Rule(
    True,
    "clients sending it are refused",
    False,
    "an optional member the server no longer sends",
)
MEMBER_REMOVED_MANDATORY = Rule(
    True,
    "clients sending it are refused",
    True,
    "clients relying on it no longer get it",
)
MEMBER_MADE_OPTIONAL = Rule(
    False,
    "clients may still send it",
    True,
    "clients relying on it may no longer get it",
)
MEMBER_MADE_MANDATORY = Rule(
    True,
    "clients that leave it out are refused",
    False,
    "the server now always sends it",
)

# Enumeration values.
VALUE_ADDED = Rule(
    False,
    "a new value clients may send",
    False,
    "a new value clients may receive (they should tolerate unknown values)",
)
VALUE_REMOVED = Rule(
    True,
    "clients sending it are refused",
    False,
    "a value the server no longer sends",
)

# Alternate branches, known by the JSON type of their values.
ALTERNATIVE_ADDED = Rule(
    False,
    "clients may send the new kind of value",
    True,
    "clients may receive a kind of value they don't expect",
)
ALTERNATIVE_REMOVED = Rule(
    True,
    "clients sending that kind of value are refused",
    False,
    "the server no longer sends that kind of value",
)

# Unions.
UNION_SHAPE = _same(False, "the wire shape is flat either way; members are compared one by one")
UNION_TAG_CHANGED = _same(True, "branches are chosen by a different member; check by hand")

# Member type changes.
INT_NARROWED = Rule(
    True,
    "values outside the new range are refused",
    False,
    "the server sends values from a smaller range",
)
INT_WIDENED = Rule(
    False,
    "the new range accepts every old value",
    True,
    "the server may send values outside the old range",
)
INT_RANGE_MOVED = _same(True, "the old and new integer ranges differ")
INT_TO_NUMBER = Rule(
    False,
    "a number accepts every integer",
    True,
    "clients may receive fractional numbers",
)
NUMBER_TO_INT = Rule(
    True,
    "fractional numbers are refused",
    False,
    "the server sends only integers",
)
STR_TO_ENUM = Rule(
    True,
    "strings outside the enumeration are refused",
    False,
    "the values are still strings",
)
ENUM_TO_STR = Rule(
    False,
    "any string is accepted",
    True,
    "clients may receive strings outside the old enumeration",
)
TO_ALTERNATE = Rule(
    False,
    "the alternate still accepts the old kind of value",
    True,
    "clients may receive the alternate's other kinds of value",
)
FROM_ALTERNATE = Rule(
    True,
    "the alternate's other kinds of value are refused",
    False,
    "the server sends only one of the old kinds of value",
)
TO_ANY = Rule(
    False,
    "any value is accepted",
    True,
    "clients may receive any JSON value",
)
FROM_ANY = Rule(
    True,
    "values of other JSON types are refused",
    False,
    "the server sends only the new type",
)
TYPE_REPLACED = _same(True, "the value's JSON type changed")

# Features and conditions.
FEATURE_DEPRECATED = _same(False, "deprecated: clients should stop using it")
FEATURE_UNSTABLE = _same(False, "unstable: not a stable interface")
FEATURE_ADDED = _same(False, "a new feature flag (introspection only)")
FEATURE_REMOVED = _same(False, "a feature flag is gone (introspection only)")
CONDITION_DROPPED = _same(False, "now present in every build")


@dataclass(frozen=True)
class Change:
    """One difference between the schemas, as a client sees it.

    ``section`` and ``name`` say where: ``command``, ``event`` or ``type``
    and the definition's name (implicit argument types are reported as
    their command's or event's).  ``element`` narrows it down to one of
    the definition's parts (``argument 'x'``, ``member 'x'``, ``value
    'x'``, ``alternative 'string'``, ``feature 'x'``, ``returns``) and is
    None for the definition as a whole.  ``direction`` is how the part's
    values travel, None for commands and events themselves.
    """

    section: str
    name: str
    element_kind: str | None
    element: str | None
    change: str
    detail: str
    direction: Direction | None
    breaking: bool
    reason: str

    def subject(self) -> str:
        """``command 'x' argument 'y'``: where the change is, in words."""
        text = f"{self.section} '{self.name}'"
        if self.element_kind:
            text += f" {self.element_kind}"
            if self.element is not None:
                text += f" '{self.element}'"
        return text
