"""How fast wire bytes become validated, typed objects: qapigen against
pydantic and msgspec, on QEMU 10.2's schema.

Two inputs, as JSON bytes (what a socket delivers):

- ``transaction``: the arguments of one ``transaction`` with all 12 action
  kinds (``abort`` to ``drive-backup``) and the transaction properties;
- ``query-named-block-nodes``: a reply of 1,000 ``BlockDeviceInfo``
  objects (qcow2 images with their format-specific data, dirty bitmaps,
  throttling limits).

Contenders, each from the same bytes:

- qapigen: ``TransactionArguments.from_json`` and the
  ``BlockDeviceInfoList`` codec's ``from_json`` (the 10.2 package is
  generated into a temporary folder first): msgspec typed decoding into
  mirror types, then conversion into the generated classes; text it
  refuses goes to the exact path, which gives QEMU's message.  The exact
  path alone (``orjson.loads`` + ``from_wire``) is timed as well;
- pydantic v2: ``model_validate_json`` / ``TypeAdapter.validate_json``;
- msgspec: a typed ``msgspec.json.Decoder``.

The pydantic and msgspec models are written from the IR by
``benchmarks/_schema_models.py``.  Before timing, every contender is
checked to accept the valid input (and give back the same JSON), and to
reject each invalid input; qapigen's messages must be QEMU's, word for
word.  The error path (one invalid input per case) is timed too.  Also
timed, for reference: ``orjson.loads`` alone, and the whole server path,
``Dispatcher.dispatch_json`` (request bytes to response bytes) with a
no-op ``transaction`` handler.

Goal (issue 6): qapigen's median <= 0.8x pydantic's on both inputs.

Usage::

    python benchmarks/decode.py [--rounds N] [--seconds S]
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "qapi-corpus" / "qemu-10.2" / "qapi" / "qapi-schema.json"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import orjson  # noqa: E402

import qapigen  # noqa: E402
from qapigen.backends.python.generate import GenerateOptions, generate  # noqa: E402
from qapigen.support.errors import QMPError  # noqa: E402
from qapigen.support.wirejson import parse  # noqa: E402

GOAL = 0.8

# -- inputs -------------------------------------------------------------------------

ACTIONS: list[dict[str, Any]] = [
    {"type": "abort", "data": {}},
    {
        "type": "block-dirty-bitmap-add",
        "data": {
            "node": "libvirt-1-format", "name": "backup-20250611T0200",
            "granularity": 65536, "persistent": True, "disabled": False,
        },
    },
    {"type": "block-dirty-bitmap-remove", "data": {"node": "libvirt-1-format", "name": "old-1"}},
    {"type": "block-dirty-bitmap-clear", "data": {"node": "libvirt-1-format", "name": "scratch"}},
    {"type": "block-dirty-bitmap-enable", "data": {"node": "libvirt-2-format", "name": "b2"}},
    {"type": "block-dirty-bitmap-disable", "data": {"node": "libvirt-2-format", "name": "b1"}},
    {
        "type": "block-dirty-bitmap-merge",
        "data": {
            "node": "libvirt-1-format", "target": "backup-20250611T0200",
            "bitmaps": [
                "backup-20250609T0200",
                {"node": "libvirt-5-format", "name": "backup-20250608T0200"},
            ],
        },
    },
    {
        "type": "blockdev-backup",
        "data": {
            "job-id": "backup-vda-libvirt-1-format", "device": "libvirt-1-format",
            "target": "libvirt-3-format", "sync": "bitmap", "bitmap": "backup-20250610T0200",
            "bitmap-mode": "on-success", "speed": 104857600, "compress": False,
            "on-source-error": "report", "on-target-error": "enospc", "auto-finalize": True,
            "auto-dismiss": False, "filter-node-name": "backup-filter-vda",
            "x-perf": {"use-copy-range": False, "max-workers": 8, "max-chunk": 4194304},
        },
    },
    {"type": "blockdev-snapshot", "data": {"node": "libvirt-6-format", "overlay": "overlay-6"}},
    {
        "type": "blockdev-snapshot-internal-sync",
        "data": {"device": "drive-virtio-disk3", "name": "snap-20250611"},
    },
    {
        "type": "blockdev-snapshot-sync",
        "data": {
            "node-name": "libvirt-2-format",
            "snapshot-file": "/var/lib/libvirt/images/vm01-vdb.20250611T0200.qcow2",
            "snapshot-node-name": "libvirt-4-format", "format": "qcow2",
            "mode": "absolute-paths",
        },
    },
    {
        "type": "drive-backup",
        "data": {
            "job-id": "drive-backup-vdc", "device": "libvirt-7-format",
            "target": "/var/lib/libvirt/images/vdc.backup.qcow2", "format": "qcow2",
            "sync": "full", "mode": "absolute-paths", "speed": 0, "on-cbw-error": "break-snapshot",
        },
    },
]
TRANSACTION: dict[str, Any] = {"actions": ACTIONS, "properties": {"completion-mode": "individual"}}


def _node(i: int) -> dict[str, Any]:
    """One ``BlockDeviceInfo`` as QEMU reports a qcow2 node."""
    image: dict[str, Any] = {
        "filename": f"/var/lib/libvirt/images/disk{i}.qcow2", "format": "qcow2",
        "dirty-flag": False, "actual-size": 1073741824 + i, "virtual-size": 21474836480,
        "cluster-size": 65536,
        "format-specific": {
            "type": "qcow2",
            "data": {
                "compat": "1.1", "compression-type": "zlib", "lazy-refcounts": False,
                "refcount-bits": 16, "corrupt": False, "extended-l2": False,
                "bitmaps": [{"name": f"bitmap{i}", "granularity": 65536, "flags": ["auto"]}],
            },
        },
    }
    return {
        "file": f"/var/lib/libvirt/images/disk{i}.qcow2", "node-name": f"libvirt-{i}-format",
        "ro": False, "drv": "qcow2", "backing_file_depth": 0,
        "children": [{"child": "file", "node-name": f"libvirt-{i}-storage"}],
        "active": True, "encrypted": False, "detect_zeroes": "off",
        "bps": 0, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 0, "iops_wr": 0,
        "image": image,
        "cache": {"writeback": True, "direct": True, "no-flush": False},
        "write_threshold": 0,
        "dirty-bitmaps": [
            {
                "name": f"bitmap{i}", "count": 0, "granularity": 65536, "recording": True,
                "busy": False, "persistent": True,
            }
        ],
    }


NODES: list[dict[str, Any]] = [_node(i) for i in range(1000)]


def _changed(value: Any, path: list[str | int], new: Any) -> Any:
    """A deep copy of *value* with the member at *path* set to *new* (or
    deleted, when *new* is ``DELETE``)."""
    result = copy.deepcopy(value)
    target = result
    for step in path[:-1]:
        target = target[step]
    if new is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return result


DELETE = object()


@dataclass
class Case:
    """One input: its bytes, and invalid variants with QEMU's message."""

    name: str
    value: Any
    invalid: list[tuple[str, bytes, str]]  # (what, bytes, QEMU's message)
    text: bytes = b""

    def __post_init__(self) -> None:
        self.text = json.dumps(self.value).encode()


CASES = [
    Case(
        "transaction (12 action kinds)",
        TRANSACTION,
        [
            (
                "granularity 2**40",
                json.dumps(_changed(TRANSACTION, ["actions", 1, "data", "granularity"], 2**40)).encode(),
                "Parameter 'granularity' expects uint32_t",
            ),
            (
                "backup without device",
                json.dumps(_changed(TRANSACTION, ["actions", 7, "data", "device"], DELETE)).encode(),
                "Parameter 'actions[7].data.device' is missing",
            ),
            (
                "bad sync mode",
                json.dumps(_changed(TRANSACTION, ["actions", 11, "data", "sync"], "weird")).encode(),
                "Parameter 'sync' does not accept value 'weird'",
            ),
            (
                "unknown action kind",
                json.dumps(_changed(TRANSACTION, ["actions", 3, "type"], "bogus")).encode(),
                "Parameter 'type' does not accept value 'bogus'",
            ),
            (
                "extra member",
                json.dumps(_changed(TRANSACTION, ["actions", 9, "data", "x"], 1)).encode(),
                "Parameter 'actions[9].data.x' is unexpected",
            ),
            ("not JSON", b'{"actions": [}', "JSON parse error, expecting value"),
        ],
    ),
    Case(
        "query-named-block-nodes (1,000 nodes)",
        NODES,
        [
            (
                "ro is 1",
                json.dumps(_changed(NODES, [500, "ro"], 1)).encode(),
                "Invalid parameter type for '[500].ro', expected: boolean",
            ),
            (
                "no virtual-size",
                json.dumps(_changed(NODES, [999, "image", "virtual-size"], DELETE)).encode(),
                "Parameter '[999].image.virtual-size' is missing",
            ),
            (
                "bad detect_zeroes",
                json.dumps(_changed(NODES, [7, "detect_zeroes"], "maybe")).encode(),
                "Parameter 'detect_zeroes' does not accept value 'maybe'",
            ),
            (
                "extra member",
                json.dumps(_changed(NODES, [998, "cache", "x"], True)).encode(),
                "Parameter '[998].cache.x' is unexpected",
            ),
            ("not JSON", b"[{]", "JSON parse error, expecting value"),
        ],
    ),
]

# -- contenders -------------------------------------------------------------------------


@dataclass
class Contender:
    group: str  # "qapigen", "pydantic", "msgspec" or "" (reference)
    name: str
    decode: Callable[[bytes], Any]
    back: Callable[[Any], Any] | None = None  # decoded value -> JSON values
    error: type[Exception] | tuple[type[Exception], ...] | None = None
    samples: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.group}: {self.name}" if self.group else self.name


def load_package(out: Path) -> Any:
    generate(
        GenerateOptions(
            schema=CORPUS, output=out, package="qmp_bench", formatter="none",
            cache_dir=out / ".cache",
        )
    )
    sys.path.insert(0, str(out))
    return importlib.import_module("qmp_bench")


def contenders(qmp: Any, models: Any) -> list[list[Contender]]:
    """Contenders per case, in CASES order."""
    import msgspec
    import pydantic

    pyd_errors = (pydantic.ValidationError,)
    msg_errors = (msgspec.ValidationError, msgspec.DecodeError)
    nodes = qmp.TYPES["BlockDeviceInfoList"]
    node_adapter = pydantic.TypeAdapter(list[models.P_BlockDeviceInfo])
    pyd_txn = models.P_q_obj_transaction_arg

    def pyd_back(value: Any) -> Any:
        return pydantic.TypeAdapter(Any).dump_python(
            value, mode="json", by_alias=True, exclude_none=True
        )

    handlers_base: Any = qmp.Handlers

    class NoOp(handlers_base):  # type: ignore[misc]
        def transaction(self, *, actions: object, properties: object = None) -> None:
            return None

    dispatcher = qmp.make_dispatcher(NoOp())
    dispatcher.dispatch_json(b'{"execute": "qmp_capabilities"}')

    def serve(text: bytes) -> Any:
        reply = dispatcher.dispatch_json(
            b'{"execute": "transaction", "arguments": ' + text + b', "id": 1}'
        )
        assert reply == b'{"return":{},"id":1}', reply
        return reply

    return [
        [
            Contender("", "orjson.loads (parse only)", orjson.loads),
            Contender("", "qapigen Dispatcher.dispatch_json (request to reply)", serve),
            Contender(
                "qapigen", "TransactionArguments.from_json",
                qmp.TransactionArguments.from_json, lambda v: v.to_wire(), QMPError,
            ),
            Contender(
                "qapigen", "exact path: orjson.loads + from_wire",
                lambda t: qmp.TransactionArguments.from_wire(parse(t)), lambda v: v.to_wire(),
                QMPError,
            ),
            Contender(
                "pydantic", "model_validate_json", pyd_txn.model_validate_json,
                lambda v: v.model_dump(mode="json", by_alias=True, exclude_none=True), pyd_errors,
            ),
            Contender(
                "msgspec", "json.Decoder(T).decode",
                msgspec.json.Decoder(models.M_q_obj_transaction_arg).decode,
                msgspec.to_builtins, msg_errors,
            ),
        ],
        [
            Contender("", "orjson.loads (parse only)", orjson.loads),
            Contender(
                "qapigen", "TYPES['BlockDeviceInfoList'].from_json",
                nodes.from_json, nodes.to_wire, QMPError,
            ),
            Contender(
                "qapigen", "exact path: orjson.loads + from_wire",
                lambda t: nodes.from_wire(parse(t)), nodes.to_wire, QMPError,
            ),
            Contender(
                "pydantic", "TypeAdapter(list[T]).validate_json",
                node_adapter.validate_json, pyd_back, pyd_errors,
            ),
            Contender(
                "msgspec", "json.Decoder(list[T]).decode",
                msgspec.json.Decoder(list[models.M_BlockDeviceInfo]).decode,
                msgspec.to_builtins, msg_errors,
            ),
        ],
    ]


def message(contender: Contender, text: bytes) -> str:
    """What *contender* says about invalid *text* (it must refuse it)."""
    assert contender.error is not None
    try:
        contender.decode(text)
    except contender.error as err:
        return err.desc if isinstance(err, QMPError) else str(err).splitlines()[0]
    raise AssertionError(f"{contender.label} accepted an invalid input")


def check(case: Case, contender: Contender) -> None:
    """Same accepts, same rejects: a fast wrong decoder is not worth timing."""
    decoded = contender.decode(case.text)
    if contender.back is not None:
        back = contender.back(decoded)
        assert back == case.value, f"{contender.label}: the value came back different"
    if contender.error is None:
        return
    for what, text, qemu in case.invalid:
        said = message(contender, text)
        if contender.group == "qapigen":
            assert said == qemu, f"{what}: qapigen says {said!r}, QEMU {qemu!r}"


# -- timing ---------------------------------------------------------------------------------


def measure(funcs: list[Callable[[], object]], rounds: int, seconds: float) -> list[list[float]]:
    """Seconds per call of each function: one sample per round, each round
    timing every function in turn (so that load changes hit all alike),
    the garbage collector off while the clock runs."""
    counts = []
    for func in funcs:  # warm up, and size the rounds
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds / 4 or n < 3:
            func()
            n += 1
        counts.append(max(3, int(n * 4 / (time.perf_counter() - start) * seconds / 4)))
    samples: list[list[float]] = [[] for _ in funcs]
    for _ in range(rounds):
        for func, n, out in zip(funcs, counts, samples, strict=True):
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                for _ in repeat(None, n):
                    func()
                out.append((time.perf_counter() - start) / n)
            finally:
                gc.enable()
    return samples


def _raising(contender: Contender, text: bytes) -> Callable[[], object]:
    error = contender.error
    assert error is not None

    def call() -> object:
        try:
            contender.decode(text)
        except error as err:
            return str(err)
        raise AssertionError("accepted")

    return call


def show(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f} µs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.2, help="per sample")
    args = parser.parse_args(argv)
    if not CORPUS.is_file():
        print(f"QEMU's 10.2 schema is not at {CORPUS}", file=sys.stderr)
        return 1

    from benchmarks._schema_models import write_models

    work = Path(tempfile.mkdtemp(prefix="qapigen-decode-"))
    qmp = load_package(work)
    schema = qapigen.load_schema(str(CORPUS), "qemu")
    models = write_models(
        schema, ["q_obj_transaction-arg", "BlockDeviceInfo"], work, "qapigen_bench_models"
    )
    verdicts: list[str] = []
    for case, group in zip(CASES, contenders(qmp, models), strict=True):
        for contender in group:
            check(case, contender)
        print(f"\n{case.name}: {len(case.text):,} bytes of JSON; {args.rounds} rounds, median")
        samples = measure(
            [lambda c=c, t=case.text: c.decode(t) for c in group], args.rounds, args.seconds
        )
        for contender, s in zip(group, samples, strict=True):
            contender.samples = s
            print(f"  {contender.label:52} {show(statistics.median(s))}")
        invalid_what, invalid_text, _ = case.invalid[0]
        failing = [c for c in group if c.error is not None]
        errors = measure([_raising(c, invalid_text) for c in failing], args.rounds, args.seconds)
        print(f"  error path ({invalid_what}):")
        for contender, s in zip(failing, errors, strict=True):
            print(f"  {contender.label:52} {show(statistics.median(s))}")
            print(f"      says: {message(contender, invalid_text)[:110]}")
        first: dict[str, float] = {}
        for contender, s in zip(failing, errors, strict=True):
            first.setdefault(contender.group, statistics.median(s))
        print(f"  error path, qapigen / pydantic: {first['qapigen'] / first['pydantic']:.2f}x")
        ours = statistics.median(next(c for c in group if c.group == "qapigen").samples)
        for other in (c for c in group if c.group in ("pydantic", "msgspec")):
            ratio = ours / statistics.median(other.samples)
            line = f"  qapigen / {other.group}: {ratio:.2f}x"
            if other.group == "pydantic":
                ok = "meets" if ratio <= GOAL else "misses"
                line += f"  ({ok} the goal <= {GOAL}x)"
                verdicts.append(f"{case.name}: {ratio:.2f}x pydantic ({ok} the goal)")
            print(line)
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
