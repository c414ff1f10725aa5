"""Formatting generated modules, with a cache keyed by content.

black is by far the slowest step of generation (about 22 s per MB of
output), so a module whose rendered text has been formatted before is never
formatted again: the result is looked up by a hash of the formatter's name
and version and the unformatted text.

black runs in this process (in a process pool for big packages) and reports
progress module by module.  ruff is a separate program that formats many
files in parallel by itself, and starting it costs more than formatting a
module, so all of a package's modules go to one ``ruff format`` run.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
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


#: ruff's options, all on the command line: ``--isolated`` keeps a
#: pyproject.toml near the temporary folder from changing the output.
RUFF_OPTIONS = (
    "--isolated", "--no-cache", "--quiet",
    "--line-length", str(BLACK_LINE_LENGTH), "--target-version", "py311",
)


def _ruff_command() -> list[str]:
    """ruff's binary, run directly: ``python -m ruff`` would start a
    second interpreter only to exec it."""
    try:
        # ruff ships no type information; its locator is looked up by name.
        find_ruff_bin = importlib.import_module("ruff.__main__").find_ruff_bin
        return [os.fsdecode(find_ruff_bin())]
    except (ImportError, AttributeError, FileNotFoundError):
        return [sys.executable, "-m", "ruff"]


def scratch_dir() -> str | None:
    """Where ruff's temporary files go: a memory file system when the
    system has one (``/dev/shm``), else the usual temporary folder.  On a
    busy disk, writing and deleting 160 small files cost more than ruff's
    formatting itself."""
    shm = "/dev/shm"
    if "TMPDIR" not in os.environ and os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return None


def ruff_format_many(sources: list[str]) -> list[str]:
    """Format *sources* with one ``ruff format`` process over a temporary
    folder holding one file per source."""
    if not sources:
        return []
    with tempfile.TemporaryDirectory(prefix="qapigen-ruff-", dir=scratch_dir()) as tmp:
        paths = [Path(tmp) / f"m{i}.py" for i in range(len(sources))]
        for path, source in zip(paths, sources, strict=True):
            path.write_bytes(source.encode("utf-8"))
        proc = subprocess.run(
            [*_ruff_command(), "format", *RUFF_OPTIONS, tmp],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise QAPIError(f"ruff could not format generated code: {proc.stderr.strip()}")
        return [path.read_bytes().decode("utf-8") for path in paths]


def _identity(source: str) -> str:
    return source


_FORMATTERS: dict[str, Callable[[str], str]] = {"black": _black, "none": _identity}
FORMATTER_NAMES = ("black", "ruff", "none")

#: ``progress(done, total)``: called as modules finish formatting.
Progress = Callable[[int, int], None]


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
        if formatter not in FORMATTER_NAMES:
            raise QAPIError(f"unknown formatter '{formatter}' (choose black, ruff or none)")
        self.formatter = formatter
        self.cache_dir = cache_dir or default_cache_dir()
        options = " ".join(RUFF_OPTIONS) if formatter == "ruff" else str(BLACK_LINE_LENGTH)
        self._salt = f"{formatter} {_version(formatter)} {options}\n".encode()
        self.hits = 0
        self.misses = 0

    def _key(self, source: str) -> Path:
        digest = hashlib.sha256(self._salt + source.encode()).hexdigest()
        return self.cache_dir / digest[:2] / digest[2:]

    def format_all(
        self, sources: dict[str, str], progress: Progress | None = None
    ) -> dict[str, str]:
        """Format every source (name -> text); uncached ones in parallel.
        *progress* hears of each module formatted (cache misses only)."""
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
        results = self._run(list(todo.values()), progress or _quiet)
        for name, formatted in zip(todo, results, strict=True):
            done[name] = formatted
            self._store(todo[name], formatted)
        return done

    def _run(self, sources: list[str], progress: Progress) -> list[str]:
        if self.formatter == "ruff":
            out = ruff_format_many(sources)
            progress(len(out), len(out))
            return out
        fmt = _FORMATTERS[self.formatter]
        total = len(sources)
        big = sum(len(s) for s in sources)
        workers = min(os.cpu_count() or 1, total)
        results = [""] * total
        if workers < 2 or big < 200_000:
            for i, source in enumerate(sources):
                results[i] = fmt(source)
                progress(i + 1, total)
            return results
        # Largest first, so the pool's workers finish at about the same time.
        order = sorted(range(total), key=lambda i: -len(sources[i]))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(fmt, sources[i]): i for i in order}
            for count, future in enumerate(as_completed(futures), 1):
                results[futures[future]] = future.result()
                progress(count, total)
        return results

    def _store(self, source: str, formatted: str) -> None:
        path = self._key(source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(formatted, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _quiet(done: int, total: int) -> None:
    """The progress callback that says nothing."""
