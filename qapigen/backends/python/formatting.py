"""Formatting generated modules, with a cache keyed by content.

black is by far the slowest step of generation (about 22 s per MB of
output), so a module whose rendered text has been formatted before is never
formatted again: the result is looked up by a hash of the formatter's name
and version and the unformatted text.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from qapigen.errors import QAPIError

BLACK_LINE_LENGTH = 88


def _black(source: str) -> str:
    import black
    from black.mode import TargetVersion
    from black.parsing import InvalidInput

    mode = black.Mode(line_length=BLACK_LINE_LENGTH, target_versions={TargetVersion.PY311})
    try:
        return black.format_str(source, mode=mode)
    except InvalidInput as err:  # a generator bug, not a user error
        raise QAPIError(f"black could not format generated code: {err}") from err


def _ruff(source: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", str(BLACK_LINE_LENGTH), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise QAPIError(f"ruff could not format generated code: {proc.stderr.strip()}")
    return proc.stdout


def _identity(source: str) -> str:
    return source


_FORMATTERS: dict[str, Callable[[str], str]] = {"black": _black, "ruff": _ruff, "none": _identity}


def _version(name: str) -> str:
    if name == "none":
        return ""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError as err:
        raise QAPIError(f"formatter '{name}' is not installed") from err


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qapigen" / "format"


class FormatCache:
    """Formats sources with one formatter, remembering every result."""

    def __init__(self, formatter: str, cache_dir: Path | None = None) -> None:
        if formatter not in _FORMATTERS:
            raise QAPIError(f"unknown formatter '{formatter}' (choose black, ruff or none)")
        self.formatter = formatter
        self.cache_dir = cache_dir or default_cache_dir()
        self._salt = f"{formatter} {_version(formatter)} {BLACK_LINE_LENGTH}\n".encode()
        self.hits = 0
        self.misses = 0

    def _key(self, source: str) -> Path:
        digest = hashlib.sha256(self._salt + source.encode()).hexdigest()
        return self.cache_dir / digest[:2] / digest[2:]

    def format_all(self, sources: dict[str, str]) -> dict[str, str]:
        """Format every source (name -> text); uncached ones in parallel."""
        if self.formatter == "none":
            return dict(sources)
        done: dict[str, str] = {}
        todo: dict[str, str] = {}
        for name, source in sources.items():
            try:
                done[name] = self._key(source).read_text(encoding="utf-8")
                self.hits += 1
            except OSError:
                todo[name] = source
        self.misses += len(todo)
        for name, formatted in zip(todo, self._run(list(todo.values())), strict=True):
            done[name] = formatted
            self._store(todo[name], formatted)
        return done

    def _run(self, sources: list[str]) -> list[str]:
        fmt = _FORMATTERS[self.formatter]
        big = sum(len(s) for s in sources)
        workers = min(os.cpu_count() or 1, len(sources))
        if workers < 2 or big < 200_000:
            return [fmt(s) for s in sources]
        # Largest first, so the pool's workers finish at about the same time.
        order = sorted(range(len(sources)), key=lambda i: -len(sources[i]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(fmt, [sources[i] for i in order], chunksize=1))
        out = [""] * len(sources)
        for i, text in zip(order, results, strict=True):
            out[i] = text
        return out

    def _store(self, source: str, formatted: str) -> None:
        path = self._key(source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(formatted, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
