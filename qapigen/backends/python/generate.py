"""``qapigen generate``: schema in, formatted Python package out."""

from __future__ import annotations

import hashlib
import json
import keyword
import os
import time
from dataclasses import dataclass
from pathlib import Path

from qapigen.api import load_schema
from qapigen.backends.introspect import introspect
from qapigen.backends.python.formatting import FormatCache, Progress
from qapigen.backends.python.model import PackageModel, StructDef, TypeRef, build_model
from qapigen.backends.python.output import Manifest, WriteReport, digest, sync_tree
from qapigen.backends.python.render import (
    PACKAGE_TEMPLATES,
    Imports,
    PackageImports,
    environment,
    template_problem,
)
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError, UsageError


@dataclass
class GenerateOptions:
    schema: Path
    output: Path
    package: str = "qmp"
    dialect: Dialect = Dialect.QEMU
    doc_comments: DocComments = DocComments.PARSE
    formatter: str = "black"
    templates: Path | None = None
    conditions: list[str] | None = None
    cache_dir: Path | None = None


@dataclass
class GenerateResult:
    report: WriteReport
    seconds: float
    skipped: bool  # nothing to do: inputs and outputs as last recorded
    formatted: int = 0  # modules that had to be formatted (cache misses)
    cached: int = 0  # modules whose formatted text came from the cache
    formatter: str = "none"

    def summary(self) -> str:
        r = self.report
        took = f"({self.seconds:.2f} s)"
        if self.skipped:
            return f"qapigen: {_count(len(r.unchanged), 'file')} up to date, nothing to do {took}"
        parts = [f"{len(r.written)} written", f"{len(r.unchanged)} unchanged"]
        if r.deleted:
            parts.append(f"{len(r.deleted)} deleted")
        text = f"qapigen: {', '.join(parts)}"
        if self.formatter != "none":
            text += f"; {self.formatter}: {self.formatting()}"
        return f"{text} {took}"

    def formatting(self) -> str:
        """What the formatter did, saying so when it had nothing to do."""
        if not self.formatted:
            return f"all {_count(self.cached, 'module')} from cache"
        if not self.cached:
            return f"{_count(self.formatted, 'module')} formatted"
        return f"{_count(self.formatted, 'module')} formatted, {self.cached} from cache"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def check_package_name(name: str) -> None:
    """Refuse a package name that ``import`` could not spell."""
    if not name:
        raise UsageError("the package name is empty")
    if not name.isidentifier():
        raise UsageError(f"package name '{name}' is not a Python identifier")
    if keyword.iskeyword(name):
        raise UsageError(f"package name '{name}' is a Python keyword; it could not be imported")


def prepare_output(root: Path, check: bool) -> None:
    """Make sure the package folder *root* can be written (created unless
    *check*), with one clear error when it can't."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        if existing == root:
            raise UsageError(f"'{root}' exists and is not a folder; the package goes there")
        raise UsageError(f"output folder '{existing}' is a file, not a folder")
    if check:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"can't create output folder '{root}': {err.strerror}") from err
    if not os.access(root, os.W_OK):
        raise UsageError(f"output folder '{root}' is not writable")


def _fingerprint(options: GenerateOptions, root: Path) -> str:
    """Everything besides the schema files' contents that decides the output."""
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [
                os.path.relpath(options.schema, root), options.package,
                options.dialect.value, options.doc_comments.value,
                options.formatter, options.conditions,
            ]
        ).encode()
    )
    # The code that decides what is generated (not, say, the QMP server).
    code = Path(__file__).resolve().parents[2]
    folders = [PACKAGE_TEMPLATES, options.templates]
    folders += [code / "frontend", code / "ir", code / "backends"]
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".jinja", ".lark") and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(folder)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def generate(
    options: GenerateOptions, check: bool = False, progress: Progress | None = None
) -> GenerateResult:
    """Write (or with *check*, compare) the package; *progress* hears how
    formatting goes, module by module."""
    start = time.perf_counter()
    check_package_name(options.package)
    if options.templates is not None and not options.templates.is_dir():
        raise UsageError(f"templates folder '{options.templates}' does not exist")
    root = options.output / options.package
    prepare_output(root, check)
    fingerprint = _fingerprint(options, root)
    previous = Manifest.load(root)
    # --check never trusts the manifest's record: CI relies on it to find
    # hand edits of generated files and of the manifest itself.
    if not check and previous.up_to_date(root, fingerprint):
        report = WriteReport(unchanged=sorted(previous.outputs))
        return GenerateResult(report, time.perf_counter() - start, skipped=True)

    schema = load_schema(str(options.schema), options.dialect, options.doc_comments)
    model = build_model(schema, options.package, options.conditions)
    sources = render_package(model, options.templates)
    formatter = FormatCache(options.formatter, options.cache_dir)
    files = formatter.format_all(sources, progress)
    info = introspect(schema, set(options.conditions) if options.conditions is not None else None)
    files["schema_info.json"] = "[\n" + ",\n".join(json.dumps(e, sort_keys=False) for e in info) + "\n]\n"
    files["py.typed"] = ""

    schema_dir = os.path.dirname(str(options.schema))
    inputs: dict[str, str] = {}
    for module in schema.modules:
        if module.is_system:
            continue
        path = os.path.join(schema_dir, module.name)
        try:
            inputs[os.path.relpath(path, root)] = digest(Path(path).read_bytes())
        except OSError:
            continue
    manifest = Manifest(fingerprint, inputs)
    try:
        report = sync_tree(root, files, manifest, check)
    except OSError as err:
        raise UsageError(f"can't write '{err.filename}': {err.strerror}") from err
    return GenerateResult(
        report, time.perf_counter() - start, False, formatter.misses,
        formatter.hits, options.formatter,
    )


def render_package(model: PackageModel, templates: Path | None = None) -> dict[str, str]:
    """Every Python module of the package, unformatted (path -> text).

    With user *templates*, a mistake in one (a syntax error, an undefined
    name) is the user's: it becomes one line with the template's
    ``file:line`` and jinja2's message.
    """
    try:
        return _render(model, templates)
    except Exception as err:
        problem = template_problem(err) if templates is not None else None
        if problem is None:
            raise
        raise UsageError(problem) from err


def _render(model: PackageModel, templates: Path | None) -> dict[str, str]:
    env = environment(templates)
    header = env.get_template("_header.py.jinja")
    footer = env.get_template("_footer.py.jinja")
    part_template = env.get_template("part.py.jinja")
    sources: dict[str, str] = {}
    links: list[tuple[str, str]] = []  # (module, module it uses at run time)
    for part in model.parts:
        imports = Imports(part.name)
        body = part_template.render(part=part, imports=imports, model=model)
        if imports.type_checking() or imports.late():
            imports.typing("TYPE_CHECKING")
        imports.check()
        links += [(part.name, target) for target in imports.late()]
        doc = (
            f"Definitions from ``{part.source}``.\n\n"
            "Generated by qapigen from the QAPI schema; do not edit."
        )
        sources[f"{part.name}.py"] = (
            header.render(imports=imports, module_doc=doc)
            + body
            + footer.render(imports=imports, exports=part.exports(), part=part)
        )
    arrays = [t for t in model.types.values() if t.kind == "array"]
    for name, template in (
        ("__init__.py", "package_init.py.jinja"),
        ("registry.py", "registry.py.jinja"),
    ):
        sources[name] = env.get_template(template).render(model=model, arrays=arrays, links=links)
    # handlers.py refers to the types only in annotations, which its
    # header imports under TYPE_CHECKING: subclassing Handlers loads nothing.
    imports = Imports("handlers")
    body = env.get_template("handlers.py.jinja").render(model=model, imports=imports)
    if imports.type_checking():
        imports.typing("TYPE_CHECKING")
    doc = (
        "The interface a QMP server implements: one method per command.\n\n"
        "Generated by qapigen; do not edit.  Subclass :class:`Handlers` and override\n"
        "the commands you support (plain or ``async`` methods); every other command\n"
        'answers ``GenericError`` "not implemented".  ``skeleton.py`` beside this\n'
        "file lists every method, ready to copy."
    )
    sources["handlers.py"] = (
        header.render(imports=imports, module_doc=doc)
        + body
        + footer.render(imports=imports, exports=["Handlers"], part=None)
    )
    sources["skeleton.py"] = env.get_template("skeleton.py.jinja").render(
        model=model, imports=PackageImports()
    )
    # client.py, like handlers.py, names the types in annotations only.
    imports = Imports("client")
    body = env.get_template("client.py.jinja").render(
        model=model, imports=imports, transaction_mode=_transaction_mode(model)
    )
    if imports.type_checking():
        imports.typing("TYPE_CHECKING")
    doc = (
        "A typed asyncio QMP client for this schema.\n\n"
        "Generated by qapigen; do not edit.  :class:`Client` has one method per\n"
        "command; the connection, events and schema check are\n"
        "``qapigen.support.client``'s, re-exported here with :class:`SyncClient`,\n"
        ":class:`QMPError` and :class:`CommandError`."
    )
    exports = ["Client", "SyncClient", "QMPError", "CommandError"]
    sources["client.py"] = (
        header.render(imports=imports, module_doc=doc)
        + body
        + footer.render(imports=imports, exports=exports, part=None)
    )
    return sources


@dataclass(frozen=True)
class _TransactionMode:
    """The types of ``transaction``'s convenience signature."""

    actions: TypeRef
    properties: TypeRef
    mode: TypeRef


def _transaction_mode(model: PackageModel) -> _TransactionMode | None:
    """``transaction(actions, *, completion_mode=...)`` for the client, when
    the schema's ``transaction`` has QEMU's shape (``actions``, and
    ``properties`` with ``completion-mode``)."""
    command = next((c for c in model.commands if c.name == "transaction"), None)
    if command is None or command.boxed or [a.wire for a in command.args] != ["actions", "properties"]:
        return None
    actions, properties = command.args
    if actions.type.element is None:
        return None
    for part in model.parts:
        for d in part.definitions:
            if d.name == properties.type.name and isinstance(d, StructDef):
                member = next((mb for mb in d.members if mb.wire == "completion-mode"), None)
                if member is not None and len(d.members) == 1:
                    return _TransactionMode(actions.type.element, properties.type, member.type)
    return None


__all__ = ["GenerateOptions", "GenerateResult", "QAPIError", "UsageError", "generate"]
