"""How long ``qapigen docs`` takes to build the QEMU 10.2 HTML reference.

Builds the whole reference of ``qemu-10.2/qapi/qapi-schema.json`` (every
page, the search index, the static files) into a fresh folder several
times in one process and prints the median and minimum, split into the
front end (``qapigen.load_schema``, which the reference cannot do without),
the page model, rendering, and writing.  The goal is under 3 s for the
whole build.  The peer measured in the same run is the front end alone, so
the ratio says what the docs back end adds on top of reading the schema.

Usage::

    python benchmarks/docs.py [--schema PATH] [--format html|markdown] [--runs N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from qapigen.api import load_schema  # noqa: E402
from qapigen.backends.docs.build import render_docs  # noqa: E402
from qapigen.backends.docs.model import build_model  # noqa: E402
from qapigen.backends.python.output import Manifest, sync_tree  # noqa: E402

DEFAULT_SCHEMA = REPO.parent / "shared" / "qapi-corpus" / "qemu-10.2" / "qapi" / "qapi-schema.json"
GOAL_SECONDS = 3.0


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--format", choices=("html", "markdown"), default="html")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not args.schema.is_file():
        print(f"docs benchmark: no schema at {args.schema}", file=sys.stderr)
        return 1
    suffix = ".html" if args.format == "html" else ".md"
    stages: dict[str, list[float]] = {k: [] for k in ("front end", "model", "render", "write", "total")}
    pages = files = 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            t_load, schema = _timed(lambda: load_schema(str(args.schema)))
            t_model, model = _timed(lambda: build_model(schema, suffix))  # noqa: B023
            t_render, out = _timed(lambda: render_docs(model, args.format))  # noqa: B023
            t_write, _ = _timed(lambda: sync_tree(Path(tmp), out, Manifest()))  # noqa: B023
        stages["front end"].append(t_load)
        stages["model"].append(t_model)
        stages["render"].append(t_render)
        stages["write"].append(t_write)
        stages["total"].append(t_load + t_model + t_render + t_write)
        pages, files = len(model.pages), len(out)
    print(f"schema: {args.schema} ({args.format}, {pages} pages, {files} files, {args.runs} runs)")
    for name, times in stages.items():
        print(f"  {name:10} median {statistics.median(times):6.3f} s   min {min(times):6.3f} s")
    total = statistics.median(stages["total"])
    front = statistics.median(stages["front end"])
    print(f"docs build / front end alone: {total / front:.2f}x")
    print(f"goal: under {GOAL_SECONDS:.1f} s: {'met' if total < GOAL_SECONDS else 'NOT met'} ({total:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
