"""How long ``qapigen diff`` takes on QEMU 3.1's schema against 10.2's.

The acceptance goal is under 3 s for the whole command.  Each run is a
fresh ``qapigen diff OLD NEW`` process, as a CI job would start it, and
alternating with it, the peer: one process running ``qapigen check`` on
both schemas, i.e. the loading the diff cannot avoid.  Their ratio is
what detecting the dialects and comparing costs on top.  Then, in this
process, the stages one by one: loading each side with dialect detection
(3.1 is first refused by the 10.2 dialect) and the comparison itself.

Usage: ``python benchmarks/diff.py [--runs N] [--old PATH] [--new PATH]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "qapi-corpus"
GOAL_SECONDS = 3.0
QAPIGEN = Path(sys.executable).with_name("qapigen")


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def run(*argv: str) -> float:
    """Seconds one ``qapigen ARGV`` process takes (any exit status but 2)."""
    seconds, proc = timed(
        lambda: subprocess.run([str(QAPIGEN), *argv], capture_output=True, text=True)
    )
    if proc.returncode == 2:
        sys.exit(f"qapigen {' '.join(argv)} failed: {proc.stderr.strip()}")
    return float(seconds)


def check_both(old: str, new: str) -> float:
    """Loading both schemas, each in its own dialect, in one process."""
    code = (
        "import sys; from qapigen import load_schema; "
        "load_schema(sys.argv[1], 'legacy'); load_schema(sys.argv[2], 'qemu')"
    )
    seconds, proc = timed(lambda: subprocess.run([sys.executable, "-c", code, old, new]))
    if proc.returncode:
        sys.exit("loading the schemas failed")
    return float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--old", default=str(CORPUS / "qemu-3.1" / "qapi" / "qapi-schema.json"))
    parser.add_argument("--new", default=str(CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json"))
    args = parser.parse_args()
    for path in (args.old, args.new):
        if not Path(path).is_file():
            sys.exit(f"schema not found: {path} (QEMU's corpus belongs at {CORPUS})")

    diff_times: list[float] = []
    peer_times: list[float] = []
    for _ in range(args.runs):
        diff_times.append(run("diff", args.old, args.new))
        peer_times.append(check_both(args.old, args.new))
    diff_median = statistics.median(diff_times)
    peer_median = statistics.median(peer_times)
    verdict = "ok" if diff_median < GOAL_SECONDS else "OVER GOAL"
    print(
        f"qapigen diff (process)     median {diff_median:.3f} s  min {min(diff_times):.3f} s"
        f"  ({args.runs} runs; goal < {GOAL_SECONDS:.0f} s: {verdict})"
    )
    print(f"peer: load both (process) median {peer_median:.3f} s  min {min(peer_times):.3f} s")
    print(f"ratio diff / load both: {diff_median / peer_median:.2f}")

    from qapigen.evolution import diff_schemas, load_detected

    stages: dict[str, list[float]] = {
        "load old (detect)": [],
        "load new (detect)": [],
        "compare": [],
    }
    changes: list[Any] = []
    for _ in range(args.runs):
        seconds, old = timed(lambda: load_detected(args.old))
        stages["load old (detect)"].append(seconds)
        seconds, new = timed(lambda: load_detected(args.new))
        stages["load new (detect)"].append(seconds)
        seconds, changes = timed(lambda o=old, n=new: diff_schemas(o.schema, n.schema))
        stages["compare"].append(seconds)
    for name, times in stages.items():
        print(f"  in process: {name:<18} median {statistics.median(times):.3f} s")
    breaking = sum(c.breaking for c in changes)
    print(f"  {len(changes)} changes, {breaking} breaking")


if __name__ == "__main__":
    main()
