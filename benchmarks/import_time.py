"""How long importing the generated 10.2 package takes, over bare Python.

The package is generated into a temporary folder; each sample is a fresh
``python`` subprocess (wall clock, start to exit), so nothing is cached in
the process.  Rows:

- ``python -c pass``: the baseline;
- ``import qmp``: the package alone (goal, issue 6: <= 0.1 s over the
  baseline; it was 0.49 s when every module loaded at import);
- ``import + first command``: a dispatcher built with ``make_dispatcher``
  and a ``Handlers`` subclass, negotiating and running one
  ``transaction`` from bytes: what a server pays before its first reply;
- ``import + every module``: every value of ``TYPES``, ``COMMANDS`` and
  ``EVENTS`` read, i.e. all modules loaded (the old import cost).

The package is byte-compiled first, as an installed one is.

Usage: ``python benchmarks/import_time.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# This checkout's qapigen, in this process and in the timed ones (another
# qapigen may be installed, and sys.path[0] is benchmarks/ here).
ENV = dict(os.environ, PYTHONPATH=str(REPO))

from qapigen.backends.python.generate import GenerateOptions, generate  # noqa: E402

CORPUS = REPO.parent / "shared" / "qapi-corpus" / "qemu-10.2" / "qapi"
GOAL = 0.1

FIRST_COMMAND = """
class H(qmp.Handlers):
    def transaction(self, *, actions, properties=None):
        return None
d = qmp.make_dispatcher(H())
d.dispatch_json(b'{"execute": "qmp_capabilities"}')
r = d.dispatch_json(b'{"execute": "transaction", "arguments": {"actions": [{"type": "abort", "data": {}}]}}')
assert r == b'{"return":{}}', r
"""

EVERYTHING = """
for table in (qmp.TYPES, qmp.COMMANDS, qmp.EVENTS):
    for key in table:
        table[key]
"""


def _time(code: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=ENV)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"QEMU's corpus is not at {CORPUS}", file=sys.stderr)
        return 1
    out = Path(tempfile.mkdtemp(prefix="qapigen-import-"))
    generate(
        GenerateOptions(
            schema=CORPUS / "qapi-schema.json", output=out, package="qmp", formatter="none",
            cache_dir=out / ".cache",
        )
    )
    # As an installed package is: compiled once (this environment may set
    # PYTHONDONTWRITEBYTECODE, which would time the compiler instead).
    compileall.compile_dir(out / "qmp", quiet=1)
    prelude = f"import sys; sys.path.insert(0, {str(out)!r}); import qmp\n"
    rows = {
        "python -c pass": "pass",
        "import qmp": prelude,
        "import + first command": prelude + FIRST_COMMAND,
        "import + every module": prelude + EVERYTHING,
    }
    # Interleave the rows, so that a change in machine load hits them alike.
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.runs):
        for name, code in rows.items():
            samples[name] += _time(code, 1)
    base = statistics.median(samples["python -c pass"])
    print(f"10.2 package, {args.runs} fresh processes each, median wall clock:")
    for name, values in samples.items():
        median = statistics.median(values)
        extra = "" if name == "python -c pass" else f"   +{median - base:6.3f} s over bare"
        print(f"  {name:24} {median:6.3f} s{extra}")
    cost = statistics.median(samples["import qmp"]) - base
    verdict = "meets" if cost <= GOAL else "misses"
    print(f"import cost {cost:.3f} s = {cost / GOAL:.2f}x the goal of {GOAL} s ({verdict} it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
