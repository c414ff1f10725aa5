"""QEMU's ``-compat`` policy for deprecated and unstable interfaces.

Input policy applies while a request is decoded: a command, argument or
enum value that carries the ``deprecated`` (or ``unstable``) feature is
accepted, or rejected with QEMU's "Deprecated parameter x disabled by
policy", or (``crash``) ends the session, as QEMU aborts.

Output policy ``hide`` applies QEMU's rules (its QObject output visitor
and event senders):

* an object member with the feature is left out of what is encoded
  (required members too), in command replies and event data alike;
* an event with the feature is not sent at all;
* ``query-qmp-schema`` leaves out the commands and events with the
  ``deprecated`` feature, and object members with it (QEMU filters only
  ``deprecated`` there, never ``unstable``);
* enum values are always encoded, whatever their features (QEMU checks
  enum values on input only).

The policy in force is a context variable set by the dispatcher around
each request (decoding its arguments, encoding its reply), so generated
code needs no extra argument.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from qapigen.support.errors import QMPError

InputPolicy = Literal["accept", "reject", "crash"]
OutputPolicy = Literal["accept", "hide"]


class PolicyCrash(Exception):
    """A ``crash`` input policy was triggered: QEMU would abort here."""


@dataclass(frozen=True)
class CompatPolicy:
    deprecated_input: InputPolicy = "accept"
    deprecated_output: OutputPolicy = "accept"
    unstable_input: InputPolicy = "accept"
    unstable_output: OutputPolicy = "accept"

    def check_input(
        self, kind: str, name: str, deprecated: bool, unstable: bool,
        error_class: str = "GenericError",
    ) -> None:
        """Raise QEMU's error if input with these features is refused."""
        for flag, policy, adjective in (
            (deprecated, self.deprecated_input, "Deprecated"),
            (unstable, self.unstable_input, "Unstable"),
        ):
            if not flag or policy == "accept":
                continue
            if policy == "crash":
                raise PolicyCrash(f"{adjective} {kind} {name} used under policy 'crash'")
            raise QMPError(f"{adjective} {kind} {name} disabled by policy", error_class)

    def hides(self, deprecated: bool, unstable: bool) -> bool:
        """Whether output with these features is left out."""
        return (deprecated and self.deprecated_output == "hide") or (
            unstable and self.unstable_output == "hide"
        )


DEFAULT_POLICY = CompatPolicy()
_current: ContextVar[CompatPolicy] = ContextVar("qapigen_compat_policy", default=DEFAULT_POLICY)


def current_policy() -> CompatPolicy:
    return _current.get()


@contextmanager
def policy_in_force(policy: CompatPolicy) -> Iterator[None]:
    token = _current.set(policy)
    try:
        yield
    finally:
        _current.reset(token)


def check_member(name: str, deprecated: bool, unstable: bool) -> None:
    """Called by generated decoders for a member with special features
    that is present in the input."""
    policy = _current.get()
    if policy is not DEFAULT_POLICY:  # the default accepts everything
        policy.check_input("parameter", name, deprecated, unstable)


def check_value(value: str, deprecated: bool, unstable: bool) -> None:
    """Called by generated decoders for an enum value with special features."""
    policy = _current.get()
    if policy is not DEFAULT_POLICY:  # the default accepts everything
        policy.check_input("value", value, deprecated, unstable)


def hidden(deprecated: bool, unstable: bool) -> bool:
    """Called by generated encoders for a member with special features:
    whether the output policy in force leaves it out."""
    return _current.get().hides(deprecated, unstable)


def _has_deprecated(entry: Mapping[str, Any]) -> bool:
    return "deprecated" in entry.get("features", ())


def visible_schema(info: list[dict[str, Any]], policy: CompatPolicy) -> list[dict[str, Any]]:
    """The ``query-qmp-schema`` reply under *policy*: with
    ``deprecated-output=hide``, entities with the ``deprecated`` feature and
    object members with it are left out (QEMU's ``zap_deprecated``)."""
    if policy.deprecated_output != "hide":
        return info
    result = []
    for entry in info:
        if _has_deprecated(entry):
            continue
        if entry.get("meta-type") == "object":
            members = [m for m in entry["members"] if not _has_deprecated(m)]
            if len(members) != len(entry["members"]):
                entry = {**entry, "members": members}
        result.append(entry)
    return result
