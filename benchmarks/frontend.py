"""How fast the front end reads QEMU's whole QMP schema.

Runs parse + checks + IR build (``qapigen.load_schema``) on
``qemu-10.2/qapi/qapi-schema.json`` from the shared corpus several times in
one process and prints the median and minimum, the number of entities and
entities per second, and how long loading the grammar took.  Separately it
times the parse-only stage (``qapigen.frontend.parser.parse_schema``), and
the check and IR stages after it, when those modules exist.

QEMU's own front end (scripts/qapi, parse + check + IR) takes about 0.39 s
for the same schema on the project's machines; the goal is half of that.

Usage::

    python benchmarks/frontend.py [--schema PATH] [--dialect qemu|legacy]
                                  [--min-runs N] [--min-seconds S] [--json]
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
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

CORPUS = REPO.parent / "shared" / "qapi-corpus"
DEFAULT_SCHEMA = CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json"

QEMU_SECONDS = 0.39  # QEMU's scripts/qapi front end on this schema
GOAL_SECONDS = QEMU_SECONDS / 2
MAX_RUNS = 100


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def repeat(func: Callable[[], Any], min_runs: int, min_seconds: float) -> tuple[list[float], Any]:
    """Run *func* at least *min_runs* times and for at least *min_seconds*."""
    times: list[float] = []
    result: Any = None
    started = time.perf_counter()
    while len(times) < min_runs or (
        time.perf_counter() - started < min_seconds and len(times) < MAX_RUNS
    ):
        seconds, result = timed(func)
        times.append(seconds)
    return times, result


def count_entities(schema: Any) -> int:
    entities = schema.entities
    return len(entities() if callable(entities) else entities)


def grammar_load_seconds(dialect: Any, doc_comments: Any) -> float:
    """Import the parser and parse an empty schema: the first parse in a
    process builds (or loads from lark's cache) the grammar."""
    start = time.perf_counter()
    from qapigen.frontend.parser import parse_schema

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.json"
        empty.write_text("")
        parse_schema(str(empty), dialect, doc_comments)
    return time.perf_counter() - start


def stages(schema: str, dialect: Any, doc_comments: Any) -> dict[str, float]:
    """Time parse, checks and IR build of one load, each on its own."""
    from qapigen.frontend.parser import parse_schema

    out: dict[str, float] = {}
    gc.collect()
    start = time.perf_counter()
    parsed = parse_schema(schema, dialect, doc_comments)
    out["parse"] = time.perf_counter() - start
    if importlib.util.find_spec("qapigen.frontend.checks") is None:
        return out
    from qapigen.frontend.checks import check_exprs

    start = time.perf_counter()
    exprs = check_exprs(parsed.exprs, dialect)
    out["checks"] = time.perf_counter() - start
    if importlib.util.find_spec("qapigen.ir.schema") is None:
        return out
    from qapigen.ir.schema import build_schema

    start = time.perf_counter()
    build_schema(exprs, parsed.docs, dialect)
    out["ir"] = time.perf_counter() - start
    return out


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--dialect", choices=["qemu", "legacy"], default="qemu")
    parser.add_argument("--min-runs", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if not args.schema.is_file():
        print(f"no schema at {args.schema} (the shared QAPI corpus is missing)", file=sys.stderr)
        return 2

    from qapigen.dialect import Dialect, DocComments

    dialect, docs = Dialect(args.dialect), DocComments.PARSE
    schema_path = str(args.schema)
    grammar = grammar_load_seconds(dialect, docs)

    import qapigen

    def load() -> Any:
        return qapigen.load_schema(schema_path, dialect, docs)

    load()  # warm-up: first-use costs (imports, caches) are not steady state
    full, schema = repeat(load, args.min_runs, args.min_seconds)
    entities = count_entities(schema)
    median = statistics.median(full)

    from qapigen.frontend.parser import parse_schema

    parse_only, _ = repeat(
        lambda: parse_schema(schema_path, dialect, docs), args.min_runs, args.min_seconds / 2
    )
    breakdown = [stages(schema_path, dialect, docs) for _ in range(args.min_runs)]
    stage_median = {
        name: statistics.median(run[name] for run in breakdown) for name in breakdown[0]
    }

    results = {
        "schema": schema_path,
        "dialect": args.dialect,
        "runs": len(full),
        "median_s": median,
        "min_s": min(full),
        "entities": entities,
        "entities_per_s": entities / median,
        "grammar_load_s": grammar,
        "parse_only_median_s": statistics.median(parse_only),
        "parse_only_min_s": min(parse_only),
        "parse_only_runs": len(parse_only),
        "stage_median_s": stage_median,
        "qemu_reference_s": QEMU_SECONDS,
        "ratio_to_qemu": median / QEMU_SECONDS,
        "goal_s": GOAL_SECONDS,
        "goal_met": median <= GOAL_SECONDS,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    rel = args.schema.relative_to(CORPUS) if args.schema.is_relative_to(CORPUS) else args.schema
    print(f"front end on {rel} ({args.dialect} dialect), {len(full)} runs in one process")
    print(f"  parse + check + IR   median {fmt(median)}   min {fmt(min(full))}")
    print(
        f"  entities             {entities}   ({entities / median:,.0f} entities/s at the median)"
    )
    print(f"  grammar load         {fmt(grammar)}   (import + first parse, once per process)")
    print(
        f"  parse only           median {fmt(results['parse_only_median_s'])}"
        f"   min {fmt(results['parse_only_min_s'])}   ({len(parse_only)} runs)"
    )
    print(
        "  stages (median)      "
        + "   ".join(f"{k} {fmt(v).strip()}" for k, v in stage_median.items())
    )
    verdict = "met" if results["goal_met"] else "NOT met"
    print(
        f"  QEMU reference       {fmt(QEMU_SECONDS)}   ratio ours/QEMU {median / QEMU_SECONDS:.2f}"
        f"   goal <= {GOAL_SECONDS * 1000:.0f} ms: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
