"""``qapigen generate``: schema in, formatted Python package out."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from qapigen.api import load_schema
from qapigen.backends.introspect import introspect
from qapigen.backends.python.formatting import FormatCache
from qapigen.backends.python.model import PackageModel, build_model
from qapigen.backends.python.output import Manifest, WriteReport, digest, sync_tree
from qapigen.backends.python.render import (
    PACKAGE_TEMPLATES,
    Imports,
    PackageImports,
    environment,
)
from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError


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

    def summary(self) -> str:
        r = self.report
        if self.skipped:
            return f"qapigen: {len(r.unchanged)} files up to date ({self.seconds:.2f} s)"
        parts = [f"{len(r.written)} written", f"{len(r.unchanged)} unchanged"]
        if r.deleted:
            parts.append(f"{len(r.deleted)} deleted")
        return (
            f"qapigen: {', '.join(parts)}; {self.formatted} formatted ({self.seconds:.2f} s)"
        )


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


def generate(options: GenerateOptions, check: bool = False) -> GenerateResult:
    start = time.perf_counter()
    root = options.output / options.package
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
    files = formatter.format_all(sources)
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
    report = sync_tree(root, files, manifest, check)
    return GenerateResult(report, time.perf_counter() - start, False, formatter.misses)


def render_package(model: PackageModel, templates: Path | None = None) -> dict[str, str]:
    """Every Python module of the package, unformatted (path -> text)."""
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
        links += [(part.name, target) for target in imports.late()]
        doc = (
            f"Definitions from ``{part.source}``.\n\n"
            "Generated by qapigen from the QAPI schema; do not edit."
        )
        sources[f"{part.name}.py"] = (
            header.render(imports=imports, module_doc=doc)
            + body
            + footer.render(imports=imports, exports=part.exports())
        )
    arrays = [t for t in model.types.values() if t.kind == "array"]
    for name, template in (
        ("__init__.py", "package_init.py.jinja"),
        ("registry.py", "registry.py.jinja"),
        ("handlers.py", "handlers.py.jinja"),
    ):
        sources[name] = env.get_template(template).render(model=model, arrays=arrays, links=links)
    sources["skeleton.py"] = env.get_template("skeleton.py.jinja").render(
        model=model, imports=PackageImports()
    )
    return sources


__all__ = ["GenerateOptions", "GenerateResult", "QAPIError", "generate"]
