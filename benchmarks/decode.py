"""How fast one QMP ``transaction`` request is decoded and validated.

The request, as JSON text (bytes, as a socket delivers it), holds four
actions (block-dirty-bitmap-add, blockdev-backup, blockdev-snapshot-sync,
block-dirty-bitmap-merge) and the transaction properties.  Each contender
turns the text into validated, typed objects, in one process:

- qapigen: ``orjson.loads`` (``json.loads`` without orjson), the request
  envelope check, then the generated ``qmp.TransactionArguments.from_wire``;
  and, for the whole server path, the generated dispatcher with a no-op
  ``transaction`` handler (text to response object);
- pydantic v2, equivalent models (``benchmarks/_models.py``), both from the
  text (``model_validate_json``, parsing in Rust) and from parsed JSON;
- msgspec, equivalent tagged-union Structs, both from the text (a typed
  ``Decoder``) and from parsed JSON (``msgspec.convert``);
- ``json.loads`` and ``orjson.loads`` alone, for reference.

Every contender is first checked to accept the request, to produce the
same arguments, and to reject an invalid one (``granularity`` 2**40).  The
error path is timed as well, up to the message text (``str(error)``, which a
server needs for its reply), and the messages printed: qapigen's must be
QEMU's ``Parameter 'granularity' expects uint32_t``.

The qapigen rows need the generated package (``qapigen generate`` writes
it to ``generated/qmp``); pydantic and msgspec come with the ``bench``
extra.  Missing pieces are skipped with a note.

Usage::

    python benchmarks/decode.py [--rounds N] [--iterations N] [--json]
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from qapigen.support.errors import QMPError  # noqa: E402

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is optional
    orjson = None  # type: ignore[assignment]

LOADS: Callable[[bytes], Any] = orjson.loads if orjson is not None else json.loads
LOADS_NAME = "orjson.loads" if orjson is not None else "json.loads"

ARGUMENTS: dict[str, Any] = {
    "actions": [
        {
            "type": "block-dirty-bitmap-add",
            "data": {
                "node": "libvirt-1-format",
                "name": "backup-20250611T0200",
                "granularity": 65536,
                "persistent": True,
                "disabled": False,
            },
        },
        {
            "type": "blockdev-backup",
            "data": {
                "job-id": "backup-vda-libvirt-1-format",
                "device": "libvirt-1-format",
                "target": "libvirt-3-format",
                "sync": "bitmap",
                "bitmap": "backup-20250610T0200",
                "bitmap-mode": "on-success",
                "speed": 104857600,
                "compress": False,
                "on-source-error": "report",
                "on-target-error": "enospc",
                "auto-finalize": True,
                "auto-dismiss": False,
                "filter-node-name": "backup-filter-vda",
            },
        },
        {
            "type": "blockdev-snapshot-sync",
            "data": {
                "node-name": "libvirt-2-format",
                "snapshot-file": "/var/lib/libvirt/images/vm01-vdb.20250611T0200.qcow2",
                "snapshot-node-name": "libvirt-4-format",
                "format": "qcow2",
                "mode": "absolute-paths",
            },
        },
        {
            "type": "block-dirty-bitmap-merge",
            "data": {
                "node": "libvirt-1-format",
                "target": "backup-20250611T0200",
                "bitmaps": [
                    "backup-20250609T0200",
                    {"node": "libvirt-5-format", "name": "backup-20250608T0200"},
                ],
            },
        },
    ],
    "properties": {"completion-mode": "individual"},
}
REQUEST: dict[str, Any] = {"execute": "transaction", "arguments": ARGUMENTS, "id": "libvirt-417"}
TEXT = json.dumps(REQUEST).encode()


def _invalid_request() -> dict[str, Any]:
    request = copy.deepcopy(REQUEST)
    request["arguments"]["actions"][0]["data"]["granularity"] = 2**40
    return request


INVALID_TEXT = json.dumps(_invalid_request()).encode()
QEMU_ERROR = "Parameter 'granularity' expects uint32_t"

# -- timing -------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples: list[float]  # ns per message, one per round
    group: str = ""  # "qapigen", "pydantic", "msgspec" or "" (reference)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def measure(
    funcs: Sequence[Callable[[bytes], object]], text: bytes, rounds: int, iterations: int
) -> list[list[float]]:
    """ns per call of ``func(text)`` for each of *funcs*: one sample per
    round of *iterations* calls, with the garbage collector off while the
    clock runs.  Each round times every function in turn, so a change in
    machine load shows in every function's samples, not in one's."""
    for func in funcs:
        for _ in range(min(iterations, 2000)):  # warm-up: caches, lazy imports
            func(text)
    samples: list[list[float]] = [[] for _ in funcs]
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for func, out in zip(funcs, samples, strict=True):
            gc.collect()
            gc.disable()
            try:
                start = clock()
                for _ in repeat(None, iterations):
                    func(text)
                out.append((clock() - start) / iterations)
            finally:
                gc.enable()
    return samples


def raises(func: Callable[[bytes], object], error: type[Exception]) -> Callable[[bytes], str]:
    """*func* wrapped to return the message of the *error* it must raise."""

    def call(text: bytes) -> str:
        try:
            func(text)
        except error as err:
            return str(err)
        raise AssertionError(f"{func.__name__} accepted the invalid request")

    return call


# -- contenders -----------------------------------------------------------------


@dataclass
class Contender:
    name: str
    group: str
    decode: Callable[[bytes], object]
    #: The decoded arguments back as JSON values, to compare with ARGUMENTS.
    arguments_of: Callable[[Any], object] | None = None
    #: What the decoder raises for an invalid request.
    error: type[Exception] | None = None


def qapigen_contenders(notes: list[str]) -> list[Contender]:
    if not (GENERATED / "qmp" / "__init__.py").is_file():
        notes.append(
            f"qapigen skipped: no generated package at {GENERATED / 'qmp'} "
            "(run `qapigen generate`, then run this again)"
        )
        return []
    sys.path.insert(0, str(GENERATED))
    qmp = importlib.import_module("qmp")

    from_wire = qmp.TransactionArguments.from_wire
    envelope = frozenset({"execute", "arguments", "id"})

    def decode(text: bytes) -> object:
        request = LOADS(text)
        if type(request) is not dict or request.get("execute") != "transaction":
            raise QMPError("not a transaction request")
        if not request.keys() <= envelope:
            raise QMPError("unexpected request member")
        return from_wire(request.get("arguments", {}))

    contenders = [
        Contender(
            f"{LOADS_NAME} + TransactionArguments.from_wire",
            "qapigen",
            decode,
            lambda args: args.to_wire(),
            QMPError,
        )
    ]
    make_dispatcher = getattr(qmp, "make_dispatcher", None)
    if make_dispatcher is None:
        notes.append("qapigen dispatcher row skipped: qmp.make_dispatcher does not exist")
        return contenders

    handlers_base: Any = qmp.Handlers

    class NoOp(handlers_base):  # type: ignore[misc]
        received: tuple[object, object] = ((), None)

        def transaction(self, *, actions: object, properties: object = None) -> None:
            self.received = (actions, properties)

    handlers = NoOp()
    dispatcher = make_dispatcher(handlers)
    negotiated = dispatcher.dispatch({"execute": "qmp_capabilities"})
    if negotiated != {"return": {}}:
        notes.append(f"qapigen dispatcher row skipped: qmp_capabilities gave {negotiated}")
        return contenders

    def dispatch(text: bytes) -> object:
        response = dispatcher.dispatch(LOADS(text))
        if response is None:
            raise AssertionError("transaction sent no response")
        if "error" in response:
            raise QMPError(response["error"]["desc"], response["error"]["class"])
        return response

    def dispatched_arguments(response: object) -> object:
        assert response == {"return": {}, "id": REQUEST["id"]}, response
        actions, properties = handlers.received
        return qmp.TransactionArguments(actions=actions, properties=properties).to_wire()

    contenders.append(
        Contender(
            f"{LOADS_NAME} + Dispatcher.dispatch (no-op handler)",
            "qapigen",
            dispatch,
            dispatched_arguments,
            QMPError,
        )
    )
    return contenders


def library_contenders(notes: list[str]) -> list[Contender]:
    try:
        import msgspec
        import pydantic

        from benchmarks import _models as m
    except ImportError as err:
        notes.append(f"pydantic and msgspec skipped ({err}); pip install -e '.[bench]'")
        return []

    def pydantic_arguments(request: Any) -> object:
        return request.arguments.model_dump(mode="json", by_alias=True, exclude_none=True)

    def msgspec_arguments(request: Any) -> object:
        return msgspec.to_builtins(request.arguments)

    def pydantic_from_json(text: bytes) -> object:
        return m.PTransactionRequest.model_validate_json(text)

    def pydantic_from_python(text: bytes) -> object:
        return m.PTransactionRequest.model_validate(LOADS(text))

    decoder = msgspec.json.Decoder(m.MTransactionRequest)

    def msgspec_from_json(text: bytes) -> object:
        return decoder.decode(text)

    def msgspec_from_python(text: bytes) -> object:
        return msgspec.convert(LOADS(text), m.MTransactionRequest)

    pydantic_error = pydantic.ValidationError
    msgspec_error = msgspec.ValidationError
    return [
        Contender(
            "model_validate_json(text)",
            "pydantic",
            pydantic_from_json,
            pydantic_arguments,
            pydantic_error,
        ),
        Contender(
            f"model_validate({LOADS_NAME}(text))",
            "pydantic",
            pydantic_from_python,
            pydantic_arguments,
            pydantic_error,
        ),
        Contender(
            "json.Decoder(Request).decode(text)",
            "msgspec",
            msgspec_from_json,
            msgspec_arguments,
            msgspec_error,
        ),
        Contender(
            f"convert({LOADS_NAME}(text), Request)",
            "msgspec",
            msgspec_from_python,
            msgspec_arguments,
            msgspec_error,
        ),
    ]


def reference_contenders() -> list[Contender]:
    contenders = [Contender("json.loads (parse only)", "", json.loads)]
    if orjson is not None:
        contenders.append(Contender("orjson.loads (parse only)", "", orjson.loads))
    return contenders


def check(contender: Contender) -> None:
    """The contender accepts the request, keeps its arguments, and rejects
    the invalid one: a fast wrong decoder would not be worth timing."""
    result = contender.decode(TEXT)
    if contender.arguments_of is not None:
        got = contender.arguments_of(result)
        assert got == ARGUMENTS, f"{contender.group} {contender.name}: arguments differ: {got}"
    if contender.error is not None:
        raises(contender.decode, contender.error)(INVALID_TEXT)


# -- report -----------------------------------------------------------------------


def us(ns: float) -> str:
    return f"{ns / 1000:7.2f} µs"


def label(timing: Timing) -> str:
    return f"{timing.group}: {timing.name}" if timing.group else timing.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=20_000, help="messages per round")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    notes: list[str] = []
    contenders = [
        *reference_contenders(),
        *qapigen_contenders(notes),
        *library_contenders(notes),
    ]
    for contender in contenders:
        check(contender)
    samples = measure([c.decode for c in contenders], TEXT, args.rounds, args.iterations)
    timings = [Timing(c.name, s, c.group) for c, s in zip(contenders, samples, strict=True)]

    # The error path: qapigen's message must be QEMU's, word for word.
    failing = [c for c in contenders if c.error is not None and c.group]
    rejects = [raises(c.decode, c.error) for c in failing if c.error is not None]
    messages = [reject(INVALID_TEXT) for reject in rejects]
    for contender, message in zip(failing, messages, strict=True):
        if contender.group == "qapigen":
            assert message == QEMU_ERROR, f"qapigen says {message!r}, QEMU {QEMU_ERROR!r}"
    samples = measure(rejects, INVALID_TEXT, args.rounds, args.iterations)
    errors = [
        (Timing(c.name, s, c.group), message)
        for c, s, message in zip(failing, samples, messages, strict=True)
    ]

    if args.json:
        print(
            json.dumps(
                {
                    "message_bytes": len(TEXT),
                    "rounds": args.rounds,
                    "iterations": args.iterations,
                    "valid": {label(t): {"median_ns": t.median, "min_ns": t.best} for t in timings},
                    "invalid": {
                        label(t): {"median_ns": t.median, "min_ns": t.best, "message": msg}
                        for t, msg in errors
                    },
                    "notes": notes,
                },
                indent=2,
            )
        )
        return 0

    width = max(len(label(t)) for t in timings + [t for t, _ in errors]) + 2
    print(
        f"decode + validate one 4-action `transaction` request ({len(TEXT)} bytes of JSON), "
        f"{args.rounds} rounds x {args.iterations} messages, per message:"
    )
    print(f"  {'':{width}} {'median':>10} {'min':>10}")
    for timing in timings:
        print(f"  {label(timing):{width}} {us(timing.median)} {us(timing.best)}")
    print_ratios(timings)
    if errors:
        print("\ninvalid request (granularity 2**40), error path per message:")
        for timing, _ in errors:
            print(f"  {label(timing):{width}} {us(timing.median)} {us(timing.best)}")
        said: dict[str, str] = {}
        for timing, message in errors:
            lines = [line.strip() for line in message.splitlines()[:3]]
            said.setdefault(timing.group, " / ".join(lines))
        for group, message in said.items():
            print(f"  {group} says: {message}")
    for note in notes:
        print(f"note: {note}")
    return 0


def print_ratios(timings: list[Timing]) -> None:
    """qapigen's median against each pydantic and msgspec row."""
    ours = [t for t in timings if t.group == "qapigen"]
    theirs = [t for t in timings if t.group in ("pydantic", "msgspec")]
    if not ours or not theirs:
        return
    print("\nqapigen / other, ratio of medians (below 1: qapigen is faster):")
    for mine in ours:
        for other in theirs:
            ratio = mine.median / other.median
            verdict = f"{ratio:.1f}x slower" if ratio >= 1 else f"{1 / ratio:.1f}x faster"
            print(
                f"  {ratio:6.2f}  ({verdict})  qapigen {mine.name}  vs  {other.group} {other.name}"
            )


if __name__ == "__main__":
    sys.exit(main())
