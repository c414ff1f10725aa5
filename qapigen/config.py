"""Settings from ``[tool.qapigen]`` in ``pyproject.toml``.

Command-line flags win over the file, the file wins over the defaults.
The file is looked for in the working directory and its parents, the way
tools such as black and ruff find theirs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from qapigen.dialect import Dialect, DocComments
from qapigen.errors import QAPIError

FORMATTERS = ("black", "ruff", "none")


@dataclass
class Config:
    """What ``[tool.qapigen]`` may set; paths are relative to the file."""

    schema: Path | None = None
    output: Path = Path("generated")
    package: str = "qmp"
    dialect: Dialect = Dialect.QEMU
    doc_comments: DocComments = DocComments.PARSE
    formatter: str = "black"
    templates: Path | None = None
    # Condition symbols for 'if': None means "every condition is true".
    conditions: list[str] | None = None
    # docs = true / "html" / "markdown": `generate` also writes OUTPUT/docs.
    docs: str | None = None
    source: Path | None = field(default=None, repr=False)


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(pyproject: Path | None = None) -> Config:
    """Read the settings, or return the defaults when there are none."""
    path = pyproject or find_pyproject()
    if path is None:
        return Config()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise QAPIError(f"can't read '{path}': {err}") from err
    table = data.get("tool", {}).get("qapigen")
    if table is None:
        return Config(source=path)
    if not isinstance(table, dict):
        raise QAPIError(f"{path}: [tool.qapigen] must be a table")
    return _from_table(table, path)


def _from_table(table: dict[str, object], path: Path) -> Config:
    base = path.parent
    known = {
        "schema", "output", "package", "dialect", "doc-comments",
        "formatter", "templates", "conditions", "docs",
    }
    for key in table:
        if key not in known:
            raise QAPIError(f"{path}: unknown setting '{key}' in [tool.qapigen]")

    def text(key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise QAPIError(f"{path}: [tool.qapigen] {key} must be a string")
        return value

    def choice(key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = text(key, default)
        if value not in allowed:
            raise QAPIError(
                f"{path}: [tool.qapigen] {key} must be one of {', '.join(allowed)}"
            )
        return value

    conditions = table.get("conditions")
    if conditions is not None and (
        not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions)
    ):
        raise QAPIError(f"{path}: [tool.qapigen] conditions must be a list of strings")
    docs = table.get("docs", False)
    if docs is True:
        docs = "html"
    if docs is not False and docs not in ("html", "markdown"):
        raise QAPIError(f"{path}: [tool.qapigen] docs must be true, false, \"html\" or \"markdown\"")
    schema = table.get("schema")
    templates = table.get("templates")
    return Config(
        schema=base / text("schema", "") if schema is not None else None,
        output=base / text("output", "generated"),
        package=text("package", "qmp"),
        dialect=Dialect(choice("dialect", "qemu", tuple(d.value for d in Dialect))),
        doc_comments=DocComments(
            choice("doc-comments", "parse", tuple(d.value for d in DocComments))
        ),
        formatter=choice("formatter", "black", FORMATTERS),
        templates=base / text("templates", "") if templates is not None else None,
        conditions=list(conditions) if conditions is not None else None,
        docs=docs or None,
        source=path,
    )
