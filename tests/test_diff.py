"""``qapigen diff``: one small schema pair per compatibility rule, with the
exact lines it reports, plus the command's exits, outputs and dialect
detection, and the QEMU 3.1 -> 10.2 comparison from the corpus."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from qapigen import load_schema
from qapigen.cli import main
from qapigen.errors import QAPIError
from qapigen.evolution import diff_schemas, load_detected
from qapigen.evolution.report import change_line
from tests.conftest import CORPUS

Diff = Callable[[str, str], list[str]]


@pytest.fixture
def diff(tmp_path: Path) -> Diff:
    """The change lines from schema text *old* to schema text *new*
    (both in the 10.2 dialect)."""

    def run(old: str, new: str) -> list[str]:
        (tmp_path / "old.json").write_text(old)
        (tmp_path / "new.json").write_text(new)
        changes = diff_schemas(
            load_schema(str(tmp_path / "old.json")), load_schema(str(tmp_path / "new.json"))
        )
        return [change_line(c) for c in changes]

    return run


def cmd(data: str = "{}", returns: str | None = None, extra: str = "") -> str:
    """A command ``do-it`` taking *data* and returning *returns*."""
    if returns and not returns.startswith("["):
        returns = f"'{returns}'"
    ret = f", 'returns': {returns}" if returns else ""
    return f"{{ 'command': 'do-it', 'data': {data}{ret}{extra} }}\n"


# Output types: a command returning Info; Info's members are output.
def out(members: str, types: str = "") -> str:
    return types + f"{{ 'struct': 'Info', 'data': {members} }}\n" + cmd(returns="Info")


# -- commands and events -------------------------------------------------


def test_command_added_is_compatible(diff: Diff) -> None:
    assert diff("", cmd()) == ["compatible  command 'do-it': added -- a new command"]


def test_command_removed_is_breaking(diff: Diff) -> None:
    assert diff(cmd(), "") == [
        "BREAKING    command 'do-it': removed -- clients calling it get CommandNotFound"
    ]


def test_event_added_and_removed_are_compatible(diff: Diff) -> None:
    assert diff("{ 'event': 'GONE' }", "{ 'event': 'NEW' }") == [
        "compatible  event 'GONE': removed -- no longer sent; only clients waiting for it notice",
        "compatible  event 'NEW': added -- a new event; clients ignore events they don't know",
    ]


def test_losing_out_of_band_is_breaking(diff: Diff) -> None:
    oob = cmd(extra=", 'allow-oob': true")
    assert diff(oob, cmd()) == [
        "BREAKING    command 'do-it': no longer allows out-of-band execution"
        " -- clients executing it out-of-band are refused"
    ]
    assert diff(cmd(), oob) == [
        "compatible  command 'do-it': allows out-of-band execution"
        " -- clients may now execute it out-of-band"
    ]


# -- arguments (input) ----------------------------------------------------


def test_optional_argument_added_is_compatible(diff: Diff) -> None:
    assert diff(cmd(), cmd("{ '*force': 'bool' }")) == [
        "compatible  command 'do-it' argument 'force': added, optional [input]"
        " -- clients may leave it out"
    ]


def test_mandatory_argument_added_is_breaking(diff: Diff) -> None:
    assert diff(cmd(), cmd("{ 'force': 'bool' }")) == [
        "BREAKING    command 'do-it' argument 'force': added, mandatory [input]"
        " -- clients that leave it out are refused"
    ]


def test_argument_removed_is_breaking(diff: Diff) -> None:
    assert diff(cmd("{ '*force': 'bool' }"), cmd()) == [
        "BREAKING    command 'do-it' argument 'force': removed [input]"
        " -- clients sending it are refused"
    ]


def test_argument_made_mandatory_is_breaking(diff: Diff) -> None:
    assert diff(cmd("{ '*force': 'bool' }"), cmd("{ 'force': 'bool' }")) == [
        "BREAKING    command 'do-it' argument 'force': made mandatory [input]"
        " -- clients that leave it out are refused"
    ]


def test_argument_made_optional_is_compatible(diff: Diff) -> None:
    assert diff(cmd("{ 'force': 'bool' }"), cmd("{ '*force': 'bool' }")) == [
        "compatible  command 'do-it' argument 'force': made optional [input]"
        " -- clients may still send it"
    ]


# -- return values (output) -----------------------------------------------


def test_return_member_added_is_compatible(diff: Diff) -> None:
    assert diff(out("{ 'a': 'int' }"), out("{ 'a': 'int', 'b': 'int' }")) == [
        "compatible  type 'Info' member 'b': added, mandatory [output]"
        " -- clients ignore members they don't know"
    ]


def test_mandatory_return_member_removed_is_breaking(diff: Diff) -> None:
    assert diff(out("{ 'a': 'int', 'b': 'int' }"), out("{ 'a': 'int' }")) == [
        "BREAKING    type 'Info' member 'b': removed [output]"
        " -- clients relying on it no longer get it"
    ]


def test_optional_return_member_removed_is_compatible(diff: Diff) -> None:
    assert diff(out("{ 'a': 'int', '*b': 'int' }"), out("{ 'a': 'int' }")) == [
        "compatible  type 'Info' member 'b': removed [output]"
        " -- an optional member the server no longer sends"
    ]


def test_return_member_made_optional_is_breaking(diff: Diff) -> None:
    assert diff(out("{ 'a': 'int' }"), out("{ '*a': 'int' }")) == [
        "BREAKING    type 'Info' member 'a': made optional [output]"
        " -- clients relying on it may no longer get it"
    ]


def test_return_member_made_mandatory_is_compatible(diff: Diff) -> None:
    assert diff(out("{ '*a': 'int' }"), out("{ 'a': 'int' }")) == [
        "compatible  type 'Info' member 'a': made mandatory [output]"
        " -- the server now always sends it"
    ]


def test_event_data_is_output(diff: Diff) -> None:
    old = "{ 'event': 'DONE', 'data': { 'id': 'str' } }"
    new = "{ 'event': 'DONE', 'data': { 'id': 'str', 'len': 'int' } }"
    assert diff(new, old) == [
        "BREAKING    event 'DONE' member 'len': removed [output]"
        " -- clients relying on it no longer get it"
    ]


def test_return_type_changes(diff: Diff) -> None:
    info = "{ 'struct': 'Info', 'data': { 'a': 'int' } }\n"
    assert diff(info + cmd(returns="Info"), info + cmd(returns="['Info']")) == [
        "BREAKING    command 'do-it' returns: type changed from Info to [Info] [output]"
        " -- the value's JSON type changed"
    ]
    # Returning nothing is returning an empty object: members get added.
    assert diff(info + cmd(), info + cmd(returns="Info")) == [
        "compatible  type 'Info' member 'a': added, mandatory [output]"
        " -- clients ignore members they don't know"
    ]


# -- enumerations ---------------------------------------------------------

MODE = "{{ 'enum': 'Mode', 'data': [ {values} ] }}\n"


def test_enum_value_added_to_input_is_compatible(diff: Diff) -> None:
    old = MODE.format(values="'fast'") + cmd("{ 'mode': 'Mode' }")
    new = MODE.format(values="'fast', 'slow'") + cmd("{ 'mode': 'Mode' }")
    assert diff(old, new) == [
        "compatible  type 'Mode' value 'slow': added [input] -- a new value clients may send"
    ]


def test_enum_value_removed_from_input_is_breaking(diff: Diff) -> None:
    old = MODE.format(values="'fast', 'slow'") + cmd("{ 'mode': 'Mode' }")
    new = MODE.format(values="'fast'") + cmd("{ 'mode': 'Mode' }")
    assert diff(old, new) == [
        "BREAKING    type 'Mode' value 'slow': removed [input] -- clients sending it are refused"
    ]


def test_enum_value_added_to_output_is_compatible(diff: Diff) -> None:
    old = out("{ 'mode': 'Mode' }", MODE.format(values="'fast'"))
    new = out("{ 'mode': 'Mode' }", MODE.format(values="'fast', 'slow'"))
    assert diff(old, new) == [
        "compatible  type 'Mode' value 'slow': added [output]"
        " -- a new value clients may receive (they should tolerate unknown values)"
    ]


def test_enum_value_removed_from_output_is_compatible(diff: Diff) -> None:
    old = out("{ 'mode': 'Mode' }", MODE.format(values="'fast', 'slow'"))
    new = out("{ 'mode': 'Mode' }", MODE.format(values="'fast'"))
    assert diff(old, new) == [
        "compatible  type 'Mode' value 'slow': removed [output]"
        " -- a value the server no longer sends"
    ]


def test_type_used_both_ways_gets_both_rules(diff: Diff) -> None:
    """Removing a value is harmless in output, breaking in input: a type
    used both ways breaks; adding an optional member is fine both ways."""
    both = "{ 'struct': 'Job', 'data': { 'mode': 'Mode'%s } }\n" + cmd(
        "{ 'job': 'Job' }", "Job"
    )
    old = MODE.format(values="'fast', 'slow'") + both % ""
    new = MODE.format(values="'fast'") + both % ", '*id': 'str'"
    assert diff(old, new) == [
        "compatible  type 'Job' member 'id': added, optional [both]"
        " -- clients may leave it out; clients ignore members they don't know",
        "BREAKING    type 'Mode' value 'slow': removed [both] -- clients sending it are refused",
    ]


# -- alternates and unions ------------------------------------------------

ALT = "{{ 'alternate': 'Size', 'data': {{ {branches} }} }}\n"


def test_alternative_added_to_input_is_compatible(diff: Diff) -> None:
    old = ALT.format(branches="'n': 'int'") + cmd("{ 'size': 'Size' }")
    new = ALT.format(branches="'n': 'int', 'b': 'bool'") + cmd("{ 'size': 'Size' }")
    assert diff(old, new) == [
        "compatible  type 'Size' alternative 'boolean': added (type bool) [input]"
        " -- clients may send the new kind of value"
    ]


def test_alternative_added_to_output_is_breaking(diff: Diff) -> None:
    old = out("{ 'size': 'Size' }", ALT.format(branches="'n': 'int'"))
    new = out("{ 'size': 'Size' }", ALT.format(branches="'n': 'int', 'b': 'bool'"))
    assert diff(old, new) == [
        "BREAKING    type 'Size' alternative 'boolean': added (type bool) [output]"
        " -- clients may receive a kind of value they don't expect"
    ]


def test_alternative_removed_from_input_is_breaking(diff: Diff) -> None:
    old = ALT.format(branches="'n': 'int', 'b': 'bool'") + cmd("{ 'size': 'Size' }")
    new = ALT.format(branches="'n': 'int'") + cmd("{ 'size': 'Size' }")
    assert diff(old, new) == [
        "BREAKING    type 'Size' alternative 'boolean': removed (type bool) [input]"
        " -- clients sending that kind of value are refused"
    ]


UNION = """\
{ 'enum': 'Kind', 'data': [ %s ] }
{ 'struct': 'Disk', 'data': { 'path': 'str'%s } }
{ 'union': 'Dev', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
  'data': { 'disk': 'Disk' } }
"""


def test_union_branch_added_to_input_is_compatible(diff: Diff) -> None:
    """A new branch is a new tag value; the branch's own members are new."""
    old = UNION % ("'disk'", "") + cmd("{ 'dev': 'Dev' }")
    new = UNION % ("'disk', 'net'", "") + cmd("{ 'dev': 'Dev' }")
    assert diff(old, new) == [
        "compatible  type 'Kind' value 'net': added [input] -- a new value clients may send"
    ]


def test_union_branch_member_change_is_reported_on_the_branch_type(diff: Diff) -> None:
    old = UNION % ("'disk'", "") + cmd("{ 'dev': 'Dev' }")
    new = UNION % ("'disk'", ", 'size': 'int'") + cmd("{ 'dev': 'Dev' }")
    assert diff(old, new) == [
        "BREAKING    type 'Disk' member 'size': added, mandatory [input]"
        " -- clients that leave it out are refused"
    ]


STRUCT_DEV = """\
{ 'enum': 'Kind', 'data': [ 'disk', 'net' ] }
{ 'struct': 'Dev', 'data': { 'kind': 'Kind', '*path': 'str', 'size': 'int' } }
"""
UNION_DEV = """\
{ 'enum': 'Kind', 'data': [ 'disk', 'net' ] }
{ 'struct': 'Disk', 'data': { '*path': 'str', 'size': 'int' } }
{ 'struct': 'Net', 'data': { 'size': 'int' } }
{ 'union': 'Dev', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',
  'data': { 'disk': 'Disk', 'net': 'Net' } }
"""


def test_struct_becoming_a_union_is_compared_flat(diff: Diff) -> None:
    """A member every branch has is still always there; one that only
    some branches have is gone for the other tag values."""
    use = cmd("{ 'dev': 'Dev' }")
    assert diff(STRUCT_DEV + use, UNION_DEV + use) == [
        "BREAKING    type 'Dev' member 'path': now present only when 'kind' is 'disk' [input]"
        " -- clients sending it are refused",
        "compatible  type 'Dev': now a union with tag 'kind' [input]"
        " -- the wire shape is flat either way; members are compared one by one",
    ]


def test_union_becoming_a_struct_is_compared_flat(diff: Diff) -> None:
    use = cmd(returns="Dev")
    assert diff(UNION_DEV + use, STRUCT_DEV + use) == [
        "compatible  type 'Dev' member 'path': now present whatever 'kind' is [output]"
        " -- clients ignore members they don't know",
        "compatible  type 'Dev': no longer a union [output]"
        " -- the wire shape is flat either way; members are compared one by one",
    ]


# -- member type changes --------------------------------------------------


def member_type(
    diff: Diff, old: str, new: str, *, output: bool = False, types: str = ""
) -> list[str]:
    """The changes when member ``v`` (an argument, or with *output* a
    return value's member) changes type from *old* to *new*."""
    before, after = (t if t.startswith("[") else f"'{t}'" for t in (old, new))
    if output:
        return diff(out(f"{{ 'v': {before} }}", types), out(f"{{ 'v': {after} }}", types))
    return diff(types + cmd(f"{{ 'v': {before} }}"), types + cmd(f"{{ 'v': {after} }}"))


ARG_V = "command 'do-it' argument 'v'"
OUT_V = "type 'Info' member 'v'"


@pytest.mark.parametrize(
    ("old", "new", "output", "line"),
    [
        ("int8", "int16", False, f"compatible  {ARG_V}: type changed from int8 to int16 [input]"
         " -- the new range accepts every old value"),
        ("int16", "int8", False, f"BREAKING    {ARG_V}: type changed from int16 to int8 [input]"
         " -- values outside the new range are refused"),
        ("int16", "int8", True, f"compatible  {OUT_V}: type changed from int16 to int8 [output]"
         " -- the server sends values from a smaller range"),
        ("int8", "int16", True, f"BREAKING    {OUT_V}: type changed from int8 to int16 [output]"
         " -- the server may send values outside the old range"),
        ("int", "uint64", False, f"BREAKING    {ARG_V}: type changed from int to uint64 [input]"
         " -- the old and new integer ranges differ"),
        ("int", "number", False, f"compatible  {ARG_V}: type changed from int to number [input]"
         " -- a number accepts every integer"),
        ("int", "number", True, f"BREAKING    {OUT_V}: type changed from int to number [output]"
         " -- clients may receive fractional numbers"),
        ("number", "int", False, f"BREAKING    {ARG_V}: type changed from number to int [input]"
         " -- fractional numbers are refused"),
        ("str", "int", False, f"BREAKING    {ARG_V}: type changed from str to int [input]"
         " -- the value's JSON type changed"),
        ("str", "any", False, f"compatible  {ARG_V}: type changed from str to any [input]"
         " -- any value is accepted"),
        ("str", "any", True, f"BREAKING    {OUT_V}: type changed from str to any [output]"
         " -- clients may receive any JSON value"),
        ("any", "str", False, f"BREAKING    {ARG_V}: type changed from any to str [input]"
         " -- values of other JSON types are refused"),
    ],
)
def test_builtin_type_changes(diff: Diff, old: str, new: str, output: bool, line: str) -> None:
    assert member_type(diff, old, new, output=output) == [line]


def test_int_and_int64_are_the_same(diff: Diff) -> None:
    assert member_type(diff, "int", "int64") == []


def test_str_to_enum(diff: Diff) -> None:
    mode = MODE.format(values="'fast'")
    assert member_type(diff, "str", "Mode", types=mode) == [
        f"BREAKING    {ARG_V}: type changed from str to Mode [input]"
        " -- strings outside the enumeration are refused"
    ]
    assert member_type(diff, "str", "Mode", output=True, types=mode) == [
        f"compatible  {OUT_V}: type changed from str to Mode [output] -- the values are still strings"
    ]
    assert member_type(diff, "Mode", "str", output=True, types=mode) == [
        f"BREAKING    {OUT_V}: type changed from Mode to str [output]"
        " -- clients may receive strings outside the old enumeration"
    ]


def test_type_to_alternate_of_it(diff: Diff) -> None:
    """Turning an argument's type into an alternate of it is compatible
    for input (QEMU's example), not for output."""
    alt = "{ 'alternate': 'StrOrNull', 'data': { 's': 'str', 'n': 'null' } }\n"
    assert member_type(diff, "str", "StrOrNull", types=alt) == [
        f"compatible  {ARG_V}: now alternate StrOrNull [input]"
        " -- the alternate still accepts the old kind of value"
    ]
    assert member_type(diff, "str", "StrOrNull", output=True, types=alt) == [
        f"BREAKING    {OUT_V}: now alternate StrOrNull [output]"
        " -- clients may receive the alternate's other kinds of value"
    ]
    assert member_type(diff, "StrOrNull", "str", types=alt) == [
        f"BREAKING    {ARG_V}: no longer alternate StrOrNull, only str [input]"
        " -- the alternate's other kinds of value are refused"
    ]


def test_struct_to_alternate_compares_the_struct_branch(diff: Diff) -> None:
    types = (
        "{ 'struct': 'Opts', 'data': { 'path': 'str'%s } }\n"
        "{ 'alternate': 'OptsRef', 'data': { 'def': 'Opts', 'ref': 'str' } }\n"
    )
    old = types % "" + cmd("{ 'v': 'Opts' }")
    new = types % ", '*ro': 'bool'" + cmd("{ 'v': 'OptsRef' }")
    assert diff(old, new) == [
        f"compatible  {ARG_V}: now alternate OptsRef [input]"
        " -- the alternate still accepts the old kind of value",
        "compatible  type 'Opts' member 'ro': added, optional [input] -- clients may leave it out",
    ]


def test_array_element_changes_are_followed(diff: Diff) -> None:
    assert member_type(diff, "['int16']", "['int8']") == [
        f"BREAKING    {ARG_V}: type changed from int16 to int8 [input]"
        " -- values outside the new range are refused"
    ]


# -- features and conditions ----------------------------------------------


def test_features(diff: Diff) -> None:
    old = cmd("{ 'a': 'int', 'b': 'int' }", extra=", 'features': [ 'old-flag' ]")
    new = cmd(
        "{ 'a': { 'type': 'int', 'features': [ 'unstable' ] }, 'b': 'int' }",
        extra=", 'features': [ 'deprecated', 'new-flag' ]",
    )
    assert diff(old, new) == [
        "compatible  command 'do-it': feature 'deprecated' added"
        " -- deprecated: clients should stop using it",
        "compatible  command 'do-it': feature 'new-flag' added"
        " -- a new feature flag (introspection only)",
        "compatible  command 'do-it': feature 'old-flag' removed"
        " -- a feature flag is gone (introspection only)",
        "compatible  command 'do-it' argument 'a': feature 'unstable' added [input]"
        " -- unstable: not a stable interface",
    ]


def test_conditions(diff: Diff) -> None:
    """A new condition is judged as a removal, a dropped one is harmless."""
    # Conditional arguments need a boxed command in 10.2: use a struct.
    args = "{ 'struct': 'Args', 'data': %s }\n"
    old = args % "{ 'a': 'int', '*b': { 'type': 'int', 'if': 'CONFIG_B' } }" + cmd(
        "'Args'", extra=", 'boxed': true"
    )
    new = args % "{ 'a': { 'type': 'int', 'if': 'CONFIG_A' }, '*b': 'int' }" + cmd(
        "'Args'", extra=", 'boxed': true, 'if': { 'not': 'CONFIG_WIN32' }"
    )
    assert diff(old, new) == [
        "BREAKING    command 'do-it': now conditional on not CONFIG_WIN32"
        " -- builds without the condition lack the command",
        "BREAKING    type 'Args' member 'a': now conditional on CONFIG_A [input]"
        " -- clients sending it are refused",
        "compatible  type 'Args' member 'b': no longer conditional [input]"
        " -- now present in every build",
    ]


def test_enum_value_and_alternative_conditions(diff: Diff) -> None:
    old = MODE.format(values="'fast', 'slow'") + ALT.format(branches="'n': 'int', 'b': 'bool'")
    new = MODE.format(values="'fast', { 'name': 'slow', 'if': 'CONFIG_SLOW' }") + ALT.format(
        branches="'n': 'int', 'b': { 'type': 'bool', 'if': 'CONFIG_B' }"
    )
    use = cmd("{ 'mode': 'Mode', 'size': 'Size' }")
    assert diff(old + use, new + use) == [
        "BREAKING    type 'Mode' value 'slow': now conditional on CONFIG_SLOW [input]"
        " -- clients sending it are refused",
        "BREAKING    type 'Size' alternative 'boolean': now conditional on CONFIG_B [input]"
        " -- clients sending that kind of value are refused",
    ]


def test_event_condition_and_type_feature(diff: Diff) -> None:
    old = "{ 'struct': 'Info', 'data': { 'a': 'int' } }\n{ 'event': 'DONE', 'data': 'Info' }\n"
    new = (
        "{ 'struct': 'Info', 'data': { 'a': 'int' }, 'features': [ 'fast-path' ] }\n"
        "{ 'event': 'DONE', 'data': 'Info', 'if': 'CONFIG_DONE' }\n"
    )
    assert diff(old, new) == [
        "compatible  event 'DONE': now conditional on CONFIG_DONE"
        " -- no longer sent; only clients waiting for it notice",
        "compatible  type 'Info': feature 'fast-path' added [output]"
        " -- a new feature flag (introspection only)",
    ]


def test_union_tag_changed_is_breaking(diff: Diff) -> None:
    union = (
        "{ 'enum': 'Kind', 'data': [ 'disk' ] }\n"
        "{ 'struct': 'Disk', 'data': { 'path': 'str' } }\n"
        "{ 'union': 'Dev', 'base': { '%s': 'Kind' }, 'discriminator': '%s',"
        " 'data': { 'disk': 'Disk' } }\n"
    ) + cmd("{ 'dev': 'Dev' }")
    assert diff(union % ("kind", "kind"), union % ("driver", "driver")) == [
        "BREAKING    type 'Dev' member 'driver': added, mandatory [input]"
        " -- clients that leave it out are refused",
        "BREAKING    type 'Dev' member 'kind': removed [input] -- clients sending it are refused",
        "BREAKING    type 'Dev': union tag changed from 'kind' to 'driver' [input]"
        " -- branches are chosen by a different member; check by hand",
    ]


# -- refactorings invisible on the wire -----------------------------------


def test_wire_invisible_refactoring_reports_nothing_breaking(diff: Diff) -> None:
    """Renaming a type, moving members into a base and turning inline
    arguments into a named type change nothing on the wire."""
    old = (
        "{ 'struct': 'Info', 'data': { 'id': 'str', 'size': 'int' } }\n"
        "{ 'command': 'query-it', 'data': { 'id': 'str' }, 'returns': ['Info'] }\n"
    )
    new = (
        "{ 'struct': 'Common', 'data': { 'id': 'str' } }\n"
        "{ 'struct': 'ItemInfo', 'base': 'Common', 'data': { 'size': 'int' } }\n"
        "{ 'struct': 'QueryArgs', 'data': { 'id': 'str' } }\n"
        "{ 'command': 'query-it', 'data': 'QueryArgs', 'returns': ['ItemInfo'] }\n"
    )
    assert diff(old, new) == [
        "compatible  type 'ItemInfo': renamed from 'Info' [output]"
        " -- type names are not part of the wire format"
    ]


def test_a_type_split_in_two_is_not_a_rename(diff: Diff) -> None:
    old = (
        "{ 'struct': 'Opts', 'data': { 'id': 'str' } }\n"
        "{ 'command': 'do-it', 'data': { 'a': 'Opts', 'b': 'Opts' } }\n"
    )
    new = (
        "{ 'struct': 'OptsA', 'data': { 'id': 'str' } }\n"
        "{ 'struct': 'OptsB', 'data': { 'id': 'str', '*x': 'int' } }\n"
        "{ 'command': 'do-it', 'data': { 'a': 'OptsA', 'b': 'OptsB' } }\n"
    )
    assert diff(old, new) == [
        "compatible  type 'OptsA': used where 'Opts' was [input]"
        " -- type names are not part of the wire format",
        "compatible  type 'OptsB': used where 'Opts' was [input]"
        " -- type names are not part of the wire format",
        "compatible  type 'OptsB' member 'x': added, optional [input] -- clients may leave it out",
    ]


# -- the command ----------------------------------------------------------

LEGACY_OLD = """\
{ 'struct': 'Disk', 'data': { 'path': 'str' } }
{ 'union': 'Dev', 'data': { 'disk': 'Disk' } }
{ 'command': 'add-dev', 'data': { 'dev': 'Dev', 'id': 'str' },
  'if': 'defined(CONFIG_DEV)' }
"""

MODERN_NEW = """\
{ 'struct': 'Disk', 'data': { 'path': 'str' } }
{ 'enum': 'DevKind', 'data': [ 'disk' ] }
{ 'struct': 'DiskWrapper', 'data': { 'data': 'Disk' } }
{ 'union': 'Dev', 'base': { 'type': 'DevKind' }, 'discriminator': 'type',
  'data': { 'disk': 'DiskWrapper' } }
{ 'command': 'add-dev', 'data': { 'dev': 'Dev', '*id': 'str' }, 'if': 'CONFIG_DEV' }
"""


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.chdir(tmp_path)
    Path("old.json").write_text(LEGACY_OLD)
    Path("new.json").write_text(MODERN_NEW)
    return "old.json", "new.json"


def test_dialects_are_detected_and_compared_on_the_wire(
    pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A legacy simple union and its 10.2 spelling are the same on the
    wire; `defined(CONFIG_DEV)` and `CONFIG_DEV` are the same condition."""
    assert main(["diff", *pair]) == 0
    assert capsys.readouterr().out == (
        "old: old.json (legacy)\n"
        "new: new.json (qemu)\n"
        "Commands:\n"
        "  compatible  command 'add-dev' argument 'id': made optional [input]"
        " -- clients may still send it\n"
        "0 breaking, 1 compatible\n"
    )


def test_reversed_is_breaking_and_exits_1(
    pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", pair[1], pair[0]]) == 1
    assert capsys.readouterr().out.splitlines()[2:] == [
        "Commands:",
        "  BREAKING    command 'add-dev' argument 'id': made mandatory [input]"
        " -- clients that leave it out are refused",
        "1 breaking, 0 compatible",
    ]


def test_json_output(pair: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", pair[1], pair[0], "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "format": 1,
        "old": {"schema": "new.json", "dialect": "qemu", "doc-comments": "parse"},
        "new": {"schema": "old.json", "dialect": "legacy", "doc-comments": "parse"},
        "breaking": 1,
        "compatible": 0,
        "changes": [
            {
                "section": "command",
                "name": "add-dev",
                "element-kind": "argument",
                "element": "id",
                "change": "made-mandatory",
                "detail": "made mandatory",
                "direction": "input",
                "classification": "breaking",
                "reason": "clients that leave it out are refused",
            }
        ],
    }


def test_no_changes(pair: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", pair[0], pair[0]]) == 0
    assert capsys.readouterr().out.splitlines()[2:] == ["no wire-visible changes"]


def test_schemas_older_than_2_9_are_read_with_doc_comments_ignored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.json"
    path.write_text("##\n# @other:\n##\n{ 'command': 'do-it' }\n")
    assert load_detected(str(path)).describe() == "legacy, doc comments ignored"


def test_given_dialect_is_used(pair: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """--old-dialect qemu on a legacy schema: its error, exit 2."""
    assert main(["diff", *pair, "--old-dialect", "qemu"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "old.json: In union 'Dev':\nold.json:2: union misses keys 'base', 'discriminator'\n"


def test_bad_schema_exits_2_with_one_line(
    pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", pair[0], "missing.json"]) == 2
    assert capsys.readouterr() == ("", "can't read schema file 'missing.json': No such file or directory\n")


def test_bad_command_line_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["diff", "only-one.json"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "qapigen diff: error: the following arguments are required: NEW_SCHEMA\n"
    )


def test_detection_reports_the_furthest_dialects_error(tmp_path: Path) -> None:
    """A legacy schema with a plain mistake late in the file: the legacy
    dialect's error (the 10.2 one stops at the simple union)."""
    path = tmp_path / "bad.json"
    path.write_text(LEGACY_OLD + "{ 'command': 'x', 'data': { 'a': 'Nope' } }\n")
    with pytest.raises(QAPIError) as err:
        load_detected(str(path))
    assert str(err.value) == (
        f"{path}: In command 'x':\n{path}:5: parameter 'a' uses unknown type 'Nope'"
    )


# -- the corpus -----------------------------------------------------------


def corpus_schema(release: str) -> str:
    path = CORPUS / release / "qapi" / "qapi-schema.json"
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"QEMU's corpus is missing: {path}")
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")
    return str(path)


def test_qemu_3_1_to_10_2(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = corpus_schema("qemu-3.1"), corpus_schema("qemu-10.2")
    assert main(["diff", old, new]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"old: {old} (legacy)", f"new: {new} (qemu)"]
    for line in [
        "BREAKING    command 'cpu-add': removed -- clients calling it get CommandNotFound",
        "compatible  command 'blockdev-reopen': added -- a new command",
        "BREAKING    command 'migrate' argument 'blk': removed [input]"
        " -- clients sending it are refused",
        "BREAKING    type 'BlockdevDriver' value 'sheepdog': removed [input]"
        " -- clients sending it are refused",
    ]:
        assert "  " + line in lines
    # Conditions spelled both ways compare equal.
    assert not [line for line in lines if "condition changed" in line]


def test_qemu_10_2_against_itself_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    new = corpus_schema("qemu-10.2")
    assert main(["diff", new, new]) == 0
    assert capsys.readouterr().out.splitlines()[2:] == ["no wire-visible changes"]
    old = corpus_schema("qemu-3.1")
    assert main(["diff", old, new, "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    changes = document["changes"]
    assert document["breaking"] == sum(c["classification"] == "breaking" for c in changes)
    assert document["compatible"] == len(changes) - document["breaking"]
    assert {c["section"] for c in changes} == {"command", "event", "type"}
