"""Every type of QEMU's schema, through the generated package and back.

The acceptance of issue 3: for every type of the 10.2 package and of the
3.1 package (legacy dialect), valid wire values decode and re-encode to the
same JSON, and mutated values (a required member missing, an extra member,
a value of the wrong JSON type, a bad enum value, an out-of-range integer,
an alternate given no branch's JSON type) raise QEMU's exact text for that
case.

The oracle is :mod:`tests.wire_strategies`, built from the IR alone; the
generated code is only ever the thing under test.  Each type gets a few
derandomized hypothesis examples.  Each example decodes at a drawn place
(a command's arguments, a named member, a list element, ...), so full
paths and bare names are checked too, and checks

* one valid value: its round trip, and the round trip of that;
* one mutant of it, changed in one place: QEMU's message for that place;
* the mutant changed in a second, unrelated place: the message of the
  place QEMU's visit reaches first (members in schema order, a union
  branch's after the common members, unexpected members last).

QEMU's texts that the spec quotes are pinned as plain examples as well,
and so are the cases the property once found wrong (``size`` messages,
union branches that are unions, optional ``any`` members sent as null).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note
from hypothesis import strategies as st

import qapigen
from qapigen.backends.python.generate import GenerateOptions, generate
from qapigen.dialect import Dialect
from qapigen.ir import Schema, Type
from qapigen.support.codec import Codec
from qapigen.support.errors import QMPError
from tests.conftest import CORPUS, hypothesis_settings, needs_corpus
from tests.wire_strategies import (
    CONTEXTS,
    JSON,
    Context,
    canonical,
    first_error,
    independent,
    mutations,
    wire_values,
)

# release -> (schema file, dialect, package name).  Package names of their
# own, so that other test modules importing the same schemas never clash.
RELEASES: dict[str, tuple[Path, Dialect, str]] = {
    "qemu-10.2": (CORPUS / "qemu-10.2" / "qapi" / "qapi-schema.json", Dialect.QEMU, "qmp_rt102"),
    "qemu-3.1": (CORPUS / "qemu-3.1" / "qapi" / "qapi-schema.json", Dialect.LEGACY, "qmp_rt31"),
}

PROPERTY = hypothesis_settings(
    max_examples=6,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@cache
def _schema(release: str) -> Schema:
    path, dialect, _ = RELEASES[release]
    return qapigen.load_schema(str(path), dialect)


def _type_params() -> list[Any]:
    """One parameter per (release, type), so that a failure names its type.

    The schemas load while collecting; if one does not, that is left for
    the tests to report (a collection error would stop the whole session).
    """
    if not CORPUS.is_dir():
        return [pytest.param("", "", id="no-corpus")]
    params = []
    for release in RELEASES:
        try:
            names = [typ.name for typ in _schema(release).types()]
        except Exception:
            params.append(pytest.param(release, "", id=f"{release}:schema-does-not-load"))
            continue
        params += [pytest.param(release, name, id=f"{release}:{name}") for name in names]
    return params


@dataclass(repr=False)
class Package:
    release: str
    schema: Schema
    types: dict[str, Any]  # the generated TYPES

    def __repr__(self) -> str:  # hypothesis prints the fixture on failure
        return f"<{self.release} package>"

    def ir(self, name: str) -> Type:
        typ = self.schema.lookup_type(name)
        assert typ is not None, name
        return typ

    def decode(self, name: str, value: JSON, ctx: Context = CONTEXTS[0]) -> Any:
        return self.types[name].from_wire(value, ctx.path, ctx.name)

    def encode(self, name: str, obj: Any) -> JSON:
        codec = self.types[name]
        return codec.to_wire(obj) if isinstance(codec, Codec) else obj.to_wire()


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Package]]:
    """Both schemas generated (no formatter) and imported side by side."""
    if not CORPUS.is_dir():
        pytest.skip(f"QEMU's QAPI corpus is not at {CORPUS} (CI provides it as ../shared)")
    out = tmp_path_factory.mktemp("roundtrip")
    loaded: dict[str, Package] = {}
    sys.path.insert(0, str(out))
    try:
        for release, (schema, dialect, package) in RELEASES.items():
            generate(
                GenerateOptions(
                    schema=schema,
                    output=out,
                    package=package,
                    dialect=dialect,
                    formatter="none",
                    cache_dir=out / ".cache",
                )
            )
            module = importlib.import_module(package)
            loaded[release] = Package(release, _schema(release), module.TYPES)
    finally:
        sys.path.remove(str(out))
    yield loaded


@pytest.fixture(autouse=True)
def _unchained_settings(request: pytest.FixtureRequest) -> None:
    """Give each parametrized item the plain PROPERTY settings.

    hypothesis's pytest plugin wraps the settings of a parametrized test in
    one more ``settings(parent=...)`` layer for every item it runs, on the
    shared function object; past ~950 items the chain overflows Python's
    recursion limit (hypothesis 6.155), and well before that every settings
    lookup walks it.  Resetting it here, before the plugin's call hook,
    keeps it one layer deep.
    """
    fn = getattr(request.function, "__func__", request.function)
    if hasattr(fn, "_hypothesis_internal_use_settings"):
        fn._hypothesis_internal_use_settings = PROPERTY


def _same_json(actual: JSON, expected: JSON) -> bool:
    """Equal as JSON text: ints stay ints, true is not 1."""
    return json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True)


def _qmp_error(pkg: Package, name: str, value: JSON, ctx: Context) -> str | None:
    """The desc of the QMPError decoding raised, None if it decoded."""
    try:
        pkg.decode(name, value, ctx)
    except QMPError as err:
        assert err.error_class == "GenericError", err.error_class
        return err.desc
    return None


# -- the property ------------------------------------------------------------------


@needs_corpus
def test_every_type_is_covered(packages: dict[str, Package]) -> None:
    """The parametrization below is every type the generated TYPES has."""
    for release, pkg in packages.items():
        assert {t.name for t in pkg.schema.types()} == set(pkg.types), release


@needs_corpus
@pytest.mark.parametrize(("release", "name"), _type_params())
@PROPERTY
@given(data=st.data())
def test_wire_value(
    packages: dict[str, Package], release: str, name: str, data: st.DataObject
) -> None:
    pkg = packages[release]
    typ = pkg.ir(name)
    ctx = data.draw(st.sampled_from(CONTEXTS), label="context")
    valid = wire_values(
        typ,
    )
    value = data.draw(valid, label="valid value")

    # Valid: decodes, and re-encodes to the same JSON (numbers as floats);
    # the re-encoded JSON decodes and re-encodes to itself again.
    decoded = pkg.decode(name, value, ctx)
    encoded = pkg.encode(name, decoded)
    assert _same_json(encoded, canonical(typ, value))
    assert _same_json(pkg.encode(name, pkg.decode(name, encoded, ctx)), encoded)

    # Mutated in one place: QEMU's message for that place.
    candidates = [
        m for m in mutations(typ, value, ctx)
    ]
    if not candidates:  # 'any' accepts every JSON value
        return
    first = data.draw(st.sampled_from(candidates), label="mutation")
    mutant, expected = first.make(data.draw, value)
    note(f"{first.kind} at {first.target}: {mutant!r}")
    assert _qmp_error(pkg, name, mutant, ctx) == expected

    # Mutated in a second, unrelated place as well: QEMU reports whichever
    # its visit reaches first.
    others = [m for m in candidates if independent(first, m)]
    if not others:
        return
    second = data.draw(st.sampled_from(others), label="second mutation")
    mutant, expected_second = second.make(data.draw, mutant)
    note(f"then {second.kind} at {second.target}: {mutant!r}")
    winner = first_error(first, second)
    assert _qmp_error(pkg, name, mutant, ctx) == (expected if winner is first else expected_second)


FROM_JSON = hypothesis_settings(PROPERTY, max_examples=3)


def _from_json_outcome(pkg: Package, name: str, text: str) -> tuple[str, JSON]:
    """("ok", the value re-encoded) or ("error", QEMU's message); the
    same twice (the fast path is built on the second use of a type)."""
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(("ok", pkg.encode(name, pkg.types[name].from_json(text))))
        except QMPError as err:
            outcomes.append(("error", err.desc))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


def _from_wire_outcome(pkg: Package, name: str, value: JSON) -> tuple[str, JSON]:
    try:
        return ("ok", pkg.encode(name, pkg.decode(name, value)))
    except QMPError as err:
        return ("error", err.desc)


@needs_corpus
@pytest.mark.parametrize(
    ("release", "name"), _type_params()
)
@FROM_JSON
@given(data=st.data())
def test_from_json_agrees_with_from_wire(
    packages: dict[str, Package], release: str, name: str, data: st.DataObject
) -> None:
    """``from_json`` (its msgspec fast path, and the exact path it falls
    back on) accepts what ``from_wire`` accepts, with the same value, and
    refuses what it refuses, with the same message."""
    pkg = packages[release]
    typ = pkg.ir(name)
    value = data.draw(wire_values(typ), label="valid value")
    candidates = list(mutations(typ, value, CONTEXTS[0]))
    inputs = [value]
    if candidates:
        mutation = data.draw(st.sampled_from(candidates), label="mutation")
        inputs.append(mutation.make(data.draw, value)[0])
    for wire in inputs:
        try:
            text = json.dumps(wire, allow_nan=False)
        except ValueError:  # NaN or infinity: not JSON text at all
            continue
        assert _from_json_outcome(pkg, name, text) == _from_wire_outcome(pkg, name, wire)
    # The valid value does decode (through the fast path when it has one).
    assert _from_json_outcome(pkg, name, json.dumps(value, allow_nan=False))[0] == "ok" or (
        not _same_json(value, value)
    )


# -- QEMU's own examples ------------------------------------------------------------
# Texts quoted in the behaviour spec (A.3, A.7; verified on QEMU 7.2), as
# fixed anchors next to the property.

TRANSACTION = "q_obj_transaction-arg"
ADD = {"type": "block-dirty-bitmap-add", "data": {"node": "n", "name": "b"}}


def _add(**data: JSON) -> dict[str, JSON]:
    return {
        "actions": [{"type": "block-dirty-bitmap-add", "data": {"node": "n", "name": "b", **data}}]
    }


SPEC_EXAMPLES: list[tuple[str, JSON, str]] = [
    (
        "q_obj_qmp_capabilities-arg",
        {"enable": ["foo"]},
        "Parameter 'null' does not accept value 'foo'",
    ),
    (
        "q_obj_qmp_capabilities-arg",
        {"enable": "oob"},
        "Invalid parameter type for 'enable', expected: array",
    ),
    ("q_obj_qmp_capabilities-arg", {"foo": 1}, "Parameter 'foo' is unexpected"),
    (
        TRANSACTION,
        {"actions": [{"type": "block-dirty-bitmap-add", "data": {"node": "n"}}]},
        "Parameter 'actions[0].data.name' is missing",
    ),
    (TRANSACTION, _add(x=1), "Parameter 'actions[0].data.x' is unexpected"),
    (
        TRANSACTION,
        {"actions": [ADD], "properties": {"x": 1}},
        "Parameter 'properties.x' is unexpected",
    ),
    (
        TRANSACTION,
        {"actions": [{"type": "block-dirty-bitmap-add", "data": []}]},
        "Invalid parameter type for 'actions[0].data', expected: object",
    ),
    (TRANSACTION, {"actions": {}}, "Invalid parameter type for 'actions', expected: array"),
    (
        TRANSACTION,
        _add(persistent=1),
        "Invalid parameter type for 'actions[0].data.persistent', expected: boolean",
    ),
    (TRANSACTION, _add(granularity="x"), "Parameter 'actions[0].data.granularity' expects uint64"),
    (
        TRANSACTION,
        _add(granularity=2**64),
        "Parameter 'actions[0].data.granularity' expects uint64",
    ),
    (TRANSACTION, _add(granularity=2**32), "Parameter 'granularity' expects uint32_t"),
    (TRANSACTION, _add(granularity=-1), "Parameter 'granularity' expects uint32_t"),
    (
        TRANSACTION,
        {"actions": [{"type": "foo", "data": {}}]},
        "Parameter 'type' does not accept value 'foo'",
    ),
    (TRANSACTION, {"actions": [{"data": {}}]}, "Parameter 'actions[0].type' is missing"),
    (TRANSACTION, {"actions": [{"type": "abort"}]}, "Parameter 'actions[0].data' is missing"),
    (
        "BlockDirtyBitmapMerge",
        {"node": "n", "target": "t", "bitmaps": [1]},
        "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr",
    ),
    (
        "BlockDirtyBitmapAdd",
        {"node": "n", "name": 5},
        "Invalid parameter type for 'name', expected: string",
    ),
    (
        "DriveBackup",
        {"device": "d", "target": "t", "sync": "weird"},
        "Parameter 'sync' does not accept value 'weird'",
    ),
    (
        "q_obj_block-job-set-speed-arg",
        {"device": "d", "speed": 1.5},
        "Invalid parameter type for 'speed', expected: integer",
    ),
    (
        "q_obj_block-job-set-speed-arg",
        {"device": "d", "speed": 1e3},
        "Invalid parameter type for 'speed', expected: integer",
    ),
]


@needs_corpus
@pytest.mark.parametrize(("name", "value", "expected"), SPEC_EXAMPLES)
def test_spec_examples(packages: dict[str, Package], name: str, value: JSON, expected: str) -> None:
    assert _qmp_error(packages["qemu-10.2"], name, value, CONTEXTS[0]) == expected


# -- known bugs of the generated code -------------------------------------------------


SIZE_CASES: list[tuple[str, str, JSON, Context]] = [
    ("qemu-10.2", "size", "1G", Context("arg", "arg")),
    ("qemu-10.2", "BlockdevCreateOptionsFile", {"filename": "f", "size": "1G"}, CONTEXTS[0]),
    ("qemu-10.2", "BlockdevCreateOptionsFile", {"filename": "f", "size": 2**64}, CONTEXTS[0]),
    ("qemu-3.1", "BlockdevCreateOptionsFile", {"filename": "f", "size": 1.5}, CONTEXTS[0]),
]


@needs_corpus
@pytest.mark.parametrize(("release", "name", "value", "ctx"), SIZE_CASES)
def test_size_type_error_says_uint64(
    packages: dict[str, Package], release: str, name: str, value: JSON, ctx: Context
) -> None:
    path = ctx.full(("size",)) if name != "size" else ctx.path
    assert _qmp_error(packages[release], name, value, ctx) == f"Parameter '{path}' expects uint64"


NESTED_UNION = {"transport": "socket", "type": "inet", "host": "localhost", "port": "4444"}


@needs_corpus
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MigrationAddress", NESTED_UNION),
        ("MigrationChannel", {"channel-type": "main", "addr": NESTED_UNION}),
        (
            "q_obj_migrate-incoming-arg",
            {"channels": [{"channel-type": "main", "addr": NESTED_UNION}]},
        ),
    ],
)
def test_union_branch_that_is_a_union(packages: dict[str, Package], name: str, value: JSON) -> None:
    pkg = packages["qemu-10.2"]
    assert _qmp_error(pkg, name, value, CONTEXTS[0]) is None
    assert _same_json(pkg.encode(name, pkg.decode(name, value)), value)


@needs_corpus
def test_union_branch_that_is_a_union_checks_its_branch(packages: dict[str, Package]) -> None:
    value = {"transport": "socket", "type": "inet", "port": "4444"}
    assert _qmp_error(packages["qemu-10.2"], "MigrationAddress", value, CONTEXTS[0]) == (
        "Parameter 'host' is missing"
    )


@needs_corpus
@pytest.mark.parametrize(
    ("release", "name", "value"),
    [
        ("qemu-10.2", "SchemaInfoObjectMember", {"name": "x", "type": "int", "default": None}),
        ("qemu-10.2", "ObjectPropertyInfo", {"name": "x", "type": "int", "default-value": None}),
        ("qemu-3.1", "SchemaInfoObjectMember", {"name": "x", "type": "int", "default": None}),
    ],
)
def test_optional_any_member_sent_as_null(
    packages: dict[str, Package], release: str, name: str, value: JSON
) -> None:
    pkg = packages[release]
    assert _same_json(pkg.encode(name, pkg.decode(name, value)), value)
