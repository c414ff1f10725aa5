"""A union's branch classes, called directly.

Decoding through the union picks the branch by tag; a client (or the
runtime) may also call one branch class's ``from_wire`` itself, say
``TransactionActionBlockDirtyBitmapAdd.from_wire(action)``.  That must
decode only values whose tag names that branch: another branch's tag is
refused with the tag enum's error, never decoded and silently re-tagged.

Valid values come from the IR (tests/wire_strategies.py), not from the
generated code; both template paths are covered (branches of a union with
a named base decode it through ``wire_fields`` first: SchemaInfo,
BlockdevOptions; the others decode the tag member alone: TransactionAction,
BlockdevQcow2Encryption, ImageInfoSpecific).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qapigen import load_schema
from qapigen.ir import ObjectType
from qapigen.support.errors import QMPError
from tests import wire_strategies as ws
from tests.conftest import REPO, hypothesis_settings

SCHEMA = load_schema(str(REPO / "schema" / "qapi-schema.json"))
UNIONS = sorted(
    (t for t in SCHEMA.types() if isinstance(t, ObjectType) and t.branches is not None),
    key=lambda t: t.name,
)


@pytest.fixture(scope="module")
def qmp() -> ModuleType:
    sys.path.insert(0, str(REPO / "generated"))
    try:
        return importlib.import_module("qmp")
    finally:
        sys.path.remove(str(REPO / "generated"))


def _branch_classes(qmp: ModuleType, sample: Any) -> dict[str, type]:
    """Tag value -> branch class, for the union *sample* is a branch of:
    the package's classes with the same tag enum and the same base."""
    base = type(sample).__mro__[1]
    # The package is lazy: dir() lists every name, getattr() loads it.
    return {
        cls.TAG.value: cls
        for cls in (getattr(qmp, name) for name in dir(qmp))
        if isinstance(cls, type) and hasattr(cls, "from_branch")
        and type(getattr(cls, "TAG", None)) is type(sample.TAG) and cls.__mro__[1] is base
    }  # fmt: skip


def test_unions_of_the_committed_package() -> None:
    assert [u.name for u in UNIONS] == [
        "BlockdevOptions", "BlockdevQcow2Encryption", "ImageInfoSpecific", "SchemaInfo",
        "TransactionAction",
    ]  # fmt: skip


@pytest.mark.parametrize("union", UNIONS, ids=lambda u: u.name)
@settings(
    hypothesis_settings(max_examples=30),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_branch_class_decodes_only_its_own_tag(
    union: ObjectType, qmp: ModuleType, data: st.DataObject
) -> None:
    assert union.branches is not None
    tag = union.branches.tag_member.name
    value = data.draw(ws.wire_values(union), label="value")
    decoded = qmp.TYPES[union.name].from_wire(value)
    branches = _branch_classes(qmp, decoded)
    assert sorted(branches) == sorted(v.name for v in union.branches.variants)
    own = branches[value[tag]]
    assert type(decoded) is own
    # Its own class decodes the value to the same object.
    assert own.from_wire(value) == decoded
    # Every other branch class refuses it, naming the tag and its value.
    for other_tag, cls in branches.items():
        if cls is own:
            continue
        with pytest.raises(QMPError) as excinfo:
            cls.from_wire(value)
        assert str(excinfo.value) == f"Parameter '{tag}' does not accept value '{value[tag]}'"
        assert excinfo.value.error_class == "GenericError"
        # Nor does the class take the value re-tagged as its own: the
        # members then belong to another branch (or are missing).
        assert other_tag != value[tag]


def test_the_audit_example(qmp: ModuleType) -> None:
    """The case the mutation audit found: a bitmap-add action class fed a
    bitmap-remove action decoded it and rewrote the tag."""
    action = {"type": "block-dirty-bitmap-remove", "data": {"node": "n0", "name": "b0"}}
    with pytest.raises(QMPError) as excinfo:
        qmp.TransactionActionBlockDirtyBitmapAdd.from_wire(action)
    assert str(excinfo.value) == "Parameter 'type' does not accept value 'block-dirty-bitmap-remove'"
    remove = qmp.TransactionActionBlockDirtyBitmapRemove.from_wire(action)
    assert remove.to_wire() == action
