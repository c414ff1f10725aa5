"""Comparing two schemas as a client sees them.

Only what is visible on the wire counts, as in QEMU's introspection: the
commands and events by name, and the types they use by where they are
used, whatever those types are called.  The walk starts at every command
and event the schemas share and pairs the old type found at each place
with the new one (arguments with arguments, a member's type with the
same member's type, ...).  Each pair collects the directions its values
travel (arguments: input; return values and event data: output), and is
then compared once, with those directions: a type used both ways is
judged by both rules.  Renaming a type, or moving members into a base
type, changes no pair, so it reports nothing breaking.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qapigen.evolution import changes as rules
from qapigen.evolution.changes import Change, Direction, Rule
from qapigen.evolution.shapes import object_view, tags_text
from qapigen.evolution.wire import Link, Pair, connect
from qapigen.ir.types import AlternateType, EnumType, ObjectType

if TYPE_CHECKING:
    from qapigen.ir.commands import Command, Event
    from qapigen.ir.ifcond import IfCond
    from qapigen.ir.members import Feature, ObjectMember, Variant
    from qapigen.ir.schema import Schema
    from qapigen.ir.types import Type

#: Where a change is: (section, name, element kind, element name).
Where = tuple[str, str, str | None, str | None]

_SECTIONS = {"command": 0, "event": 1, "type": 2}
_IMPLICIT = re.compile(r"q_obj_(.+)-(arg|base)")
_LEGACY_NOT_DEFINED = re.compile(r"!\s*defined\s*\(\s*(\w+)\s*\)")
_LEGACY_DEFINED = re.compile(r"defined\s*\(\s*(\w+)\s*\)")
_JSON_KINDS = {
    "QTYPE_QSTRING": "string",
    "QTYPE_QNUM": "number",
    "QTYPE_QBOOL": "boolean",
    "QTYPE_QNULL": "null",
    "QTYPE_QDICT": "object",
    "QTYPE_QLIST": "array",
}


def diff_schemas(old: Schema, new: Schema) -> list[Change]:
    """Every wire-visible difference from *old* to *new*, classified;
    commands first, then events, then types, each by name."""
    return _Differ(old, new).run()


@dataclass
class _Pair:
    """An old type and the new type found in its place."""

    old: Type
    new: Type
    direction: Direction
    links: list[tuple[Where, Link]] | None = None


class _Differ:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        self.pairs: dict[tuple[int, int], _Pair] = {}
        self.work: list[_Pair] = []
        self.top_links: list[tuple[Where, Link, Direction]] = []
        self._partners: Counter[int] | None = None
        self.commands = {c.name for c in old.commands()} | {c.name for c in new.commands()}

    def run(self) -> list[Change]:
        self._commands()
        self._events()
        while self.work:
            self._expand(self.work.pop())
        for where, link, direction in self.top_links:
            self._link_changes(where, link, direction)
        for pair in self.pairs.values():
            self._compare(pair)
        return sorted(self.changes, key=lambda c: (_SECTIONS[c.section], c.name))

    # -- recording -----------------------------------------------------

    def _add(
        self, where: Where, change: str, detail: str, rule: Rule, direction: Direction | None
    ) -> None:
        breaking, reason = rule.judge(direction)
        section, name, kind, element = where
        self.changes.append(
            Change(section, name, kind, element, change, detail, direction, breaking, reason)
        )

    def _link(self, where: Where, old: Type, new: Type, direction: Direction) -> None:
        link = connect(old, new)
        self.top_links.append((where, link, direction))
        for pair in link.pairs:
            self._reach(pair, direction)

    def _link_changes(self, where: Where, link: Link, direction: Direction) -> None:
        for detail, rule in link.changes:
            self._add(where, "type", detail, rule, direction)

    def _reach(self, types: Pair, direction: Direction) -> None:
        key = (id(types[0]), id(types[1]))
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair(types[0], types[1], direction)
        elif pair.direction | direction == pair.direction:
            return
        else:
            pair.direction |= direction
        self.work.append(pair)

    def _expand(self, pair: _Pair) -> None:
        if pair.links is None:
            pair.links = list(self._children(pair))
        for _, link in pair.links:
            for types in link.pairs:
                self._reach(types, pair.direction)

    # -- commands and events --------------------------------------------

    def _commands(self) -> None:
        old = {c.name: c for c in self.old.commands()}
        new = {c.name: c for c in self.new.commands()}
        for name, cmd in new.items():
            where: Where = ("command", name, None, None)
            if name not in old:
                self._add(where, "added", "added", rules.COMMAND_ADDED, None)
                continue
            was = old[name]
            self._definition(where, was, cmd, rules.COMMAND_CONDITIONAL, None)
            if was.allow_oob != cmd.allow_oob:
                rule = rules.COMMAND_GAINED_OOB if cmd.allow_oob else rules.COMMAND_LOST_OOB
                detail = (
                    "allows out-of-band execution"
                    if cmd.allow_oob
                    else "no longer allows out-of-band execution"
                )
                self._add(where, "oob", detail, rule, None)
            self._link(where, self._args(was, self.old), self._args(cmd, self.new), Direction.INPUT)
            returns: Where = ("command", name, "returns", None)
            old_ret = was.ret_type or self.old.empty_type
            new_ret = cmd.ret_type or self.new.empty_type
            self._link(returns, old_ret, new_ret, Direction.OUTPUT)
        for name in [n for n in old if n not in new]:
            self._add(
                ("command", name, None, None), "removed", "removed", rules.COMMAND_REMOVED, None
            )

    def _events(self) -> None:
        old = {e.name: e for e in self.old.events()}
        new = {e.name: e for e in self.new.events()}
        for name, event in new.items():
            where: Where = ("event", name, None, None)
            if name not in old:
                self._add(where, "added", "added", rules.EVENT_ADDED, None)
                continue
            was = old[name]
            self._definition(where, was, event, rules.EVENT_REMOVED, None)
            self._link(
                where, self._args(was, self.old), self._args(event, self.new), Direction.OUTPUT
            )
        for name in [n for n in old if n not in new]:
            self._add(("event", name, None, None), "removed", "removed", rules.EVENT_REMOVED, None)

    @staticmethod
    def _args(defn: Command | Event, schema: Schema) -> Type:
        return defn.arg_type or schema.empty_type

    def _definition(
        self,
        where: Where,
        old: Command | Event | Type,
        new: Command | Event | Type,
        removal: Rule,
        direction: Direction | None,
    ) -> None:
        self._condition(where, old.ifcond, new.ifcond, removal, direction)
        self._features(where, old.features, new.features, direction)

    # -- conditions and features ----------------------------------------

    def _condition(
        self,
        where: Where,
        old: IfCond | None,
        new: IfCond | None,
        removal: Rule,
        direction: Direction | None,
    ) -> None:
        """A new or changed condition may leave the thing out of a build
        that had it: judged as a removal.  A dropped one is harmless."""
        before, after = _cond_text(old), _cond_text(new)
        if before == after:
            return
        if after is None:
            detail, rule = "no longer conditional", rules.CONDITION_DROPPED
        elif before is None:
            detail, rule = f"now conditional on {after}", removal
        else:
            detail, rule = f"condition changed from {before} to {after}", removal
        self._add(where, "condition", detail, rule, direction)

    def _features(
        self, where: Where, old: list[Feature], new: list[Feature], direction: Direction | None
    ) -> None:
        before = {f.name for f in old}
        after = {f.name for f in new}
        for feature in new:
            if feature.name not in before:
                rule = {
                    "deprecated": rules.FEATURE_DEPRECATED,
                    "unstable": rules.FEATURE_UNSTABLE,
                }.get(feature.name, rules.FEATURE_ADDED)
                self._add(
                    where, "feature-added", f"feature '{feature.name}' added", rule, direction
                )
        for feature in old:
            if feature.name not in after:
                detail = f"feature '{feature.name}' removed"
                self._add(where, "feature-removed", detail, rules.FEATURE_REMOVED, direction)

    # -- type pairs ------------------------------------------------------

    def _owner(self, pair: _Pair) -> tuple[str, str, str]:
        """(section, name, member word) a pair's changes are reported
        under: an implicit argument type's command or event, else the
        (new) type's name."""
        typ = pair.old if pair.new.name == "q_empty" else pair.new
        match = _IMPLICIT.fullmatch(typ.name)
        if match is None:
            return "type", typ.name, "member"
        owner, role = match.groups()
        if role == "base":
            return "type", owner, "member"
        if owner in self.commands:
            return "command", owner, "argument"
        return "event", owner, "member"

    def _renaming(self, pair: _Pair) -> str:
        """``renamed from 'X'`` when the two types only ever stand for
        each other; when one took several places, just where it stands."""
        if self._partners is None:
            self._partners = Counter()
            for other in self.pairs.values():
                self._partners[id(other.old)] += 1
                self._partners[id(other.new)] += 1
        if self._partners[id(pair.old)] == self._partners[id(pair.new)] == 1:
            return f"renamed from '{pair.old.name}'"
        return f"used where '{pair.old.name}' was"

    def _children(self, pair: _Pair) -> list[tuple[Where, Link]]:
        """The links from a pair to the types its members use."""
        old, new = pair.old, pair.new
        section, name, word = self._owner(pair)
        links: list[tuple[Where, Link]] = []
        if isinstance(old, ObjectType) and isinstance(new, ObjectType):
            before = object_view(old, new)
            for member_name, view in object_view(new, old).items():
                if (was := before.get(member_name)) is not None:
                    where: Where = (section, name, word, member_name)
                    links.append((where, connect(was.member.type, view.member.type)))
            if old.branches and new.branches:
                branches = {v.name: v for v in old.branches.variants}
                for variant in new.branches.variants:
                    if (old_variant := branches.get(variant.name)) is not None:
                        where = (section, name, "branch", variant.name)
                        links.append((where, connect(old_variant.type, variant.type)))
        elif isinstance(old, AlternateType) and isinstance(new, AlternateType):
            before_alt = _alternatives(old)
            for kind, variant in _alternatives(new).items():
                if (old_alt := before_alt.get(kind)) is not None:
                    where = (section, name, "alternative", kind)
                    links.append((where, connect(old_alt.type, variant.type)))
        return links

    def _compare(self, pair: _Pair) -> None:
        old, new, direction = pair.old, pair.new, pair.direction
        section, name, word = self._owner(pair)
        where: Where = (section, name, None, None)
        if not (old.is_implicit() or new.is_implicit()) and old.name != new.name:
            self._add(where, "renamed", self._renaming(pair), rules.TYPE_RENAMED, direction)
        if section == "type":
            self._features(where, old.features, new.features, direction)
        if isinstance(old, EnumType) and isinstance(new, EnumType):
            self._enum(section, name, old, new, direction)
        elif isinstance(old, ObjectType) and isinstance(new, ObjectType):
            self._object(section, name, word, old, new, direction)
        elif isinstance(old, AlternateType) and isinstance(new, AlternateType):
            self._alternate(section, name, old, new, direction)
        for link_where, link in pair.links or ():
            self._link_changes(link_where, link, direction)

    def _enum(
        self, section: str, name: str, old: EnumType, new: EnumType, direction: Direction
    ) -> None:
        before = {m.name: m for m in old.members}
        after = {m.name for m in new.members}
        for value in new.members:
            where: Where = (section, name, "value", value.name)
            was = before.get(value.name)
            if was is None:
                self._add(where, "added", "added", rules.VALUE_ADDED, direction)
                continue
            self._condition(where, was.ifcond, value.ifcond, rules.VALUE_REMOVED, direction)
            self._features(where, was.features, value.features, direction)
        for value in old.members:
            if value.name not in after:
                where = (section, name, "value", value.name)
                self._add(where, "removed", "removed", rules.VALUE_REMOVED, direction)

    def _object(
        self,
        section: str,
        name: str,
        word: str,
        old: ObjectType,
        new: ObjectType,
        direction: Direction,
    ) -> None:
        before, after = object_view(old, new), object_view(new, old)
        union = new.branches or old.branches
        tag = union.tag_name if union else ""
        for member_name, view in after.items():
            where: Where = (section, name, word, member_name)
            member = view.member
            was_view = before.get(member_name)
            if was_view is None:
                detail = "added, optional" if member.optional else "added, mandatory"
                if view.tags is not None:
                    detail += f", when {tags_text(tag, view.tags)}"
                self._add(where, "added", detail, _addition(member), direction)
                continue
            was = was_view.member
            if was_view.tags != view.tags:
                if view.tags is None:
                    detail = f"now present whatever '{tag}' is"
                    self._add(where, "presence", detail, _addition(member), direction)
                else:
                    detail = f"now present only when {tags_text(tag, view.tags)}"
                    self._add(where, "presence", detail, _removal(was), direction)
            if was.optional and not member.optional:
                rule = rules.MEMBER_MADE_MANDATORY
                self._add(where, "made-mandatory", "made mandatory", rule, direction)
            elif member.optional and not was.optional:
                rule = rules.MEMBER_MADE_OPTIONAL
                self._add(where, "made-optional", "made optional", rule, direction)
            self._condition(where, was.ifcond, member.ifcond, _removal(was), direction)
            self._features(where, was.features, member.features, direction)
        for member_name, was_view in before.items():
            if member_name not in after:
                where = (section, name, word, member_name)
                self._add(where, "removed", "removed", _removal(was_view.member), direction)
        where = (section, name, None, None)
        if old.branches and new.branches:
            old_tag, new_tag = old.branches.tag_name, new.branches.tag_name
            if old_tag != new_tag:
                detail = f"union tag changed from '{old_tag}' to '{new_tag}'"
                self._add(where, "shape", detail, rules.UNION_TAG_CHANGED, direction)
        elif new.branches:
            detail = f"now a union with tag '{new.branches.tag_name}'"
            self._add(where, "shape", detail, rules.UNION_SHAPE, direction)
        elif old.branches:
            self._add(where, "shape", "no longer a union", rules.UNION_SHAPE, direction)

    def _alternate(
        self, section: str, name: str, old: AlternateType, new: AlternateType, direction: Direction
    ) -> None:
        before, after = _alternatives(old), _alternatives(new)
        for kind, variant in after.items():
            where: Where = (section, name, "alternative", kind)
            was = before.get(kind)
            if was is None:
                detail = f"added (type {variant.type.name})"
                self._add(where, "added", detail, rules.ALTERNATIVE_ADDED, direction)
            else:
                self._condition(
                    where, was.ifcond, variant.ifcond, rules.ALTERNATIVE_REMOVED, direction
                )
        for kind, variant in before.items():
            if kind not in after:
                where = (section, name, "alternative", kind)
                detail = f"removed (type {variant.type.name})"
                self._add(where, "removed", detail, rules.ALTERNATIVE_REMOVED, direction)


def _addition(member: ObjectMember) -> Rule:
    if member.optional:
        return rules.MEMBER_ADDED_OPTIONAL
    return rules.MEMBER_ADDED_MANDATORY


def _removal(member: ObjectMember) -> Rule:
    if member.optional:
        return rules.MEMBER_REMOVED_OPTIONAL
    return rules.MEMBER_REMOVED_MANDATORY


def _alternatives(alternate: AlternateType) -> dict[str, Variant]:
    """An alternate's branches by the JSON type of their values."""
    found: dict[str, Variant] = {}
    for variant in alternate.alternatives.variants:
        qtype = variant.type.alternate_qtype()
        if qtype is not None:
            found.setdefault(_JSON_KINDS.get(qtype, qtype), variant)
    return found


def _cond_text(cond: IfCond | None) -> str | None:
    """A condition in a form that reads the same in both dialects: the
    legacy ``defined(CONFIG_X) && !defined(CONFIG_Y)`` as 10.2's
    ``CONFIG_X and not CONFIG_Y``."""
    if cond is None:
        return None
    text = _LEGACY_NOT_DEFINED.sub(r"not \1", cond.doc_text())
    text = _LEGACY_DEFINED.sub(r"\1", text)
    text = text.replace("&&", " and ").replace("||", " or ")
    return " ".join(text.split())
