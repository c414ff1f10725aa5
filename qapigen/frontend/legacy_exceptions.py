"""The exception lists that QEMU 2.5 to 2.8 kept inside their generator.

Before QEMU 2.9 a schema could not say which of its commands may return
something other than an object, nor which of its types may break the
lower-case rule for member names: ``scripts/qapi.py`` carried both lists
itself.  2.9 moved them into the schema as the ``returns-whitelist`` and
``name-case-whitelist`` pragmas, and dropped them from the generator.  So a
2.5-2.8 schema, read alone, breaks rules that its own release never applied
to it (its ``ringbuf-read`` returns ``str``).

A schema read with ``--doc-comments ignore`` in the legacy dialect is one
of those (it is how they are read), so it starts out with these lists as
its pragmas.  A ``pragma`` directive in the schema replaces them, as it
replaced the list it names from 2.9 on.

The lists are the union over 2.5-2.8 (the releases differ only where one
type was renamed: 2.6 exempted ``CpuInfoBase``, 2.7 and 2.8 the inline base
``q_obj_CpuInfo-base`` that replaced it).  2.5 checked no member name case
at all; the one 2.5 owner with upper-case members that the later lists
don't name, the struct ``CpuInfo`` (member ``CPU``), is listed as well.
Guest-agent commands are in the returns list because the same generator
read the guest agent's schema.
"""

from __future__ import annotations

from qapigen.frontend.source import Pragma

__all__ = ["NAME_CASE_EXCEPTIONS", "RETURNS_EXCEPTIONS", "seed_pre_2_9_pragma"]

#: Commands whose 'returns' may name a built-in, enum or alternate type
#: (or an array of one).
RETURNS_EXCEPTIONS: tuple[str, ...] = (
    # QMP
    "human-monitor-command",
    "qom-get",
    "query-migrate-cache-size",
    "query-tpm-models",
    "query-tpm-types",
    "ringbuf-read",
    # guest agent
    "guest-file-open",
    "guest-fsfreeze-freeze",
    "guest-fsfreeze-freeze-list",
    "guest-fsfreeze-status",
    "guest-fsfreeze-thaw",
    "guest-get-time",
    "guest-set-vcpus",
    "guest-sync",
    "guest-sync-delimited",
)

#: Types (QEMU's entity names, implicit ones included) whose members or
#: values may use upper case.
NAME_CASE_EXCEPTIONS: tuple[str, ...] = (
    "ACPISlotType",
    "CpuInfo",
    "CpuInfoBase",
    "CpuInfoMIPS",
    "CpuInfoTricore",
    "QapiErrorClass",
    "UuidInfo",
    "X86CPURegister32",
    "q_obj_CpuInfo-base",
)


def seed_pre_2_9_pragma(pragma: Pragma) -> None:
    """Give *pragma* (a main file's, before any of it is read) the lists
    QEMU 2.5-2.8 applied to every schema."""
    pragma.command_returns_exceptions = list(RETURNS_EXCEPTIONS)
    pragma.member_name_exceptions = list(NAME_CASE_EXCEPTIONS)


def case_exempt(owner: str | None, exceptions: list[str]) -> bool:
    """Whether members of *owner* may use upper case, given the schema's
    ``name-case-whitelist`` *exceptions*.

    Up to QEMU 4.1 the list named the type a member is defined in, so the
    inline base of a union counted as its implicit type
    ``q_obj_<Union>-base``.  From 5.0 on, it named the union itself (5.0's
    own schema lists ``CpuInfo`` for its base member ``CPU``).  The legacy
    dialect reads schemas of both eras, so either name exempts the base.
    """
    if owner is None:
        return False
    if owner in exceptions:
        return True
    if owner.startswith("q_obj_") and owner.endswith("-base"):
        return owner[len("q_obj_") : -len("-base")] in exceptions
    return False
