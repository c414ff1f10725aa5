"""pydantic v2 and msgspec models of a QMP ``transaction`` request.

``benchmarks/decode.py`` times these against qapigen's generated package.
They are written the way a careful user of each library would write them,
to accept exactly what QEMU (and qapigen) accept for the four action kinds
the benchmark uses, out of the project's schema (``schema/*.json``):

- the same members, kebab-case on the wire, extra members forbidden;
- strict scalars: no "1" for an int, no 1 for a bool, no 1.0 for an int;
- QEMU's integer ranges: ``int`` is int64, ``uint32`` is 0 to 2**32-1
  (QEMU reads a negative uint32 modulo 2**64, which is then too big);
- optional members may be absent, but not ``null`` (QEMU rejects a null
  for a ``str``, ``int``, ``bool`` or enum member);
- ``TransactionAction`` is a union discriminated by ``type``, each branch
  ``{"type": kind, "data": {...}}``; ``BlockDirtyBitmapOrStr`` is a
  ``str | BlockDirtyBitmap`` union.

One difference remains, in pydantic's JSON mode only: a member spelled
with the Python field name (``job_id`` for ``job-id``) is silently ignored
instead of rejected as extra (pydantic 2.13; ``model_validate`` on parsed
JSON does reject it).  The timed request has no such member.

The union has the four branches used, not QEMU's fifteen; both libraries
pick a branch by a table lookup on the tag, so the count does not matter.
``BackupCommon`` follows the project's schema, which has no
``discard-source`` member.

Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT32_MAX = 2**32 - 1

# -- enums (shared: both libraries decode an Enum by its value) -------------


class MirrorSyncMode(enum.Enum):
    TOP = "top"
    FULL = "full"
    NONE = "none"
    INCREMENTAL = "incremental"
    BITMAP = "bitmap"


class BitmapSyncMode(enum.Enum):
    ON_SUCCESS = "on-success"
    NEVER = "never"
    ALWAYS = "always"


class BlockdevOnError(enum.Enum):
    REPORT = "report"
    IGNORE = "ignore"
    ENOSPC = "enospc"
    STOP = "stop"
    AUTO = "auto"


class NewImageMode(enum.Enum):
    EXISTING = "existing"
    ABSOLUTE_PATHS = "absolute-paths"


class ActionCompletionMode(enum.Enum):
    INDIVIDUAL = "individual"
    GROUPED = "grouped"


# -- pydantic -------------------------------------------------------------------

PInt64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]
PUint32 = Annotated[StrictInt, Field(ge=0, le=UINT32_MAX)]


def absent() -> Any:
    """The default of an optional member: None when absent.  Defaults are
    not validated, so the member's type stays non-nullable and an explicit
    ``null`` is rejected, as QEMU rejects it."""
    return Field(default=None)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class PModel(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab)


class PBlockDirtyBitmap(PModel):
    node: StrictStr
    name: StrictStr


class PBlockDirtyBitmapAdd(PModel):
    node: StrictStr
    name: StrictStr
    granularity: PUint32 = absent()
    persistent: StrictBool = absent()
    disabled: StrictBool = absent()


class PBlockDirtyBitmapMerge(PModel):
    node: StrictStr
    target: StrictStr
    bitmaps: list[StrictStr | PBlockDirtyBitmap]


class PBackupPerf(PModel):
    use_copy_range: StrictBool = absent()
    max_workers: PInt64 = absent()
    max_chunk: PInt64 = absent()


class PBlockdevBackup(PModel):
    job_id: StrictStr = absent()
    device: StrictStr
    sync: MirrorSyncMode
    speed: PInt64 = absent()
    bitmap: StrictStr = absent()
    bitmap_mode: BitmapSyncMode = absent()
    compress: StrictBool = absent()
    on_source_error: BlockdevOnError = absent()
    on_target_error: BlockdevOnError = absent()
    auto_finalize: StrictBool = absent()
    auto_dismiss: StrictBool = absent()
    filter_node_name: StrictStr = absent()
    x_perf: PBackupPerf = absent()
    target: StrictStr


class PBlockdevSnapshotSync(PModel):
    device: StrictStr = absent()
    node_name: StrictStr = absent()
    snapshot_file: StrictStr
    snapshot_node_name: StrictStr = absent()
    format: StrictStr = absent()
    mode: NewImageMode = absent()


class PBitmapAddAction(PModel):
    type: Literal["block-dirty-bitmap-add"]
    data: PBlockDirtyBitmapAdd


class PBitmapMergeAction(PModel):
    type: Literal["block-dirty-bitmap-merge"]
    data: PBlockDirtyBitmapMerge


class PBackupAction(PModel):
    type: Literal["blockdev-backup"]
    data: PBlockdevBackup


class PSnapshotSyncAction(PModel):
    type: Literal["blockdev-snapshot-sync"]
    data: PBlockdevSnapshotSync


PTransactionAction = Annotated[
    PBitmapAddAction | PBitmapMergeAction | PBackupAction | PSnapshotSyncAction,
    Field(discriminator="type"),
]


class PTransactionProperties(PModel):
    completion_mode: ActionCompletionMode = absent()


class PTransactionArguments(PModel):
    actions: list[PTransactionAction]
    properties: PTransactionProperties = absent()


class PTransactionRequest(PModel):
    """The whole request: ``{"execute": "transaction", "arguments", "id"?}``."""

    execute: Literal["transaction"]
    arguments: PTransactionArguments
    id: Any = None


# -- msgspec --------------------------------------------------------------------

MInt64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]
MUint32 = Annotated[int, Meta(ge=0, le=UINT32_MAX)]


class MStruct(msgspec.Struct, rename="kebab", forbid_unknown_fields=True):
    """Optional members default to UNSET: absent is fine, null is not."""


class MBlockDirtyBitmap(MStruct):
    node: str
    name: str


class MBlockDirtyBitmapAdd(MStruct):
    node: str
    name: str
    granularity: MUint32 | UnsetType = UNSET
    persistent: bool | UnsetType = UNSET
    disabled: bool | UnsetType = UNSET


class MBlockDirtyBitmapMerge(MStruct):
    node: str
    target: str
    bitmaps: list[str | MBlockDirtyBitmap]


class MBackupPerf(MStruct):
    use_copy_range: bool | UnsetType = UNSET
    max_workers: MInt64 | UnsetType = UNSET
    max_chunk: MInt64 | UnsetType = UNSET


class MBlockdevBackup(MStruct):
    # msgspec wants required fields first; the order of members on the
    # wire does not matter to it.
    device: str
    sync: MirrorSyncMode
    target: str
    job_id: str | UnsetType = UNSET
    speed: MInt64 | UnsetType = UNSET
    bitmap: str | UnsetType = UNSET
    bitmap_mode: BitmapSyncMode | UnsetType = UNSET
    compress: bool | UnsetType = UNSET
    on_source_error: BlockdevOnError | UnsetType = UNSET
    on_target_error: BlockdevOnError | UnsetType = UNSET
    auto_finalize: bool | UnsetType = UNSET
    auto_dismiss: bool | UnsetType = UNSET
    filter_node_name: str | UnsetType = UNSET
    x_perf: MBackupPerf | UnsetType = UNSET


class MBlockdevSnapshotSync(MStruct):
    snapshot_file: str
    device: str | UnsetType = UNSET
    node_name: str | UnsetType = UNSET
    snapshot_node_name: str | UnsetType = UNSET
    format: str | UnsetType = UNSET
    mode: NewImageMode | UnsetType = UNSET


class MAction(MStruct, tag_field="type"):
    """A TransactionAction branch; msgspec puts the tag in ``type``."""


class MBitmapAddAction(MAction, tag="block-dirty-bitmap-add"):
    data: MBlockDirtyBitmapAdd


class MBitmapMergeAction(MAction, tag="block-dirty-bitmap-merge"):
    data: MBlockDirtyBitmapMerge


class MBackupAction(MAction, tag="blockdev-backup"):
    data: MBlockdevBackup


class MSnapshotSyncAction(MAction, tag="blockdev-snapshot-sync"):
    data: MBlockdevSnapshotSync


MTransactionAction = MBitmapAddAction | MBitmapMergeAction | MBackupAction | MSnapshotSyncAction


class MTransactionProperties(MStruct):
    completion_mode: ActionCompletionMode | UnsetType = UNSET


class MTransactionArguments(MStruct):
    actions: list[MTransactionAction]
    properties: MTransactionProperties | UnsetType = UNSET


class MTransactionRequest(MStruct):
    """The whole request: ``{"execute": "transaction", "arguments", "id"?}``."""

    execute: Literal["transaction"]
    arguments: MTransactionArguments
    id: Any = None
