"""What tolerant decoding costs: QEMU 10.2's bindings reading a
``query-named-block-nodes`` reply of 1,000 nodes (the input of
``benchmarks/decode.py``).

Timed, from the same JSON bytes, in the same run:

- strict: ``TYPES['BlockDeviceInfoList'].from_json(text)`` (the baseline);
- tolerant, no drift: the same text with ``tolerant=True`` (the fast path
  takes it; the goal is the strict time);
- tolerant, drift: the same nodes as an older QEMU (7.2) sends them, without
  ``children`` and ``active``, which 10.2 holds mandatory: strict decoding
  refuses it, tolerant decoding walks every node again with the
  ``WIRESPEC_HERE`` tables (:mod:`qapigen.support.drift`);
- tolerant, drift, one node: only node 500 lacks them (the others take the
  strict decoders inside the walk).

Usage::

    python benchmarks/drift.py [--rounds N] [--seconds S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decode import NODES, load_package, measure, show

from qapigen.support import drift


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.2, help="per sample")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", drift.DriftWarning)
    with tempfile.TemporaryDirectory() as folder:
        qmp = load_package(Path(folder))
        codec = qmp.TYPES["BlockDeviceInfoList"]
        old = [{k: v for k, v in n.items() if k not in ("children", "active")} for n in NODES]
        one = [dict(n) for n in NODES]
        del one[500]["children"], one[500]["active"]
        texts = {name: orjson.dumps(v) for name, v in
                 (("new", NODES), ("old", old), ("one", one))}
        assert codec.from_json(texts["old"], tolerant=True)[7].missing == ("children", "active")
        assert codec.from_json(texts["one"], tolerant=True)[500].missing == ("children", "active")
        funcs = {
            "strict, 10.2 reply": lambda: codec.from_json(texts["new"]),
            "tolerant, 10.2 reply (no drift)": lambda: codec.from_json(texts["new"], tolerant=True),
            "tolerant, 7.2-shaped reply (all nodes)": lambda: codec.from_json(
                texts["old"], tolerant=True),
            "tolerant, one node of 1,000 drifted": lambda: codec.from_json(
                texts["one"], tolerant=True),
        }
        samples = measure(list(funcs.values()), args.rounds, args.seconds)
    medians = [statistics.median(s) for s in samples]
    print(f"query-named-block-nodes, 1,000 nodes; {args.rounds} rounds, median")
    for name, median in zip(funcs, medians, strict=True):
        print(f"  {name:<45} {show(median):>12}  {median / medians[0]:5.2f}x strict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
