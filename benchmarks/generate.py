"""How long ``qapigen generate`` takes on QEMU 10.2's whole schema.

Three situations, each timed in this one process with black (the default
formatter):

* cold: empty output folder and empty format cache;
* warm: nothing changed since the last run;
* one-line change: one doc line of ``block-core.json`` edited between runs.

Prints the median of each, and what the one-line case spent its time on.
Usage: ``python benchmarks/generate.py [--cold-runs N] [--runs N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qapigen.backends.python.generate import GenerateOptions, generate

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "qapi-corpus" / "qemu-10.2" / "qapi"
GOALS = {"warm": 0.5, "one-line change": 2.0}


def _median(samples: list[float]) -> str:
    return f"median {statistics.median(samples):7.2f} s   min {min(samples):7.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"QEMU's corpus is not at {CORPUS}")

    work = Path(tempfile.mkdtemp(prefix="qapigen-bench-"))
    try:
        schema_dir = work / "qapi"
        shutil.copytree(CORPUS, schema_dir)
        options = GenerateOptions(
            schema=schema_dir / "qapi-schema.json",
            output=work / "out",
            package="qmp",
            formatter="black",
            cache_dir=work / "cache",
        )

        cold: list[float] = []
        for _ in range(args.cold_runs):
            shutil.rmtree(work / "out", ignore_errors=True)
            shutil.rmtree(work / "cache", ignore_errors=True)
            start = time.perf_counter()
            result = generate(options)
            cold.append(time.perf_counter() - start)
        files = len(result.report.written)
        size = sum(p.stat().st_size for p in (work / "out" / "qmp").glob("*.py"))

        warm: list[float] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            generate(options)
            warm.append(time.perf_counter() - start)

        block_core = schema_dir / "block-core.json"
        original = block_core.read_text()
        marker = "# @writeback: "
        assert marker in original, "block-core.json changed shape; pick another line"
        edits: list[float] = []
        formatted: list[int] = []
        for i in range(args.runs):
            # Alternate between two texts so that every run sees a change
            # (the second text is cached after the first round trip, as it
            # would be for a user flipping a line back and forth: skip those).
            word = f"(edit {i}) "
            block_core.write_text(original.replace(marker, marker + word, 1))
            start = time.perf_counter()
            result = generate(options)
            edits.append(time.perf_counter() - start)
            formatted.append(result.formatted)
        block_core.write_text(original)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"qapigen generate on qemu-10.2/qapi/qapi-schema.json ({files} files, "
          f"{size / 1e6:.2f} MB of Python), formatter black")
    print(f"  cold              {_median(cold)}   ({args.cold_runs} runs, empty cache)")
    print(f"  warm              {_median(warm)}   (goal < {GOALS['warm']} s)")
    print(f"  one-line change   {_median(edits)}   (goal < {GOALS['one-line change']} s; "
          f"modules reformatted per run: {statistics.median(formatted):.0f})")


if __name__ == "__main__":
    main()
