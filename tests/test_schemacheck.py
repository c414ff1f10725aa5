"""``compare_schemas``: what a server's ``query-qmp-schema`` lacks of the
bindings', with types matched by use (QEMU masks their names)."""

from __future__ import annotations

from typing import Any

from qapigen.support.schemacheck import SchemaReport, compare_schemas

OURS: list[dict[str, Any]] = [
    {"name": "backup", "meta-type": "command", "arg-type": "BackupArgs", "ret-type": "Info"},
    {"name": "gone", "meta-type": "command", "arg-type": "q_empty", "ret-type": "q_empty"},
    {"name": "JOB", "meta-type": "event", "arg-type": "JobArgs"},
    {"name": "OLD_EVENT", "meta-type": "event"},
    {"name": "q_empty", "meta-type": "object", "members": []},
    {"name": "BackupArgs", "meta-type": "object", "members": [
        {"name": "device", "type": "str"},
        {"name": "sync", "type": "Sync"},
        {"name": "discard-source", "type": "bool", "default": None},
        {"name": "opts", "type": "Opts"}]},
    {"name": "Opts", "meta-type": "object", "members": [{"name": "kind", "type": "Sync"}],
     "tag": "kind", "variants": [{"case": "full", "type": "Full"}]},
    {"name": "Full", "meta-type": "object", "members": [{"name": "depth", "type": "int"}]},
    {"name": "Sync", "meta-type": "enum", "values": ["full", "top", "bitmap"]},
    {"name": "Info", "meta-type": "array", "element-type": "Node"},
    {"name": "Node", "meta-type": "object", "members": [
        {"name": "name", "type": "str"}, {"name": "children", "type": "NodeOrStr"}]},
    {"name": "NodeOrStr", "meta-type": "alternate", "members": [
        {"type": "str"}, {"type": "Child"}]},
    {"name": "Child", "meta-type": "object", "members": [{"name": "role", "type": "str"}]},
    {"name": "JobArgs", "meta-type": "object", "members": [{"name": "status", "type": "Sync"}]},
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
    {"name": "int", "meta-type": "builtin", "json-type": "int"},
    {"name": "bool", "meta-type": "builtin", "json-type": "boolean"},
]

# The same schema as an older QEMU reports it: masked names, 10.x-style
# enum members, and things missing.
THEIRS: list[dict[str, Any]] = [
    {"name": "backup", "meta-type": "command", "arg-type": "1", "ret-type": "2"},
    {"name": "new-command", "meta-type": "command", "arg-type": "0", "ret-type": "0"},
    {"name": "JOB", "meta-type": "event", "arg-type": "5"},
    {"name": "NEW_EVENT", "meta-type": "event"},
    {"name": "0", "meta-type": "object", "members": []},
    {"name": "1", "meta-type": "object", "members": [
        {"name": "device", "type": "str"}, {"name": "sync", "type": "3"},
        {"name": "opts", "type": "6"}]},
    {"name": "6", "meta-type": "object", "members": [{"name": "kind", "type": "3"}],
     "tag": "kind", "variants": [{"case": "full", "type": "7"}]},
    {"name": "7", "meta-type": "object", "members": []},
    {"name": "3", "meta-type": "enum", "members": [{"name": "full"}, {"name": "top"}]},
    {"name": "2", "meta-type": "array", "element-type": "4"},
    {"name": "4", "meta-type": "object", "members": [
        {"name": "name", "type": "str"}, {"name": "children", "type": "8"}]},
    {"name": "8", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "9"}]},
    {"name": "9", "meta-type": "object", "members": []},
    {"name": "5", "meta-type": "object", "members": [{"name": "status", "type": "3"}]},
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
]


def test_report_lists_what_the_server_lacks_by_use() -> None:
    report = compare_schemas(OURS, THEIRS)
    assert report == SchemaReport(
        missing_commands=["gone"],
        missing_events=["OLD_EVENT"],
        missing_members=["backup.discard-source", "backup.opts[full].depth",
                         "backup.return[].children.role"],
        # Sync's missing value is reported once, where it is first reached.
        missing_values=["backup.sync='bitmap'"],
        extra_commands=["new-command"],
        extra_events=["NEW_EVENT"],
    )
    assert not report.ok
    assert report.lines() == [
        "server lacks command gone",
        "server lacks event OLD_EVENT",
        "server lacks member backup.discard-source",
        "server lacks member backup.opts[full].depth",
        "server lacks member backup.return[].children.role",
        "server lacks enum value backup.sync='bitmap'",
        "bindings lack command new-command",
        "bindings lack event NEW_EVENT",
    ]


def test_same_schema_reports_nothing() -> None:
    report = compare_schemas(OURS, OURS)
    assert report.ok and report.lines() == []
    assert str(report) == "the server has everything the bindings know"
