"""What the Python templates render: names and structures, no source text.

:func:`build_model` walks the IR once and decides everything a template
needs: the Python name of every type, member, command and event (see
:mod:`naming`), which generated module each definition lives in, the order
of definitions inside a module (bases before the classes that extend
them), and how each module is split so that none grows large.  Splitting
matters because black costs about 22 s per MB: a one-line schema change
must only cost reformatting one small module.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from qapigen.backends.python import naming
from qapigen.errors import QAPIError
from qapigen.frontend.docs import QAPIDoc
from qapigen.ir import (
    AlternateType,
    ArrayType,
    BuiltinType,
    Command,
    Definition,
    EnumType,
    Event,
    ObjectMember,
    ObjectType,
    Schema,
    Type,
)
from qapigen.ir.ifcond import IfCond

Kind = Literal["builtin", "enum", "struct", "union", "alternate", "array"]

#: Python spelling of each QAPI builtin type.
BUILTIN_PYTHON = {
    "str": "str",
    "number": "float",
    "int": "int",
    "int8": "int",
    "int16": "int",
    "int32": "int",
    "int64": "int",
    "uint8": "int",
    "uint16": "int",
    "uint32": "int",
    "uint64": "int",
    "size": "int",
    "bool": "bool",
    "null": "Null",
    "any": "object",
    "QType": "QType",
}

#: JSON types an alternate tells its branches apart by, in QEMU's order.
JSON_KINDS = ("object", "array", "string", "number", "boolean", "null")

#: Rough unformatted-size budget of one generated module.
PART_BUDGET = 24_000


@dataclass(eq=False)
class TypeRef:
    """A use of a type: enough to annotate, decode and encode it."""

    kind: Kind
    name: str  # QAPI name
    py: str  # Python class, alias or builtin type
    module: str = ""  # generated module defining it ("" for builtins)
    builtin: str = ""  # QAPI builtin name, for kind == "builtin"
    element: TypeRef | None = None  # for arrays
    special: bool = False  # an enum with deprecated or unstable values

    @property
    def json_kind(self) -> str:
        """The JSON type of values of this type (for alternates)."""
        if self.kind == "builtin":
            return {
                "str": "string",
                "bool": "boolean",
                "null": "null",
                "number": "number",
                "any": "value",
            }.get(self.builtin, "number")
        return {"enum": "string", "array": "array"}.get(self.kind, "object")


@dataclass(eq=False)
class Member:
    wire: str
    py: str
    type: TypeRef
    optional: bool
    doc: str = ""
    deprecated: bool = False
    unstable: bool = False
    # A union branch whose type is itself a union: the inner union's value,
    # whose members sit in the same JSON object as the outer union's.
    flat: bool = False

    @property
    def special(self) -> bool:
        """Whether the compat policy looks at this member."""
        return self.deprecated or self.unstable


@dataclass(eq=False)
class EnumValue:
    wire: str
    py: str
    doc: str = ""
    deprecated: bool = False
    unstable: bool = False


@dataclass(eq=False)
class Definition_:
    """Common part of everything a module defines."""

    name: str
    py: str
    module: str = ""
    doc: str = ""
    deprecated: bool = False
    unstable: bool = False
    features: list[str] = field(default_factory=list)
    ifcond: str = ""


@dataclass(eq=False)
class EnumDef(Definition_):
    kind: ClassVar[str] = "enum"
    values: list[EnumValue] = field(default_factory=list)


@dataclass(eq=False)
class StructDef(Definition_):
    kind: ClassVar[str] = "struct"
    base: TypeRef | None = None
    members: list[Member] = field(default_factory=list)  # base members first
    local_members: list[Member] = field(default_factory=list)
    # Set for union branch classes: the tag member and its fixed value.
    tag: Member | None = None
    tag_value: EnumValue | None = None
    tag_enum: TypeRef | None = None
    # Bases of unions get ``wire_fields``, which their branches reuse.
    union_base: bool = False

    @property
    def ref(self) -> TypeRef:
        """A reference to this class (union branches have no QAPI name)."""
        return TypeRef("struct", self.name, self.py, self.module)


@dataclass(eq=False)
class UnionDef(Definition_):
    kind: ClassVar[str] = "union"
    base: TypeRef | None = None
    tag: Member | None = None
    base_members: list[Member] = field(default_factory=list)
    branches: list[StructDef] = field(default_factory=list)

    @property
    def shared(self) -> list[Member]:
        """Members every branch has besides the tag (from the base)."""
        assert self.tag is not None
        return [m for m in self.base_members if m.wire != self.tag.wire]


@dataclass(eq=False)
class AlternateBranch:
    json_kind: str
    type: TypeRef


@dataclass(eq=False)
class AlternateDef(Definition_):
    kind: ClassVar[str] = "alternate"
    branches: list[AlternateBranch] = field(default_factory=list)


@dataclass(eq=False)
class CommandDef(Definition_):
    kind: ClassVar[str] = "command"
    method: str = ""
    arg_type: TypeRef | None = None
    args: list[Member] = field(default_factory=list)  # unpacked, when not boxed
    boxed: bool = False
    ret: TypeRef | None = None
    success_response: bool = True
    allow_oob: bool = False
    allow_preconfig: bool = False
    coroutine: bool = False


@dataclass(eq=False)
class EventDef(Definition_):
    kind: ClassVar[str] = "event"
    arg_type: TypeRef | None = None
    members: list[Member] = field(default_factory=list)
    boxed: bool = False


AnyDef = EnumDef | StructDef | UnionDef | AlternateDef | CommandDef | EventDef


@dataclass(eq=False)
class ModulePart:
    """One generated Python module: part of one schema module."""

    name: str  # Python module name
    source: str  # schema module it comes from
    definitions: list[AnyDef] = field(default_factory=list)
    # Generated modules whose names are needed while this one is imported.
    import_deps: set[str] = field(default_factory=set)

    @property
    def commands(self) -> list[CommandDef]:
        return [d for d in self.definitions if isinstance(d, CommandDef)]

    @property
    def has_commands(self) -> bool:
        return bool(self.commands)

    def exports(self) -> list[str]:
        """The public names the module defines, for ``__all__``."""
        names: list[str] = []
        for d in self.definitions:
            if isinstance(d, CommandDef):
                continue
            names.append(d.py)
            if isinstance(d, UnionDef):
                names.append(f"{d.py}_from_wire")
            if isinstance(d, AlternateDef):
                names += [f"{d.py}_from_wire", f"{d.py}_to_wire"]
        return names

    def of(self, cls: type[AnyDef]) -> list[AnyDef]:
        return [d for d in self.definitions if isinstance(d, cls)]


@dataclass(eq=False)
class PackageModel:
    package: str
    parts: list[ModulePart]  # in import order
    types: dict[str, TypeRef]  # every QAPI type, implicit ones too
    commands: list[CommandDef]
    events: list[EventDef]
    schema_module: str


def _doc_text(doc: QAPIDoc | None) -> str:
    return doc.body.text.strip() if doc else ""


def _member_doc(doc: QAPIDoc | None, name: str) -> str:
    if doc and name in doc.args:
        return doc.args[name].text.strip()
    return ""


def _features(features: Iterable[object]) -> tuple[list[str], bool, bool]:
    names = [f.name for f in features]  # type: ignore[attr-defined]
    return names, "deprecated" in names, "unstable" in names


class _Builder:
    def __init__(self, schema: Schema, package: str, conditions: list[str] | None) -> None:
        self.schema = schema
        self.package = package
        self.conditions = conditions
        # Every module-level Python name of the package.
        self.names = naming.NameSpace(naming.RESERVED_GLOBAL)
        # Python names of union branch classes and events, claimed before
        # any member is named (members must not hide a class).
        self.branch_py: dict[tuple[str, str], str] = {}
        self.event_py: dict[str, str] = {}
        self.type_refs: dict[str, TypeRef] = {}
        self.defs: dict[str, AnyDef] = {}
        self.module_of: dict[str, str] = {}  # QAPI definition name -> schema module

    # -- conditions ---------------------------------------------------------

    def enabled(self, ifcond: IfCond | None) -> bool:
        """Whether something with condition *ifcond* is generated: with no
        symbols configured every condition holds."""
        if ifcond is None or self.conditions is None:
            return True
        return ifcond.evaluate(self.conditions)

    # -- names --------------------------------------------------------------

    def name_types(self) -> None:
        for typ in self.schema.types():
            if isinstance(typ, BuiltinType):
                py = BUILTIN_PYTHON.get(typ.name, typ.name)
                self.type_refs[typ.name] = TypeRef("builtin", typ.name, py, builtin=typ.name)
            elif isinstance(typ, ArrayType):
                continue
            elif self.enabled(typ.ifcond):
                kind: Kind
                if isinstance(typ, EnumType):
                    kind = "enum"
                elif isinstance(typ, AlternateType):
                    kind = "alternate"
                elif isinstance(typ, ObjectType):
                    kind = "union" if typ.branches else "struct"
                else:  # pragma: no cover
                    raise AssertionError(typ)
                if typ.name == "QType":
                    kind = "enum"
                py = self.names.claim(naming.type_name(typ.name), _derived_names)
                self.type_refs[typ.name] = TypeRef(kind, typ.name, py)
        for typ in self.schema.types():
            if isinstance(typ, ArrayType) and typ.element_type.name in self.type_refs:
                element = self.type_refs[typ.element_type.name]
                self.type_refs[typ.name] = TypeRef(
                    "array", typ.name, f"list[{element.py}]", element=element
                )

    def ref(self, typ: Type) -> TypeRef:
        try:
            return self.type_refs[typ.name]
        except KeyError:
            raise QAPIError(
                f"'{typ.name}' is used by a definition that is generated, but its own "
                "'if' condition is false"
            ) from None

    def attribute(self, wire: str) -> str:
        """The Python name of member *wire*: :func:`naming.attribute_name`,
        and never a module-level name (the class's annotations use those)."""
        name = naming.attribute_name(wire)
        while name in self.names:
            name += "_"
        return name

    def member(self, m: ObjectMember, doc: QAPIDoc | None, py: str | None = None) -> Member:
        _, deprecated, unstable = _features(m.features)
        return Member(
            wire=m.name,
            py=py or self.attribute(m.name),
            type=self.ref(m.type),
            optional=m.optional,
            doc=_member_doc(doc, m.name),
            deprecated=deprecated,
            unstable=unstable,
        )

    def members(self, typ: ObjectType, doc: QAPIDoc | None) -> list[Member]:
        taken = naming.NameSpace()
        return [
            self.member(m, doc, taken.claim(self.attribute(m.name)))
            for m in typ.members
            if self.enabled(m.ifcond)
        ]

    def name_classes(self, wanted: list[Definition]) -> None:
        """Claim the Python names of union branch classes and events, in
        schema order, before members are named."""
        for defn in wanted:
            if isinstance(defn, ObjectType) and defn.branches:
                enum_def = self.defs.get(defn.branches.tag_member.type.name)
                values = {v.wire for v in enum_def.values} if isinstance(enum_def, EnumDef) else set()
                union_py = self.type_refs[defn.name].py
                for variant in defn.branches.variants:
                    if self.enabled(variant.ifcond) and variant.name in values:
                        self.branch_py[defn.name, variant.name] = self.names.claim(
                            naming.global_name(union_py + naming.camel(variant.name))
                        )
            elif isinstance(defn, Event):
                self.event_py[defn.name] = self.names.claim(naming.global_name(naming.camel(defn.name)))

    # -- definitions --------------------------------------------------------

    def common(self, defn: Definition, py: str) -> dict[str, object]:
        names, deprecated, unstable = _features(defn.features)
        return {
            "name": defn.name,
            "py": py,
            "doc": _doc_text(defn.doc),
            "deprecated": deprecated,
            "unstable": unstable,
            "features": names,
            "ifcond": str(defn.ifcond) if defn.ifcond else "",
        }

    def enum(self, typ: EnumType) -> EnumDef:
        values = []
        taken = naming.NameSpace()
        for m in typ.members:
            if not self.enabled(m.ifcond):
                continue
            _, deprecated, unstable = _features(m.features)
            values.append(
                EnumValue(
                    m.name,
                    taken.claim(naming.enum_member_name(m.name)),
                    _member_doc(typ.doc, m.name),
                    deprecated,
                    unstable,
                )
            )
        ref = self.type_refs[typ.name]
        ref.special = any(v.deprecated or v.unstable for v in values)
        return EnumDef(**self.common(typ, ref.py), values=values)  # type: ignore[arg-type]

    def struct(self, typ: ObjectType) -> StructDef:
        base = typ.base
        members = self.members(typ, typ.doc)
        # The same Member objects: a name made unique in the whole list must
        # be the name the class declares.
        local = {m.name for m in typ.local_members}
        return StructDef(
            **self.common(typ, self.type_refs[typ.name].py),  # type: ignore[arg-type]
            base=self.ref(base) if base else None,
            members=members,
            local_members=[m for m in members if m.wire in local],
        )

    def union(self, typ: ObjectType) -> UnionDef:
        assert (typ.branches is not None and typ.base is not None) or typ.branches is not None
        branches = typ.branches
        assert branches is not None
        base = typ.base
        tag_ir = branches.tag_member
        all_members = self.members(typ, typ.doc)
        # Everything but the branches: the base's members, or (a legacy
        # simple union, which has no base) just the tag.
        base_members = all_members
        tag = next(m for m in all_members if m.wire == tag_ir.name)
        tag_enum = self.ref(tag_ir.type)
        enum_def = self.defs.get(tag_ir.type.name)
        enum_values = {v.wire: v for v in enum_def.values} if isinstance(enum_def, EnumDef) else {}
        union_py = self.type_refs[typ.name].py
        result = UnionDef(
            **self.common(typ, union_py),  # type: ignore[arg-type]
            base=self.ref(base) if base else None,
            tag=tag,
            base_members=base_members,
        )
        for variant in branches.variants:
            if not self.enabled(variant.ifcond) or variant.name not in enum_values:
                continue
            vtype = variant.type
            assert isinstance(vtype, ObjectType)
            taken = naming.NameSpace({m.py for m in base_members})
            if vtype.branches:
                # The branch's members depend on the inner union's tag: hold
                # the inner union's value (as QEMU's C holds ``u.<branch>``).
                variant_members = [
                    Member(
                        wire=variant.name,
                        py=taken.claim(self.attribute(variant.name)),
                        type=self.ref(vtype),
                        optional=False,
                        flat=True,
                    )
                ]
            else:
                variant_members = [
                    self.member(m, vtype.doc, taken.claim(self.attribute(m.name)))
                    for m in vtype.members
                    if self.enabled(m.ifcond)
                ]
            branch_py = self.branch_py[typ.name, variant.name]
            branch = StructDef(
                name=f"{typ.name}:{variant.name}",
                py=branch_py,
                doc=f"The ``{variant.name}`` branch of :data:`{union_py}`.",
                base=self.ref(base) if base else None,
                members=base_members + variant_members,
                local_members=variant_members,
                tag=tag,
                tag_value=enum_values[variant.name],
                tag_enum=tag_enum,
            )
            result.branches.append(branch)
        return result

    def alternate(self, typ: AlternateType) -> AlternateDef:
        branches = []
        for variant in typ.alternatives.variants:
            if not self.enabled(variant.ifcond):
                continue
            ref = self.ref(variant.type)
            branches.append(AlternateBranch(ref.json_kind, ref))
        branches.sort(key=lambda b: JSON_KINDS.index(b.json_kind) if b.json_kind in JSON_KINDS else 99)
        return AlternateDef(**self.common(typ, self.type_refs[typ.name].py), branches=branches)  # type: ignore[arg-type]

    def command(self, cmd: Command, method: str) -> CommandDef:
        arg_type = cmd.arg_type
        args: list[Member] = []
        if isinstance(arg_type, ObjectType) and not cmd.boxed:
            args = self.members(arg_type, cmd.doc)
        ret = cmd.ret_type
        return CommandDef(
            **self.common(cmd, method),  # type: ignore[arg-type]
            method=method,
            arg_type=self.ref(arg_type) if arg_type is not None and not arg_type.is_empty() else None,
            args=args,
            boxed=cmd.boxed,
            ret=self.ref(ret) if ret is not None else None,
            success_response=cmd.success_response,
            allow_oob=cmd.allow_oob,
            allow_preconfig=cmd.allow_preconfig,
            coroutine=cmd.coroutine,
        )

    def event(self, event: Event, py: str) -> EventDef:
        arg_type = event.arg_type
        return EventDef(
            **self.common(event, py),  # type: ignore[arg-type]
            arg_type=self.ref(arg_type) if arg_type is not None and not arg_type.is_empty() else None,
            members=(
                self.members(arg_type, event.doc)
                if isinstance(arg_type, ObjectType) and not event.boxed
                else []
            ),
            boxed=event.boxed,
        )

    # -- the whole package ------------------------------------------------

    def build(self) -> PackageModel:
        self.name_types()
        by_module: dict[str, list[AnyDef]] = {}
        commands: list[CommandDef] = []
        events: list[EventDef] = []
        # Handler methods are class attributes: they must not hide a class
        # that the handler classes' annotations name.
        methods = naming.NameSpace(_RESERVED_METHODS | self.names.claimed())
        wanted = [
            d for d in self.schema.definitions()
            if not isinstance(d, (BuiltinType, ArrayType)) and self.enabled(d.ifcond)
        ]
        # Enums first: union branches need their tag enum's Python names.
        for defn in wanted:
            if isinstance(defn, EnumType):
                self.defs[defn.name] = self.enum(defn)
        self.name_classes(wanted)
        for defn in wanted:
            made: AnyDef
            if isinstance(defn, EnumType):
                made = self.defs[defn.name]
            elif isinstance(defn, ObjectType):
                made = self.union(defn) if defn.branches else self.struct(defn)
            elif isinstance(defn, AlternateType):
                made = self.alternate(defn)
            elif isinstance(defn, Command):
                made = self.command(defn, methods.claim(naming.snake(defn.name)))
                commands.append(made)
            elif isinstance(defn, Event):
                made = self.event(defn, self.event_py[defn.name])
                events.append(made)
            else:  # pragma: no cover
                continue
            self.defs[defn.name] = made
            source = defn.module.name
            self.module_of[defn.name] = source
            by_module.setdefault(source, []).append(made)
        for made in self.defs.values():
            if isinstance(made, UnionDef) and made.base is not None:
                base_def = self.defs.get(made.base.name)
                if isinstance(base_def, StructDef):
                    base_def.union_base = True
        parts = self.partition(by_module)
        return PackageModel(
            package=self.package,
            parts=parts,
            types=self.type_refs,
            commands=commands,
            events=events,
            schema_module=self.schema.main_module.name,
        )

    def module_reserved(self) -> set[str]:
        """What a generated module may not be called: the package's own
        modules, every module-level name (``__init__`` imports both), the
        helpers' names (``_<module>`` must not be a helper's alias), and
        the private functions derived from commands (``_call_<method>``)."""
        reserved = set(_RESERVED_MODULES) | self.names.claimed()
        reserved |= _helper_names()
        for d in self.defs.values():
            if isinstance(d, CommandDef):
                reserved.update(p + d.method for p in naming.PRIVATE_PREFIXES)
        return reserved

    def partition(self, by_module: dict[str, list[AnyDef]]) -> list[ModulePart]:
        """Cut each schema module into parts under the size budget, with
        every class after the classes it extends."""
        module_names = naming.NameSpace(self.module_reserved())
        parts: list[ModulePart] = []
        for source, defs in by_module.items():
            # A union's branch classes are definitions of their own, so
            # that one huge union does not make one huge module.
            expanded: list[AnyDef] = []
            for d in defs:
                if isinstance(d, UnionDef):
                    expanded.extend(d.branches)
                expanded.append(d)
            ordered = _bases_first(expanded, self.defs)
            chunks: list[list[AnyDef]] = [[]]
            size = 0
            for d in ordered:
                weight = _weight(d)
                if chunks[-1] and size + weight > PART_BUDGET:
                    chunks.append([])
                    size = 0
                chunks[-1].append(d)
                size += weight
            base = naming.module_name(source)
            for i, chunk in enumerate(chunks, 1):
                name = module_names.claim(base if len(chunks) == 1 else f"{base}_{i}")
                part = ModulePart(name, source, chunk)
                for d in chunk:
                    d.module = name
                    if d.name in self.type_refs:
                        self.type_refs[d.name].module = name
                parts.append(part)
        for part in parts:
            for d in part.definitions:
                for dep in _import_time_deps(d):
                    if dep.module and dep.module != part.name:
                        part.import_deps.add(dep.module)
        return _import_order(parts)


def _weight(d: AnyDef) -> int:
    """Roughly how many characters the definition renders to (measured on
    QEMU's schema: about 230 per member, plus the docs)."""
    if isinstance(d, EnumDef):
        return 300 + len(d.doc) + sum(40 + len(v.doc) for v in d.values)
    if isinstance(d, UnionDef):
        return 700 + len(d.doc) + sum(_weight(b) for b in d.branches)
    members: list[Member] = []
    if isinstance(d, StructDef):
        members = d.local_members if d.tag else d.members
    elif isinstance(d, CommandDef):
        members = d.args
    elif isinstance(d, EventDef):
        members = d.members
    return 700 + len(d.doc) + sum(230 + len(m.doc) for m in members)


def _import_time_deps(d: AnyDef) -> list[TypeRef]:
    """Types a definition needs while its module is being imported:
    base classes, and the enums whose values are class-level defaults."""
    deps: list[TypeRef] = []
    if isinstance(d, StructDef) and d.base is not None:
        deps.append(d.base)
    if isinstance(d, EventDef) and d.arg_type is not None and not d.boxed:
        deps.append(d.arg_type)
    if isinstance(d, StructDef) and d.tag_enum is not None:
        deps.append(d.tag_enum)
    if isinstance(d, UnionDef):
        # The branch table is built when the module is imported.
        deps.extend(b.ref for b in d.branches)
    return deps


def _bases_first(defs: list[AnyDef], all_defs: dict[str, AnyDef]) -> list[AnyDef]:
    """Stable order in which a class never precedes the classes it extends."""
    local = {d.name: d for d in defs}
    placed: set[str] = set()
    out: list[AnyDef] = []

    def place(d: AnyDef) -> None:
        if d.name in placed:
            return
        placed.add(d.name)
        for dep in _import_time_deps(d):
            target = local.get(dep.name)
            if target is not None:
                place(target)
        out.append(d)

    for d in defs:
        place(d)
    return out


def _import_order(parts: list[ModulePart]) -> list[ModulePart]:
    """Parts in an order where each comes after the parts it needs at
    import time; a cycle there cannot be imported and is a generator error."""
    by_name = {p.name: p for p in parts}
    state: dict[str, int] = {}
    out: list[ModulePart] = []

    def visit(p: ModulePart, chain: list[str]) -> None:
        mark = state.get(p.name, 0)
        if mark == 2:
            return
        if mark == 1:
            raise QAPIError(
                "generated modules would import each other in a cycle: "
                + " -> ".join([*chain, p.name])
            )
        state[p.name] = 1
        for dep in sorted(p.import_deps):
            visit(by_name[dep], [*chain, p.name])
        state[p.name] = 2
        out.append(p)

    for p in parts:
        visit(p, [])
    return out


# Names of the generated package's own modules, and what they import.
_RESERVED_MODULES = (
    frozenset(
        {"commands", "events", "introspection", "handlers", "skeleton", "registry", "client",
         "json", "resources", "importlib"}
    )
    | naming.KEYWORDS
    | naming.RESERVED_GLOBAL
)
#: Method names the client's base class (qapigen.support.client.ClientBase)
#: uses for itself: a command method must not hide them.
_RESERVED_METHODS = frozenset(
    {"dispatch", "connect", "close", "execute", "events", "check_schema", "greeting",
     "capabilities", "enabled", "server_version", "event_messages", "PACKAGE"}
)


def _derived_names(py: str) -> list[str]:
    """The module-level names the templates derive from a type's Python
    name: ``T_from_wire``/``T_to_wire`` (unions, alternates), ``T_BY_WIRE``
    (enums), and a union's private tables (upper-cased, so ``Foo`` and
    ``FOo`` would share them).  A type's name is chosen so that all of
    them are free."""
    upper = py.upper()
    return [
        f"{py}_from_wire", f"{py}_to_wire", f"{py}_BY_WIRE",
        f"_{upper}_BRANCHES", f"_FAST_{upper}_DECODERS",
    ]


@functools.cache
def _helper_names() -> frozenset[str]:
    """Every public name of the modules generated code imports from."""
    names: set[str] = set()
    for module in naming.HELPER_MODULES:
        namespace = vars(importlib.import_module(module))
        names.update(
            n for n, v in namespace.items()
            if not n.startswith("_") and not isinstance(v, types.ModuleType)
        )
    return frozenset(names)


def build_model(schema: Schema, package: str, conditions: list[str] | None = None) -> PackageModel:
    return _Builder(schema, package, conditions).build()
