"""How long ``qapigen generate`` takes on QEMU 10.2's whole schema.

Three situations, each timed in this one process with black (the default
formatter):

* cold: empty output folder and empty format cache;
* warm: nothing changed since the last run;
* one-line change: one doc line of ``block-core.json`` edited between runs.

Then the peer comparison: a cold ``qapigen generate --formatter ruff`` and
QEMU's own ``qapi-gen.py`` (C output) on the same schema, each a fresh
process with an empty output folder (and, for qapigen, an empty format
cache), run alternately; it prints both medians and their ratio (goal:
qapigen <= 1.5x QEMU).  QEMU's ``scripts/`` folder (holding ``qapi-gen.py``
and ``qapi/``) is not part of this project: point ``--qemu-scripts`` or
``QEMU_QAPI_SCRIPTS`` at one; without it the comparison is skipped, and
the output says so.

Prints the median of each, and what the one-line case spent its time on.
Usage: ``python benchmarks/generate.py [--cold-runs N] [--runs N]
[--peer-runs N] [--qemu-scripts DIR] [--peer-only]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qapigen.backends.python.generate import GenerateOptions, generate

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "qapi-corpus" / "qemu-10.2" / "qapi"
GOALS = {"warm": 0.5, "one-line change": 2.0, "ruff vs QEMU": 1.5}


def _median(samples: list[float]) -> str:
    return f"median {statistics.median(samples):7.2f} s   min {min(samples):7.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--peer-runs", type=int, default=5)
    parser.add_argument(
        "--qemu-scripts", type=Path, default=os.environ.get("QEMU_QAPI_SCRIPTS"),
        help="QEMU's scripts/ folder (qapi-gen.py and qapi/); default $QEMU_QAPI_SCRIPTS",
    )
    parser.add_argument("--peer-only", action="store_true",
                        help="only the ruff vs QEMU comparison")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"QEMU's corpus is not at {CORPUS}")
    if not args.peer_only:
        black_runs(args.cold_runs, args.runs)
    peer_comparison(args.qemu_scripts, args.peer_runs)


def black_runs(cold_runs: int, runs: int) -> None:
    """Cold, warm and one-line-change runs with black, in this process."""
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
        for _ in range(cold_runs):
            shutil.rmtree(work / "out", ignore_errors=True)
            shutil.rmtree(work / "cache", ignore_errors=True)
            start = time.perf_counter()
            result = generate(options)
            cold.append(time.perf_counter() - start)
        files = len(result.report.written)
        size = sum(p.stat().st_size for p in (work / "out" / "qmp").glob("*.py"))

        warm: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            generate(options)
            warm.append(time.perf_counter() - start)

        block_core = schema_dir / "block-core.json"
        original = block_core.read_text()
        marker = "# @writeback: "
        assert marker in original, "block-core.json changed shape; pick another line"
        edits: list[float] = []
        formatted: list[int] = []
        for i in range(runs):
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
    print(f"  cold              {_median(cold)}   ({cold_runs} runs, empty cache)")
    print(f"  warm              {_median(warm)}   (goal < {GOALS['warm']} s)")
    print(f"  one-line change   {_median(edits)}   (goal < {GOALS['one-line change']} s; "
          f"modules reformatted per run: {statistics.median(formatted):.0f})")


def peer_comparison(scripts: Path | None, runs: int) -> None:
    """Cold ``qapigen generate --formatter ruff`` against QEMU's
    ``qapi-gen.py``, each in a fresh process, alternating."""
    schema = CORPUS / "qapi-schema.json"
    title = "cold generate, formatter ruff, vs QEMU's qapi-gen.py (fresh processes)"
    if scripts is None or not (scripts / "qapi-gen.py").is_file():
        where = f"not found at {scripts}" if scripts else "not given"
        print(f"{title}: SKIPPED, QEMU's scripts folder {where} "
              "(use --qemu-scripts DIR or QEMU_QAPI_SCRIPTS=DIR; DIR holds qapi-gen.py "
              "and qapi/)")
        return
    wall: dict[str, list[float]] = {"ours": [], "theirs": []}
    cpu: dict[str, list[float]] = {"ours": [], "theirs": []}
    with tempfile.TemporaryDirectory(prefix="qapigen-peer-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"))
        qapigen = [sys.executable, "-m", "qapigen.cli", "generate", str(schema),
                   "-o", str(work / "ours"), "--package", "qmp", "--formatter", "ruff"]
        qemu = [sys.executable, str(scripts / "qapi-gen.py"), "-o", str(work / "theirs"),
                str(schema)]
        for _ in range(runs):
            for out, command in (("ours", qapigen), ("theirs", qemu)):
                shutil.rmtree(work / out, ignore_errors=True)
                shutil.rmtree(work / "cache", ignore_errors=True)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                proc = subprocess.run(command, cwd=work, env=env, capture_output=True,
                                      text=True, check=False)
                wall[out].append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[out].append(after.ru_utime + after.ru_stime
                                - before.ru_utime - before.ru_stime)
                if proc.returncode != 0:
                    raise SystemExit(f"{command[1]} failed:\n{proc.stderr}")
        files = len(list((work / "theirs").rglob("*.[ch]")))
    ratio = statistics.median(wall["ours"]) / statistics.median(wall["theirs"])
    cpu_ratio = statistics.median(cpu["ours"]) / statistics.median(cpu["theirs"])
    print(f"{title}, {runs} runs each (wall clock; CPU time includes ruff's threads)")
    print(f"  qapigen (ruff)    {_median(wall['ours'])}   "
          f"CPU median {statistics.median(cpu['ours']):6.2f} s")
    print(f"  QEMU qapi-gen.py  {_median(wall['theirs'])}   "
          f"CPU median {statistics.median(cpu['theirs']):6.2f} s   ({files} C files)")
    print(f"  ratio             {ratio:7.2f} x wall, {cpu_ratio:.2f} x CPU   "
          f"(goal <= {GOALS['ruff vs QEMU']} x)")

if __name__ == "__main__":
    main()
