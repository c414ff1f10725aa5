"""What the reference shows, built from the IR and its doc comments.

One :class:`Page` per schema file, holding its free-form text and its
definitions (:class:`Entry`) in source order.  An entry's sections follow
its doc comment's order (QEMU's rule: member descriptions where the first
one was written, else after the body; features likewise), with members
flattened: an object's base members, then each union branch's members
under the condition that selects it.  Text is kept parsed
(:class:`Text`), tied to the definition whose doc comment it came from,
so that ``@name`` resolves against the right members whatever page shows
it.  Templates get this model and nothing else.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from qapigen.backends.docs.markup import Block, Example, Message, parse_example, parse_text
from qapigen.backends.docs.requests import minimal_arguments
from qapigen.frontend.docs import ArgSection, Kind, QAPIDoc, Section
from qapigen.ir.commands import Command, Event
from qapigen.ir.entities import Definition
from qapigen.ir.members import Feature, ObjectMember
from qapigen.ir.schema import Schema
from qapigen.ir.types import AlternateType, ArrayType, BuiltinType, EnumType, ObjectType, Type


@dataclass
class Warning_:
    """A doc problem worth telling the author: ``file:line: message``."""

    fname: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.fname}:{self.line}: warning: {self.message}"


class Context:
    """Resolves names for the text of one doc comment (a :class:`Resolver`)."""

    def __init__(self, docs: DocsModel, owner: str | None, fname: str, first_line: int) -> None:
        self.docs = docs
        self.owner = owner
        self.fname = fname
        self.first_line = first_line

    def member(self, name: str, line: int) -> str | None:
        entry = self.docs.entries.get(self.owner or "")
        if entry is not None and name in entry.member_anchors:
            return self.docs.href(entry.page, entry.member_anchors[name])
        if name in self.docs.entries:
            return self.definition(name, line)
        self.docs.warn(self, f"@{name}", f"reference '@{name}' resolves to nothing")
        return None

    def definition(self, name: str, line: int) -> str | None:
        entry = self.docs.entries.get(name)
        if entry is not None:
            return self.docs.href(entry.page, entry.anchor)
        if self.docs.is_known_type(name):
            return None  # a builtin: nothing to link to, nothing wrong
        # `name` may also mean a member of the definition at hand.
        here = self.docs.entries.get(self.owner or "")
        if here is not None:
            anchor = here.member_anchors.get(name) or here.branch_anchors.get(name)
            if anchor:
                return self.docs.href(here.page, anchor)
        self.docs.warn(self, f"`{name}`", f"reference '{name}' resolves to nothing")
        return None


@dataclass
class Text:
    """Doc text, parsed, and the context its names resolve in."""

    blocks: list[Block]
    context: Context


@dataclass
class TypeLink:
    text: str
    href: str | None = None


@dataclass
class FeatureRow:
    name: str
    anchor: str
    text: Text | None
    special: bool
    ifcond: str = ""


@dataclass
class MemberRow:
    name: str
    anchor: str
    type: TypeLink | None
    optional: bool
    ifcond: str
    text: Text | None
    features: list[FeatureRow] = field(default_factory=list)
    default: str = ""  # as the description states it, if it does

    @property
    def badges(self) -> list[str]:
        return [f.name for f in self.features if f.special]


@dataclass
class MemberGroup:
    """Members shown together; a union branch's come with their
    condition (``tag`` equals ``value``)."""

    rows: list[MemberRow]
    tag: str = ""
    value: str = ""
    type: TypeLink | None = None
    ifcond: str = ""
    anchor: str = ""


@dataclass
class SectionView:
    """One section of an entry: ``kind`` is ``text``, ``members``,
    ``features``, ``returns``, ``errors``, ``example``, ``note``."""

    kind: str
    label: str = ""
    text: Text | None = None
    groups: list[MemberGroup] = field(default_factory=list)
    features: list[FeatureRow] = field(default_factory=list)
    type: TypeLink | None = None


@dataclass
class Entry:
    name: str
    kind: str  # command, event, struct, union, enum, alternate
    page: str
    anchor: str
    since: str
    ifcond: str
    badges: list[str]
    sections: list[SectionView] = field(default_factory=list)
    request: Example | None = None
    summary: str = ""
    member_anchors: dict[str, str] = field(default_factory=dict)
    branch_anchors: dict[str, str] = field(default_factory=dict)  # tag value -> anchor


@dataclass
class Page:
    module: str
    file: str
    title: str
    items: list[Entry | Text] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [i for i in self.items if isinstance(i, Entry)]


_KIND_LABEL = {"command": "Arguments", "enum": "Values", "alternate": "Alternatives"}


class DocsModel:
    """The whole reference: pages, every entry by name, and warnings."""

    def __init__(self, schema: Schema, suffix: str) -> None:
        self.schema = schema
        self.suffix = suffix
        self.pages: list[Page] = []
        self.entries: dict[str, Entry] = {}
        self.warnings: list[Warning_] = []
        self._descriptions: dict[int, tuple[ArgSection, QAPIDoc]] = {}
        self._lines: dict[str, list[str]] = {}
        self._seen_warnings: set[tuple[str, int, str]] = set()

    def href(self, page: str, anchor: str) -> str:
        return f"{page}#{anchor}"

    def is_known_type(self, name: str) -> bool:
        return self.schema.lookup_entity(name) is not None

    def warn(self, context: Context, needle: str, message: str) -> None:
        line = self._find_line(context, needle)
        key = (context.fname, line, message)
        if key not in self._seen_warnings:
            self._seen_warnings.add(key)
            self.warnings.append(Warning_(context.fname, line, message))

    def _find_line(self, context: Context, needle: str) -> int:
        """The first line from the doc's start that mentions *needle*."""
        if context.fname not in self._lines:
            try:
                with open(context.fname, encoding="utf-8") as f:
                    self._lines[context.fname] = f.read().split("\n")
            except OSError:
                self._lines[context.fname] = []
        lines = self._lines[context.fname]
        for n in range(max(context.first_line - 1, 0), len(lines)):
            if needle in lines[n]:
                return n + 1
        return context.first_line

    # -- building ------------------------------------------------------------

    def build(self) -> None:
        for doc in self.schema.docs:
            for section in [*doc.args.values(), *doc.features.values()]:
                if section.member is not None:
                    self._descriptions[id(section.member)] = (section, doc)
        base = os.path.dirname(self.schema.fname)
        by_file: dict[str, list[tuple[int, int, Definition | QAPIDoc]]] = {}
        order: list[str] = []
        for n, defn in enumerate(self.schema.definitions()):
            if defn.info is None or defn.is_implicit() or isinstance(defn, ArrayType):
                continue
            by_file.setdefault(defn.info.fname, []).append((defn.info.line, n, defn))
        for n, doc in enumerate(self.schema.docs):
            if doc.symbol is None:
                by_file.setdefault(doc.info.fname, []).append((doc.info.line, n, doc))
        for module in self.schema.modules:
            if module.is_system:
                continue
            fname = os.path.join(base, module.name) if base else module.name
            if fname in by_file:
                order.append(fname)
        order += [f for f in by_file if f not in order]
        used: set[str] = set()
        for fname in order:
            rel = os.path.relpath(fname, base or os.curdir)
            stem = re.sub(r"[^\w.-]+", "-", rel.removesuffix(".json")).strip("-") or "page"
            file = stem + self.suffix
            while file in used or file == "index" + self.suffix:
                stem += "_"
                file = stem + self.suffix
            used.add(file)
            page = Page(rel, file, rel)
            self.pages.append(page)
            for _line, _n, item in sorted(by_file[fname], key=lambda t: (t[0], t[1])):
                if isinstance(item, Definition):
                    entry = self._entry(item, page)
                    page.items.append(entry)
                    self.entries[entry.name] = entry
                else:
                    page.items.append(self._text(item.body, item, legacy_headings=True))
        # Sections last: their text resolves against every entry's anchors.
        for page in self.pages:
            for entry in page.entries:
                found = self.schema.lookup_entity(entry.name)
                assert found is not None
                entry.sections = self._sections(found, entry)
            heading = next(
                (b for t in page.items if isinstance(t, Text) for b in t.blocks if hasattr(b, "level")),
                None,
            )
            if heading is not None:
                page.title = getattr(heading, "text", page.title)

    def _text(self, section: Section, doc: QAPIDoc | None, legacy_headings: bool = False) -> Text:
        text = section.text
        if legacy_headings and self.schema.legacy:
            # QEMU 3.1's free-form headings: "= Title", "== Subtitle".
            text = re.sub(
                r"^(=+) *(.*)$",
                lambda m: m.group(2) + "\n" + ("=" if len(m.group(1)) == 1 else "-") * max(len(m.group(2)), 3),
                text,
                flags=re.M,
            )
        owner = doc.symbol if doc else None
        context = Context(self, owner, section.info.fname, section.info.line)
        return Text(parse_text(text), context)

    def _type_link(self, typ: Type) -> TypeLink:
        if isinstance(typ, ArrayType):
            inner = self._type_link(typ.element_type)
            return TypeLink(f"[{inner.text}]", inner.href)
        if isinstance(typ, BuiltinType):
            return TypeLink(typ.name)
        if typ.is_implicit():
            return TypeLink(typ.json_type())
        entry = self.entries.get(typ.name)
        return TypeLink(typ.name, self.href(entry.page, entry.anchor) if entry else None)

    def _entry(self, defn: Definition, page: Page) -> Entry:
        kind = defn.meta
        doc = defn.doc
        since = doc.since.text.strip().split("\n")[0] if doc and doc.since else ""
        badges = [f.name for f in defn.features if f.is_special()]
        entry = Entry(
            defn.name, kind, page.file, defn.name, since,
            defn.ifcond.doc_text() if defn.ifcond else "", badges,
        )
        if doc and doc.body.text.strip():
            first = re.split(r"(?<=\.)\s|\n\n", doc.body.text.strip(), maxsplit=1)[0]
            entry.summary = _plain(first)[:160]
        for group in self._member_groups(defn, entry.name):
            for row in group.rows:
                entry.member_anchors.setdefault(row.name, row.anchor)
            if group.anchor:
                entry.branch_anchors.setdefault(group.value, group.anchor)
        for feature in self._features(defn.features, entry.name):
            entry.member_anchors.setdefault(feature.name, feature.anchor)
        return entry

    # -- members ---------------------------------------------------------------

    def _description(self, member: object) -> Text | None:
        found = self._descriptions.get(id(member))
        if found is None:
            return None
        section, doc = found
        if not section.text.strip():
            return None
        return self._text(section, doc)

    def _features(self, features: list[Feature], owner: str) -> list[FeatureRow]:
        return [
            FeatureRow(
                f.name, f"{owner}.feature.{f.name}", self._description(f), f.is_special(),
                f.ifcond.doc_text() if f.ifcond else "",
            )
            for f in features
        ]

    def _row(self, member: ObjectMember, owner: str, anchors: set[str], prefix: str = "") -> MemberRow:
        anchor = f"{owner}.{member.name}"
        if anchor in anchors:
            anchor = f"{owner}.{prefix}.{member.name}"
        anchors.add(anchor)
        found = self._descriptions.get(id(member))
        return MemberRow(
            member.name, anchor, self._type_link(member.type), member.optional,
            member.ifcond.doc_text() if member.ifcond else "", self._description(member),
            self._features(member.features, anchor),
            stated_default(found[0].text) if found and member.optional else "",
        )

    def _member_groups(self, defn: Definition, owner: str) -> list[MemberGroup]:
        anchors: set[str] = set()
        if isinstance(defn, EnumType):
            rows = [
                MemberRow(
                    m.name, f"{owner}.{m.name}", None, False,
                    m.ifcond.doc_text() if m.ifcond else "", self._description(m),
                    self._features(m.features, f"{owner}.{m.name}"),
                )
                for m in defn.members
            ]
            return [MemberGroup(rows)] if rows else []
        if isinstance(defn, AlternateType):
            rows = [self._row(v, owner, anchors) for v in defn.alternatives.variants]
            return [MemberGroup(rows)]
        if isinstance(defn, (Command, Event)):
            obj = defn.arg_type
            if isinstance(obj, AlternateType):  # legacy boxed alternate data
                return [MemberGroup([self._row(v, owner, anchors)
                                     for v in obj.alternatives.variants])]
            return self._object_groups(obj, owner, anchors) if obj else []
        if isinstance(defn, ObjectType):
            return self._object_groups(defn, owner, anchors)
        return []

    def _object_groups(
        self, obj: ObjectType, owner: str, anchors: set[str], prefix: str = ""
    ) -> list[MemberGroup]:
        groups = [MemberGroup([self._row(m, owner, anchors, prefix) for m in obj.members])]
        if obj.branches is not None:
            tag = obj.branches.tag_member.name
            for variant in obj.branches.variants:
                vtype = variant.type
                if not isinstance(vtype, ObjectType) or (vtype.is_implicit() and vtype.is_empty()):
                    continue
                subs = self._object_groups(vtype, owner, anchors, variant.name) or [MemberGroup([])]
                for sub in subs:
                    anchor = sub.anchor
                    if not sub.tag:  # the branch's own members, not a nested branch
                        anchor = f"{owner}.{tag}-{variant.name}"
                        while anchor in anchors:
                            anchor += "_"
                        anchors.add(anchor)
                    groups.append(
                        MemberGroup(
                            sub.rows, sub.tag or tag, sub.value or variant.name,
                            self._type_link(vtype),
                            variant.ifcond.doc_text() if variant.ifcond else "",
                            anchor,
                        )
                    )
        return [g for g in groups if g.rows or g.tag]

    # -- sections ----------------------------------------------------------------

    def _sections(self, defn: Definition, entry: Entry) -> list[SectionView]:
        doc = defn.doc
        out: list[SectionView] = []
        label = _KIND_LABEL.get(defn.meta, "Members")
        members = SectionView("members", label, groups=self._member_groups(defn, entry.name))
        features = SectionView("features", "Features", features=self._features(defn.features, entry.name))
        done: set[str] = set()

        def add_members() -> None:
            if "members" not in done and members.groups:
                out.append(members)
            done.add("members")

        def add_features() -> None:
            if "features" not in done and features.features:
                out.append(features)
            done.add("features")

        sections = doc.all_sections if doc else []
        for n, section in enumerate(sections):
            kind = section.kind
            if kind is Kind.MEMBER:
                add_members()
            elif kind is Kind.FEATURE:
                add_members()
                add_features()
            elif kind is Kind.RETURNS:
                add_members()
                ret = defn.ret_type if isinstance(defn, Command) else None
                text = self._text(section, doc) if section.text.strip() else None
                link = self._type_link(ret) if ret is not None else None
                out.append(SectionView("returns", "Returns", text, type=link))
            elif kind is Kind.ERRORS:
                out.append(SectionView("errors", "Errors", self._text(section, doc)))
            elif kind in (Kind.SINCE, Kind.TODO):
                continue
            elif kind in (Kind.EXAMPLE, Kind.EXAMPLES):
                example = parse_example(section.text, "Example", 0)
                out.append(SectionView("example", "Example", Text([example], self._context(section, doc))))
            elif kind in (Kind.NOTE, Kind.NOTES):
                out.append(SectionView("note", str(kind), self._text(section, doc)))
            elif section.text.strip():
                out.append(SectionView("text", "", self._text(section, doc)))
            if n == 0 and not any(s.kind is Kind.MEMBER for s in sections):
                add_members()  # after the body, when no member is described
        if not sections:
            add_members()
        add_members()
        add_features()
        if isinstance(defn, Command) and "returns" not in {s.kind for s in out} and defn.ret_type:
            out.append(SectionView("returns", "Returns", None, type=self._type_link(defn.ret_type)))
        if isinstance(defn, Command):
            entry.request = self._request(defn)
        return out

    def _context(self, section: Section, doc: QAPIDoc | None) -> Context:
        return Context(self, doc.symbol if doc else None, section.info.fname, section.info.line)

    def _request(self, command: Command) -> Example:
        request: dict[str, object] = {"execute": command.name}
        if isinstance(command.arg_type, ObjectType):
            arguments = minimal_arguments(command.arg_type)
            if arguments:
                request["arguments"] = arguments
        text = json.dumps(request)
        if len(text) > 90:
            text = json.dumps(request, indent=2)
        return Example(0, "Minimal request", [Message("->", text)])


_DEFAULT_PAREN = re.compile(r"\((?:the )?default(?::| is| to| value is)?\s+([^(),]{1,24}?)\s*[),]", re.I)
_DEFAULT_SENTENCE = re.compile(
    r"(?:^|[.;]\s+|\s)(?:the )?default(?:s to| is| value is|:)?\s+([^\s.;,()]{1,24})\s*(?:[.;]|$)",
    re.I | re.M,
)


def stated_default(description: str) -> str:
    """The default value a member's description states ("(default: 64)",
    "Default is 'qcow2'."), or "" when it states none plainly.  QAPI has
    no syntax for defaults; the doc text is where they live."""
    text = _plain(description)
    for pattern in (_DEFAULT_PAREN, _DEFAULT_SENTENCE):
        match = pattern.search(text)
        if match:
            return match.group(1).strip()
    return ""


def _plain(text: str) -> str:
    """Doc text as plain words (for search results): markup dropped."""
    text = re.sub(r":[\w:.-]+:`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", text)
    text = re.sub(r"`+([^`]+?)`+_?", r"\1", text)
    text = re.sub(r"(?<![\w@])@(?=\w)|\*\*?(?=\S)|(?<=\S)\*\*?", "", text)
    return re.sub(r"\s+", " ", text).strip()


def build_model(schema: Schema, suffix: str) -> DocsModel:
    model = DocsModel(schema, suffix)
    model.build()
    return model
