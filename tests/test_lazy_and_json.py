"""Issue 6 section 5: the generated package loads its modules on first use,
and decodes straight from wire bytes (``from_json``, ``dispatch_json``)
with QEMU's messages, JSON parse errors included."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.support.errors import QMPError
from qapigen.support.qemujson import loads as qemu_loads
from qapigen.support.wirejson import parse
from tests.conftest import CORPUS, needs_corpus

SCHEMA_10 = CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json"
PACKAGE = "qmp_lazy102"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"QEMU's QAPI corpus is not at {CORPUS}")
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")
    folder = tmp_path_factory.mktemp("lazy")
    generate(
        GenerateOptions(
            schema=SCHEMA_10, output=folder, package=PACKAGE, formatter="none",
            cache_dir=folder / ".cache",
        )
    )
    return folder


@pytest.fixture(scope="module")
def qmp(out: Path) -> Iterator[ModuleType]:
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))


def _run(out: Path, code: str) -> Any:
    """Run *code* in a fresh interpreter with the package importable; it
    prints one JSON value, returned here."""
    prelude = f"import json, sys\nsys.path.insert(0, {str(out)!r})\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# -- lazy loading ---------------------------------------------------------------


@needs_corpus
def test_import_loads_no_part_module(out: Path) -> None:
    loaded = _run(
        out,
        f"""
        import {PACKAGE} as qmp
        before = sorted(m for m in sys.modules if m.startswith("{PACKAGE}."))
        class H(qmp.Handlers):
            def transaction(self, *, actions, properties=None):
                return None
        d = qmp.make_dispatcher(H())
        names = (len(qmp.TYPES), len(qmp.COMMANDS), len(qmp.EVENTS), "transaction" in qmp.COMMANDS)
        made = sorted(m for m in sys.modules if m.startswith("{PACKAGE}."))
        d.dispatch_json(b'{{"execute": "qmp_capabilities"}}')
        reply = d.dispatch_json(
            b'{{"execute": "transaction", "arguments": {{"actions": [{{"type": "abort", "data": {{}}}}]}}, "id": 7}}'
        ).decode()
        after = sorted(m for m in sys.modules if m.startswith("{PACKAGE}."))
        print(json.dumps([before, made, names, reply, after]))
        """,
    )
    before, made, names, reply, after = loaded
    assert before == []
    # Subclassing Handlers, making the dispatcher and counting the tables
    # load no module that holds schema types.
    assert made == [f"{PACKAGE}.handlers", f"{PACKAGE}.registry"]
    assert names == [1064, 243, 57, True]
    assert reply == '{"return":{},"id":7}'
    # The first command loads its own module and what it decodes: control
    # (qmp_capabilities) and the two transaction modules (the fast path,
    # which would load every action's module, waits for a second use).
    assert after == sorted(
        [*made, f"{PACKAGE}.control", f"{PACKAGE}.transaction_1", f"{PACKAGE}.transaction_2"]
    )


@needs_corpus
def test_client_loads_no_part_module(out: Path) -> None:
    """The client and what the package re-exports with it come from
    ``client.py`` alone: its types are imported for type checkers only."""
    loaded = _run(
        out,
        f"""
        import {PACKAGE} as qmp
        names = [qmp.Client.__module__, qmp.SyncClient.__name__, qmp.QMPError.__module__,
                 qmp.CommandError.__name__, hasattr(qmp.Client, "block_dirty_bitmap_add")]
        made = sorted(m for m in sys.modules if m.startswith("{PACKAGE}."))
        print(json.dumps([names, made]))
        """,
    )
    assert loaded == [[f"{PACKAGE}.client", "SyncClient", "qapigen.support.errors",
                       "CommandError", True], [f"{PACKAGE}.client"]]


@needs_corpus
def test_lazy_names_are_the_modules_objects(qmp: ModuleType) -> None:
    transaction = importlib.import_module(f"{PACKAGE}.transaction_2")
    assert qmp.TransactionArguments is transaction.TransactionArguments
    assert qmp.transaction_2 is transaction
    assert qmp.TYPES["TransactionProperties"] is qmp.TransactionProperties
    assert qmp.TYPES["ActionCompletionMode"] is qmp.ActionCompletionMode
    assert qmp.EVENTS["JOB_STATUS_CHANGE"] is qmp.JobStatusChange
    assert qmp.COMMANDS["transaction"] is transaction.COMMANDS_HERE["transaction"]
    assert qmp.TYPES["BlockDeviceInfoList"] is qmp.TYPES["BlockDeviceInfoList"]
    assert qmp.SCHEMA_INFO is qmp.registry.schema_info()
    assert "BlockdevBackup" in dir(qmp)
    with pytest.raises(AttributeError, match=f"module '{PACKAGE}' has no attribute 'Nope'"):
        qmp.Nope  # noqa: B018


@needs_corpus
def test_part_module_reaches_others_through_stand_ins(out: Path) -> None:
    """A module's cross-module references resolve on first use, then are
    the real modules."""
    kinds = _run(
        out,
        f"""
        from {PACKAGE} import transaction_1 as t
        before = type(t._block_core_14).__name__
        t.BlockDirtyBitmapAddWrapper.from_wire({{"data": {{"node": "n", "name": "b"}}}})
        print(json.dumps([before, type(t._block_core_14).__name__]))
        """,
    )
    assert kinds == ["LazyModule", "module"]


# -- from_json ----------------------------------------------------------------------


@needs_corpus
def test_from_json_on_every_kind(qmp: ModuleType) -> None:
    props = qmp.TransactionProperties.from_json(b'{"completion-mode": "grouped"}')
    assert props.completion_mode is qmp.ActionCompletionMode.GROUPED
    assert qmp.ActionCompletionMode.from_json('"individual"') is qmp.ActionCompletionMode.INDIVIDUAL
    action = qmp.TYPES["TransactionAction"].from_json('{"type": "abort", "data": {}}')
    assert type(action) is qmp.TransactionActionAbort
    assert qmp.TYPES["StrOrNull"].from_json(b"null") is qmp.TYPES["null"].from_json("null")
    assert qmp.TYPES["BlockDirtyBitmapOrStr"].from_json('"b0"') == "b0"
    assert qmp.TYPES["strList"].from_json(b'["a", "b"]') == ["a", "b"]
    assert qmp.TYPES["uint8"].from_json(b"255") == 255
    event = qmp.JobStatusChange.from_json(b'{"id": "j", "status": "running"}')
    assert event.status is qmp.JobStatus.RUNNING
    assert qmp.TransactionProperties.from_json(b"{'completion-mode': 'grouped'}") == props


@needs_corpus
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"actions": [{"type": "bogus"}]}', "Parameter 'type' does not accept value 'bogus'"),
        (
            b'{"actions": [{"type": "block-dirty-bitmap-add", "data": {"node": "n"}}]}',
            "Parameter 'actions[0].data.name' is missing",
        ),
        (b'{"actions": []', "JSON parse error, premature EOI"),
        (b'{"actions": [tru]}', "JSON parse error, invalid keyword 'tru'"),
        (b'{"actions" []}', "JSON parse error, missing : in object pair"),
        (b'{"actions": [], }', "JSON parse error, expecting value"),
    ],
)
def test_from_json_errors_are_qemus(qmp: ModuleType, text: bytes, message: str) -> None:
    with pytest.raises(QMPError) as caught:
        qmp.TransactionArguments.from_json(text)
    assert caught.value.desc == message
    assert caught.value.error_class == "GenericError"


@needs_corpus
def test_size_reply_from_json(qmp: ModuleType) -> None:
    with pytest.raises(QMPError) as caught:
        qmp.TYPES["BlockDirtyInfoList"].from_json(
            b'[{"count": 0, "granularity": 65536, "recording": true, "busy": false,'
            b' "persistent": 1}]'
        )
    assert caught.value.desc == "Invalid parameter type for '[0].persistent', expected: boolean"


# -- dispatch_json ------------------------------------------------------------------------


@needs_corpus
def test_dispatch_json(qmp: ModuleType) -> None:
    class Server(qmp.Handlers):  # type: ignore[misc, name-defined]
        def transaction(self, *, actions: Any, properties: Any = None) -> None:
            self.seen = [a.type.value for a in actions]

    server = Server()
    d = qmp.make_dispatcher(server)
    assert d.dispatch_json(b'{"execute": "qmp_capabilities", "id": 1}') == b'{"return":{},"id":1}'
    request = b'{"execute": "transaction", "id": "x", "arguments": {"actions": [{"type": "abort", "data": {}}]}}'
    assert d.dispatch_json(request) == b'{"return":{},"id":"x"}'
    assert server.seen == ["abort"]
    assert json.loads(d.dispatch_json('{"execute": "nope", "id": [1]}') or b"") == {
        "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"},
        "id": [1],
    }
    # Parse errors have no id: the request could not be read.
    assert d.dispatch_json(b'{"execute": "stop", "id": 1') == (
        b'{"error":{"class":"GenericError","desc":"JSON parse error, premature EOI"}}'
    )


# -- QEMU's JSON reading (no package needed) -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (b"}", "expecting value"),
        (b"[1,]", "expecting value"),
        (b'{"a": 1,}', "expecting value"),
        (b"tru", "invalid keyword 'tru'"),
        (b'{"a" 1}', "missing : in object pair"),
        (b'{"a": 1 "b": 2}', "expected separator in dict"),
        (b"[1 2]", "expected separator in list"),
        (b"{1: 2}", "key is not a string in object"),
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b'"\\x"', "invalid escape sequence in string"),
        (b"[", "premature EOI"),
        (b"\xff", "invalid UTF-8 sequence in string"),
    ],
)
def test_qemu_parse_errors(text: bytes, detail: str) -> None:
    with pytest.raises(QMPError) as caught:
        qemu_loads(text)
    assert caught.value.desc == f"JSON parse error, {detail}"


def test_qemu_extensions_are_accepted() -> None:
    assert parse(b"{'execute': 'it\\'s'}") == {"execute": "it's"}
    assert parse(b"[18446744073709551615, 18446744073709551616, 1e400]") == [
        2**64 - 1, 1.8446744073709552e19, float("inf"),
    ]
    assert parse('{"s": "\\u00e9\\ud83d\\ude00"}') == {"s": "\u00e9\U0001f600"}


# -- the fast path (msgspec) agrees with the exact path ----------------------------------


def _outcome(call: Any, *args: Any) -> tuple[str, Any]:
    try:
        result = call(*args)
    except QMPError as err:
        return ("error", err.desc)
    return ("ok", result.to_wire() if hasattr(result, "to_wire") else result)


@needs_corpus
@pytest.mark.parametrize(
    ("name", "value"),
    [
        # QEMU reads a negative unsigned number modulo 2**64: the fast path
        # refuses it and the exact path decides.
        ("BlockdevCreateOptionsFile", {"filename": "f", "size": -1}),
        ("BlockdevCreateOptionsFile", {"filename": "f", "size": 2**64 - 1}),
        ("BlockdevCreateOptionsFile", {"filename": "f", "size": 2**64}),
        ("BlockdevCreateOptionsFile", {"filename": "f", "size": None}),
        # A union of one branch: msgspec alone would not require the tag.
        ("QCryptoAkCipherOptions", {"hash-alg": "md5", "padding-alg": "raw"}),
        ("QCryptoAkCipherOptions", {"alg": "\u0000", "hash-alg": "md5", "padding-alg": "raw"}),
        ("QCryptoAkCipherOptions", {"alg": "rsa", "hash-alg": "md5", "padding-alg": "raw"}),
        ("StrOrNull", None),
        ("BlockDirtyBitmapOrStr", {"node": "n", "name": "b"}),
        ("BlockDirtyBitmapOrStr", {"node": "n"}),
        ("q_obj_transaction-arg", {"actions": [{"type": "drive-backup", "data": {}}]}),
    ],
)
def test_fast_path_agrees(qmp: ModuleType, name: str, value: Any) -> None:
    codec = qmp.TYPES[name]
    text = json.dumps(value)
    exact = _outcome(codec.from_wire, value)
    # Twice: the fast path is built on the second use of a type.
    assert _outcome(codec.from_json, text) == exact
    assert _outcome(codec.from_json, text) == exact
    if name == "BlockdevCreateOptionsFile" and value["size"] == -1:
        assert exact == ("ok", {"filename": "f", "size": 2**64 - 1})


@needs_corpus
def test_fast_path_is_taken_and_policy_respected(qmp: ModuleType) -> None:
    from qapigen.support import fastpath
    from qapigen.support.policy import CompatPolicy, policy_in_force

    assert fastpath.decoder(PACKAGE, "q_obj_transaction-arg") is not None
    assert fastpath.decoder_in_use(PACKAGE, "BlockdevSnapshotInternal") is None
    assert fastpath.decoder_in_use(PACKAGE, "BlockdevSnapshotInternal") is not None
    assert fastpath.decoder(PACKAGE, "q_obj_qom-set-arg") is None  # has an 'any' member
    text = '{"actions": [{"type": "drive-backup", "data": {"device": "d", "target": "t", "sync": "full"}}]}'
    assert qmp.TransactionArguments.from_json(text).actions[0].data.device == "d"
    with policy_in_force(CompatPolicy(deprecated_input="reject")), pytest.raises(QMPError) as caught:
        qmp.TransactionArguments.from_json(text)
    assert caught.value.desc == "Deprecated value drive-backup disabled by policy"


SESSION: list[bytes] = [
    b'{"execute": "transaction", "arguments": {"actions": []}, "id": 0}',  # before negotiation
    b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 1}',  # not offered
    b'{"execute": "qmp_capabilities", "arguments": {"enable": ["bogus"]}}',
    b'{"execute": "qmp_capabilities", "arguments": {}, "id": "neg"}',
    b'{"execute": "qmp_capabilities", "arguments": {}}',  # again
    b'{"execute": "transaction", "arguments": {"actions": [{"type": "abort", "data": {}}]},'
    b' "id": 18446744073709551616}',
    b'{"execute": "transaction", "id": {"a": [1]}, "arguments": {"actions": '
    b'[{"type": "drive-backup", "data": {"device": "d", "target": "t", "sync": "full"}}]}}',
    b'{"execute": "transaction", "arguments": {"actions": [{"type": "abort"}]}, "id": 2}',
    b'{"execute": "transaction", "arguments": {"actions": [], "x": 1}, "id": 3}',
    b'{"execute": "transaction", "arguments": [], "id": 4}',
    b'{"execute": "transaction", "arguments": {"actions": []}, "extra": 1, "id": 5}',
    b'{"exec-oob": "transaction", "arguments": {"actions": []}, "id": 6}',
    b'{"execute": "nope", "arguments": {"a": 1}, "id": 7}',
    b"{'execute': 'transaction', 'arguments': {'actions': []}, 'id': 8}",
    b'{"execute": "transaction", "arguments": {"actions": []}, "id": 9',
    b'{"execute": "block-dirty-bitmap-add", "arguments": {"node": "n", "name": "b", "granularity": -1}}',
]


@needs_corpus
def test_dispatch_json_fast_path_answers_as_the_exact_path(qmp: ModuleType) -> None:
    class Server(qmp.Handlers):  # type: ignore[misc, name-defined]
        def transaction(self, *, actions: Any, properties: Any = None) -> None:
            return None

    fast = qmp.make_dispatcher(Server())
    exact = qmp.make_dispatcher(Server())
    exact.package = ""  # no package: every request takes the exact path
    assert fast.package == PACKAGE
    replies = [(fast.dispatch_json(r), exact.dispatch_json(r)) for r in SESSION]
    for request, (mine, theirs) in zip(SESSION, replies, strict=True):
        assert mine == theirs, request
    # An id beyond 64 bits is echoed as the float QEMU reads it as (how the
    # exponent is spelled is up to the JSON writer's version).
    assert json.loads(replies[5][0]) == {"return": {}, "id": 1.8446744073709552e19}
    assert type(json.loads(replies[5][0])["id"]) is float
    assert replies[7][0] == (
        b'{"error":{"class":"GenericError","desc":"Parameter \'actions[0].data\' is missing"},"id":2}'
    )
    # The valid transaction was decoded by msgspec.
    assert fast._prepare_fast(SESSION[6]) is not None
    assert exact._prepare_fast(SESSION[6]) is None
