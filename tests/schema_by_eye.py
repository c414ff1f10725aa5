"""An independent reading of a QAPI schema's definitions, for the tests.

QAPI's syntax is close enough to Python literals (single-quoted strings,
``#`` comments, one top-level dict per definition) that Python's own
parser reads the real schemas; ``true``, ``false`` and ``null`` are the
only names.  This
gives the tests an expectation that shares no code with qapigen's front
end: which definitions a schema has, in which order, with which members.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METAS = ("enum", "struct", "union", "alternate", "command", "event")


@dataclass(frozen=True)
class Definition:
    meta: str
    name: str
    expr: dict[str, Any]
    file: Path


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Name) and node.id in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[node.id]
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.List):
        return [_value(e) for e in node.elts]
    return ast.literal_eval(node)


def _top_level(text: str) -> list[ast.expr]:
    """The top-level expressions of a schema file.  Python would reject an
    indented expression, so the file is read as one list: a comma goes
    after each top-level closing brace (outside strings and comments)."""
    out: list[str] = []
    depth, quoted, comment, escaped = 0, False, False, False
    for char in text:
        out.append(char)
        if comment:
            comment = char != "\n"
        elif quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "'":
                quoted = False
        elif char == "'":
            quoted = True
        elif char == "#":
            comment = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                out.append(",")
    tree = ast.parse("[\n" + "".join(out) + "\n]", mode="eval")
    assert isinstance(tree.body, ast.List)
    return tree.body.elts


def definitions(path: Path, seen: set[Path] | None = None) -> list[Definition]:
    """The definitions of *path* and the files it includes (each file once,
    at its first include, as QEMU reads them), in source order."""
    seen = set() if seen is None else seen
    path = path.resolve()
    seen.add(path)
    found: list[Definition] = []
    for node in _top_level(path.read_text(encoding="utf-8")):
        expr = _value(node)
        if "include" in expr:
            sub = (path.parent / expr["include"]).resolve()
            if sub not in seen:
                found += definitions(sub, seen)
            continue
        metas = [meta for meta in METAS if meta in expr]
        if metas:
            found.append(Definition(metas[0], expr[metas[0]], expr, path))
    return found


def members(expr: dict[str, Any]) -> list[tuple[str, bool]]:
    """(name, optional) of each member a struct's or command's inline
    ``data`` declares."""
    data = expr.get("data", {})
    if not isinstance(data, dict):
        return []
    return [(key.lstrip("*"), key.startswith("*")) for key in data]
