"""Comparing two ``query-qmp-schema`` replies: what a server lacks.

A client's bindings were generated from one schema; the server it talks
to may be older.  :func:`compare_schemas` walks both introspection lists
from the commands and events down through argument and return types and
lists what the bindings know and the server does not: commands, events,
object members and enum values (and, for information, the commands and
events only the server has).

QEMU's introspection hides type names behind numbers, so types are
matched by where they are used (a command's arguments, a member's type),
never by name.  Each pair of matched types is compared once: a difference
is reported at the first place it is reached (commands in schema order,
then events), which keeps the report of two distant QEMU versions short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SchemaInfo = Iterable[Mapping[str, Any]]


@dataclass
class SchemaReport:
    """What the server lacks, as readable paths: ``blockdev-backup``
    (a command), ``blockdev-backup.discard-source`` (an argument),
    ``query-block-jobs.return[].status='pending'`` (an enum value),
    ``JOB_STATUS_CHANGE.status='null'`` (in an event)."""

    missing_commands: list[str] = field(default_factory=list)
    missing_events: list[str] = field(default_factory=list)
    missing_members: list[str] = field(default_factory=list)
    missing_values: list[str] = field(default_factory=list)
    #: Commands and events the server has and the bindings do not.
    extra_commands: list[str] = field(default_factory=list)
    extra_events: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the server has everything the bindings know."""
        return not (self.missing_commands or self.missing_events or self.missing_members
                    or self.missing_values)

    def lines(self) -> list[str]:
        """One line per difference, what the server lacks first."""
        out = [f"server lacks command {n}" for n in self.missing_commands]
        out += [f"server lacks event {n}" for n in self.missing_events]
        out += [f"server lacks member {n}" for n in self.missing_members]
        out += [f"server lacks enum value {n}" for n in self.missing_values]
        out += [f"bindings lack command {n}" for n in self.extra_commands]
        out += [f"bindings lack event {n}" for n in self.extra_events]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines()) or "the server has everything the bindings know"


def compare_schemas(ours: SchemaInfo, theirs: SchemaInfo) -> SchemaReport:
    """What *theirs* (the server's introspection) lacks of *ours*."""
    return _Walk(ours, theirs).run()


class _Walk:
    def __init__(self, ours: SchemaInfo, theirs: SchemaInfo) -> None:
        self.ours = {str(e["name"]): e for e in ours}
        self.theirs = {str(e["name"]): e for e in theirs}
        self.report = SchemaReport()
        self.seen: set[tuple[str, str]] = set()

    def run(self) -> SchemaReport:
        for kind, missing, extra in (
            ("command", self.report.missing_commands, self.report.extra_commands),
            ("event", self.report.missing_events, self.report.extra_events),
        ):
            mine = [n for n, e in self.ours.items() if e.get("meta-type") == kind]
            other = {n for n, e in self.theirs.items() if e.get("meta-type") == kind}
            for name in mine:
                if name not in other:
                    missing.append(name)
                    continue
                a, b = self.ours[name], self.theirs[name]
                self.types(a.get("arg-type"), b.get("arg-type"), name)
                if kind == "command":
                    self.types(a.get("ret-type"), b.get("ret-type"), f"{name}.return")
            extra += sorted(other - set(mine))
        return self.report

    def types(self, mine: Any, other: Any, where: str) -> None:
        if not isinstance(mine, str) or not isinstance(other, str):
            return
        if (mine, other) in self.seen:
            return
        self.seen.add((mine, other))
        a, b = self.ours.get(mine), self.theirs.get(other)
        if a is None or b is None or a.get("meta-type") != b.get("meta-type"):
            return
        meta = a["meta-type"]
        if meta == "enum":
            have = set(_enum_values(b))
            self.report.missing_values += [
                f"{where}={v!r}" for v in _enum_values(a) if v not in have
            ]
        elif meta == "array":
            self.types(a.get("element-type"), b.get("element-type"), f"{where}[]")
        elif meta == "object":
            theirs = {m["name"]: m for m in b.get("members", [])}
            for member in a.get("members", []):
                path = f"{where}.{member['name']}"
                other_member = theirs.get(member["name"])
                if other_member is None:
                    self.report.missing_members.append(path)
                else:
                    self.types(member.get("type"), other_member.get("type"), path)
            cases = {v["case"]: v["type"] for v in b.get("variants", [])}
            for variant in a.get("variants", []):
                if variant["case"] in cases:
                    self.types(variant["type"], cases[variant["case"]],
                               f"{where}[{variant['case']}]")
        elif meta == "alternate":
            by_meta: dict[str, str] = {}
            for m in b.get("members", []):
                entry = self.theirs.get(m["type"])
                if entry is not None:
                    by_meta.setdefault(str(entry.get("meta-type")), m["type"])
            for m in a.get("members", []):
                entry = self.ours.get(m["type"])
                if entry is not None and entry.get("meta-type") in by_meta:
                    self.types(m["type"], by_meta[str(entry["meta-type"])], where)


def _enum_values(entry: Mapping[str, Any]) -> list[str]:
    values = entry.get("values")
    if values is None:
        values = [m["name"] for m in entry.get("members", [])]
    return [str(v) for v in values]
