"""Backup jobs: events, validation, bitmaps across a backup, grouped
completion, cancel, job verbs (spec B.4 backup entries, C).

Every job is waited for (``wait_event`` on its ``null`` or the event the
next step depends on) before the next step, so the transcripts do not
depend on timing; ``speed=1`` is used only where a job must be seen
running (the first 1 MiB chunk goes through at once, the rest waits).
"""

from __future__ import annotations

from typing import Any

from tests.runtime.harness import Cmd, Image, Scenario, WaitEvent, cmd, hmp_write, sleep, wait_event

#: How long a speed=1 job is given to copy its first chunk before a step
#: looks at it (QEMU on a loaded machine needs a moment).
SETTLE = 0.6

#: Two 16 MiB raw disks (disk0 full of data, disk1 with 2 MiB), held by
#: devices vd0 and vd1, and empty raw targets.
DISKS: dict[str, Any] = {
    "images": [
        Image("d0", "raw", "16M", fill=[(0x22, 0, "16M")]),
        Image("d1", "raw", "16M", fill=[(0x33, 0, "2M")]),
        Image("ta", "raw", "16M"),
        Image("tb", "raw", "16M"),
        Image("tc", "raw", "16M"),
        Image("small", "raw", "8M"),
    ],
    "blockdevs": [
        "driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0",
        "driver=file,node-name=f1,filename={d1}", "driver=raw,node-name=disk1,file=f1",
        "driver=file,node-name=fta,filename={ta}", "driver=raw,node-name=ta,file=fta",
        "driver=file,node-name=ftb,filename={tb}", "driver=raw,node-name=tb,file=ftb",
        "driver=file,node-name=ftc,filename={tc}", "driver=raw,node-name=tc,file=ftc",
        "driver=file,node-name=fsm,filename={small}", "driver=raw,node-name=small,file=fsm",
    ],
    "devices": ["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on",
                "virtio-blk-pci,drive=disk1,id=vd1,share-rw=on"],
    "negotiate": True,
}

#: A 64 MiB qcow2 disk with 1 MiB of data at 4 MiB, and raw/qcow2 targets.
QCOW2: dict[str, Any] = {
    "images": [
        Image("q", "qcow2", "64M", fill=[(0x44, "4M", "1M")]),
        Image("rt", "raw", "64M"),
        Image("qt", "qcow2", "64M"),
    ],
    "blockdevs": [
        "driver=file,node-name=fq,filename={q}", "driver=qcow2,node-name=q0,file=fq",
        "driver=file,node-name=frt,filename={rt}", "driver=raw,node-name=rt,file=frt",
        "driver=file,node-name=fqt,filename={qt}", "driver=qcow2,node-name=qt,file=fqt",
    ],
    "negotiate": True,
}


def backup(device: str, target: str, job_id: str | None, sync: str = "full", **extra: Any) -> Cmd:
    args: dict[str, Any] = {"device": device, "target": target, "sync": sync}
    if job_id is not None:
        args["job-id"] = job_id
    args.update({k.replace("_", "-"): v for k, v in extra.items()})
    return cmd("blockdev-backup", arguments=args)


def drive_backup(target: str, job_id: str, sync: str = "full", **extra: Any) -> Cmd:
    args: dict[str, Any] = {"device": "disk0", "target": target, "sync": sync, "job-id": job_id}
    args.update({k.replace("_", "-"): v for k, v in extra.items()})
    return cmd("drive-backup", arguments=args)


def act(device: str, target: str, job_id: str, sync: str = "full", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"device": device, "target": target, "sync": sync, "job-id": job_id}
    data.update({k.replace("_", "-"): v for k, v in extra.items()})
    return {"type": "blockdev-backup", "data": data}


def transaction(*actions: dict[str, Any], grouped: bool = False) -> Cmd:
    arguments: dict[str, Any] = {"actions": list(actions)}
    if grouped:
        arguments["properties"] = {"completion-mode": "grouped"}
    return cmd("transaction", arguments=arguments)


def gone(job_id: str) -> WaitEvent:
    return wait_event("JOB_STATUS_CHANGE", id=job_id, status="null")


def status(job_id: str, value: str) -> WaitEvent:
    return wait_event("JOB_STATUS_CHANGE", id=job_id, status=value)


def add(node: str, name: str, **extra: Any) -> Cmd:
    return cmd("block-dirty-bitmap-add", arguments={"node": node, "name": name, **extra})


def bitmaps() -> Cmd:
    """The devices' nodes with their bitmaps.  (Not query-named-block-nodes:
    a target's ``actual-size`` right after a backup depends on how QEMU's
    host writes of zero areas went, which varies on a loaded machine.)"""
    return cmd("query-block")


def job(verb: str, job_id: str) -> Cmd:
    return cmd(f"job-{verb}", id=job_id)


def qemu_io(target: str, command: str) -> Cmd:
    """HMP qemu-io; ``-d vd0/virtio-backend`` writes through the device."""
    return cmd("human-monitor-command", arguments={"command-line": f'qemu-io {target} "{command}"'})


DEVICE = "-d vd0/virtio-backend"


def drive_backup_of(device: str, target: str, job_id: str, sync: str = "full", **extra: Any) -> Cmd:
    args: dict[str, Any] = {"device": device, "target": target, "sync": sync, "job-id": job_id}
    args.update({k.replace("_", "-"): v for k, v in extra.items()})
    return cmd("drive-backup", arguments=args)


SCENARIOS = [
    Scenario(
        name="backup-full-raw",
        steps=[
            backup("disk0", "ta", "j0"),
            gone("j0"),
            backup("disk1", "tb", "j1"),
            gone("j1"),
            cmd("query-jobs"),
        ],
        compare_files=["ta", "tb"],
        **DISKS,
    ),
    Scenario(
        name="backup-full-and-top-qcow2",
        steps=[
            backup("q0", "rt", "j0"),
            gone("j0"),
            backup("q0", "qt", "j1", sync="top"),
            gone("j1"),
        ],
        compare_files=["rt"],
        **QCOW2,
    ),
    Scenario(
        name="backup-validation-errors",
        steps=[
            add("disk0", "b0"),
            backup("disk0", "ta", "j", sync="incremental"),
            backup("disk0", "ta", "j", sync="bitmap"),
            backup("disk0", "ta", "j", sync="incremental", bitmap="zz", bitmap_mode="never"),
            backup("disk0", "ta", "j", sync="incremental", bitmap="zz"),
            backup("disk0", "ta", "j", sync="bitmap", bitmap="b0"),
            backup("disk0", "ta", "j", sync="none", bitmap="b0", bitmap_mode="always"),
            backup("disk0", "ta", "j", bitmap="b0", bitmap_mode="never"),
            backup("disk0", "ta", "j", bitmap_mode="on-success"),
            backup("disk0", "disk0", "j"),
            backup("disk0", "small", "bad id"),
            backup("disk0", "nowhere", "j"),
            backup("nodisk", "ta", "j"),
            backup("vd0", "ta", "j"),
            backup("disk0", "ta", "bad id", speed=-1),
            backup("disk0", "ta", None),
            backup("disk0", "ta", "j", speed=-1),
            backup("disk0", "ta", "j", compress=True),
            # the order of the creation checks, two failures at a time
            backup("disk0", "disk0", "bad id", compress=True),
            backup("disk0", "small", "bad id", compress=True),
            backup("disk0", "small", "j", bitmap="b0", bitmap_mode="always", speed=-1),
            backup("disk0", "small", "j", sync="incremental", bitmap="b0", speed=-1),
            backup("small", "disk0", "bad id", speed=-1),
            bitmaps(),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-incremental-chain",
        steps=[
            transaction(
                {"type": "block-dirty-bitmap-add", "data": {"node": "disk0", "name": "b0"}},
                act("disk0", "ta", "full0"),
            ),
            gone("full0"),
            hmp_write("disk0", 0x5A, "1M", "64k"),
            hmp_write("disk0", 0x5B, "5M", "1"),
            bitmaps(),
            backup("disk0", "tb", "inc1", sync="incremental", bitmap="b0"),
            gone("inc1"),
            bitmaps(),
            hmp_write("disk0", 0x5C, "8M", "128k"),
            backup("disk0", "tc", "inc2", sync="bitmap", bitmap="b0", bitmap_mode="on-success"),
            gone("inc2"),
            bitmaps(),
        ],
        compare_files=["ta", "tb", "tc"],
        **DISKS,
    ),
    Scenario(
        name="backup-bitmap-modes",
        steps=[
            add("disk0", "bn"),
            add("disk0", "ba"),
            add("disk0", "bf", disabled=True),
            hmp_write("disk0", 0x61, 0, "64k"),
            backup("disk0", "ta", "never", sync="bitmap", bitmap="bn", bitmap_mode="never"),
            gone("never"),
            backup("disk0", "tb", "always", sync="bitmap", bitmap="ba", bitmap_mode="always"),
            gone("always"),
            backup("disk0", "tc", "fulls", bitmap="bf", bitmap_mode="on-success"),
            gone("fulls"),
            bitmaps(),
        ],
        compare_files=["ta", "tb"],
        **DISKS,
    ),
    Scenario(
        name="backup-cancel-running",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x71, 0, "16M"),
            backup("disk0", "ta", "slow", sync="incremental", bitmap="b0", speed=1),
            sleep(SETTLE),
            cmd("query-jobs"),
            cmd("query-block-jobs"),
            job("cancel", "slow"),
            bitmaps(),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-job-verbs-wrong-state",
        steps=[
            backup("disk1", "ta", "j1", speed=1),
            sleep(SETTLE),
            job("finalize", "j1"),
            job("dismiss", "j1"),
            job("complete", "j1"),
            job("resume", "j1"),
            job("pause", "j1"),
            job("pause", "j1"),
            cmd("query-block-jobs"),
            cmd("block-job-cancel", device="j1"),
            job("resume", "j1"),
            job("resume", "j1"),
            job("cancel", "nojob"),
            cmd("block-job-cancel", device="nojob"),
            cmd("block-job-set-speed", device="nojob", speed=1),
            cmd("block-job-set-speed", device="j1", speed=-1),
            cmd("block-job-cancel", device="j1"),
            job("cancel", "j1"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-auto-finalize-false",
        steps=[
            backup("disk1", "ta", "jf", auto_finalize=False),
            wait_event("BLOCK_JOB_PENDING", id="jf"),
            cmd("query-jobs"),
            cmd("query-block-jobs"),
            job("dismiss", "jf"),
            job("finalize", "jf"),
            backup("disk1", "tb", "jc", auto_finalize=False),
            wait_event("BLOCK_JOB_PENDING", id="jc"),
            job("cancel", "jc"),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-auto-dismiss-false",
        steps=[
            backup("disk1", "ta", "jd", auto_dismiss=False),
            status("jd", "concluded"),
            cmd("query-jobs"),
            cmd("query-block-jobs"),
            job("cancel", "jd"),
            job("finalize", "jd"),
            backup("disk1", "tb", "jd"),
            job("dismiss", "jd"),
            job("dismiss", "jd"),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-grouped-success",
        steps=[
            add("disk0", "b0"),
            add("disk1", "b1"),
            # ja is held to 8 MiB/s (about 2 s) so that jb surely finishes first
            transaction(
                act("disk0", "ta", "ja", sync="full", bitmap="b0", bitmap_mode="on-success",
                    speed=8 << 20),
                act("disk1", "tb", "jb", sync="full", bitmap="b1", bitmap_mode="on-success"),
                grouped=True,
            ),
            gone("ja"),
            bitmaps(),
        ],
        compare_files=["ta", "tb"],
        **DISKS,
    ),
    Scenario(
        name="backup-grouped-prepare-failure",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x13, 0, "64k"),
            transaction(
                act("disk0", "ta", "ja", sync="incremental", bitmap="b0"),
                act("disk1", "nowhere", "jb"),
                grouped=True,
            ),
            transaction(
                act("disk0", "ta", "ja", sync="incremental", bitmap="b0"),
                act("disk1", "small", "jb"),
                grouped=True,
            ),
            transaction(
                act("disk0", "ta", "ja"),
                {"type": "block-dirty-bitmap-add", "data": {"node": "disk1", "name": "x"}},
                grouped=True,
            ),
            bitmaps(),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-grouped-cancel-after-waiting",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x13, 0, "16M"),
            transaction(
                act("disk1", "tb", "jb"),
                act("disk0", "ta", "ja", sync="incremental", bitmap="b0", speed=1),
                grouped=True,
            ),
            status("jb", "waiting"),
            sleep(SETTLE),
            cmd("query-jobs"),
            job("cancel", "ja"),
            bitmaps(),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-grouped-cancel-waiting-job",
        steps=[
            transaction(
                act("disk1", "tb", "jb"),
                act("disk0", "ta", "ja", speed=1),
                grouped=True,
            ),
            status("jb", "waiting"),
            job("cancel", "jb"),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-grouped-cancel-both-running",
        steps=[
            transaction(
                act("disk1", "tb", "jb", speed=1),
                act("disk0", "ta", "ja", speed=1),
                grouped=True,
            ),
            sleep(SETTLE),
            job("cancel", "jb"),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-busy-bitmap",
        steps=[
            add("disk0", "b0"),
            add("disk0", "other"),
            hmp_write("disk0", 0x24, 0, "16M"),
            backup("disk0", "ta", "busy", sync="incremental", bitmap="b0", speed=1),
            sleep(SETTLE),
            cmd("block-dirty-bitmap-clear", node="disk0", name="b0"),
            cmd("block-dirty-bitmap-remove", node="disk0", name="b0"),
            cmd("block-dirty-bitmap-enable", node="disk0", name="b0"),
            cmd("block-dirty-bitmap-disable", node="disk0", name="b0"),
            cmd("block-dirty-bitmap-merge", node="disk0", target="b0", bitmaps=["other"]),
            cmd("block-dirty-bitmap-merge", node="disk0", target="other", bitmaps=["b0"]),
            backup("disk0", "tb", "second", sync="incremental", bitmap="b0"),
            backup("disk0", "tb", "third", sync="full", bitmap="b0", bitmap_mode="always"),
            transaction(
                {"type": "block-dirty-bitmap-clear", "data": {"node": "disk0", "name": "b0"}},
            ),
            job("cancel", "busy"),
            bitmaps(),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-transaction-rollback",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x31, 0, "128k"),
            transaction(
                act("disk0", "ta", "ja", sync="incremental", bitmap="b0"),
                act("disk1", "tb", "jb"),
                {"type": "abort", "data": {}},
            ),
            bitmaps(),
            transaction(act("disk0", "ta", "ja"), act("disk0", "tb", "ja")),
            transaction(act("disk0", "ta", "ja"), act("disk1", "ta", "jb")),
            cmd("query-jobs"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-set-speed",
        steps=[
            backup("disk0", "ta", "js", speed=1),
            sleep(SETTLE),
            cmd("block-job-set-speed", device="js", speed=0),
            gone("js"),
        ],
        compare_files=["ta"],
        **DISKS,
    ),
    Scenario(
        name="backup-copy-before-write",
        steps=[
            backup("disk0", "ta", "cbw", speed=1),
            sleep(SETTLE),
            qemu_io(DEVICE, "write -P 0x77 10M 64k"),
            qemu_io("disk0", "write -P 0x99 8M 64k"),
            qemu_io("disk0", "write -z 8M 64k"),
            qemu_io("disk0", "read 8M 64k"),
            qemu_io("ta", "write -P 0x98 12M 64k"),
            cmd("query-block-jobs"),
            cmd("block-job-set-speed", device="cbw", speed=0),
            gone("cbw"),
            qemu_io("disk0", "write -P 0x99 8M 64k"),
            backup("disk0", "tb", "none", sync="none"),
            sleep(SETTLE),
            qemu_io(DEVICE, "write -P 0x56 1M 64k"),
            qemu_io(DEVICE, "write -P 0x57 1M 4k"),
            cmd("query-block-jobs"),
            job("cancel", "none"),
        ],
        compare_files=["d0", "ta", "tb"],
        **DISKS,
    ),
    Scenario(
        name="drive-backup-creates-targets",
        steps=[
            drive_backup("{tmp}/new.raw", "d1", format="raw"),
            gone("d1"),
            drive_backup("{tmp}/new.qcow2", "d2"),
            gone("d2"),
            drive_backup("{ta}", "d3", mode="existing", format="raw"),
            gone("d3"),
            drive_backup("{tmp}/missing.raw", "d4", mode="existing", format="raw"),
            drive_backup("{small}", "d5", mode="existing", format="raw"),
            drive_backup("{tmp}/bogus.img", "d6", format="bogus"),
            drive_backup("{tmp}/nodir/x.raw", "d7", format="raw"),
            drive_backup("{tmp}/x.raw", "bad id", format="raw"),
            drive_backup("{tmp}/y.raw", "d8", sync="incremental", format="raw"),
            cmd("query-jobs"),
        ],
        compare_files=["new.raw", "ta"],
        **DISKS,
    ),
    Scenario(
        name="drive-backup-qcow2-targets",
        steps=[
            drive_backup_of("q0", "{tmp}/full.raw", "d1", format="raw", speed=1),
            sleep(SETTLE),
            cmd("query-block-jobs"),
            cmd("block-job-set-speed", device="d1", speed=0),
            gone("d1"),
            drive_backup_of("q0", "{tmp}/none.qcow2", "d2", sync="none"),
            sleep(SETTLE),
            cmd("query-named-block-nodes"),
            job("cancel", "d2"),
            drive_backup_of("q0", "{tmp}/top.qcow2", "d3", sync="top"),
            gone("d3"),
            cmd("query-named-block-nodes", flat=True),
        ],
        # The qcow2 targets are not compared: none.qcow2 names the peer's
        # own folder as its backing file, and serve's qcow2 zero writes
        # allocate where QEMU's set zero flags (see docs/serve.md).
        compare_files=["full.raw"],
        **QCOW2,
    ),
    Scenario(
        name="backup-top-of-an-overlay",
        images=[
            Image("base", "qcow2", "16M", fill=[(0x11, 0, "8M")]),
            Image("ov", "qcow2", "16M", backing="base", fill=[(0x22, "1M", "128k"), (0x23, "9M", "1")]),
            Image("t", "raw", "16M"),
            Image("f", "raw", "16M"),
        ],
        blockdevs=[
            "driver=file,node-name=fbase,filename={base},read-only=on",
            "driver=qcow2,node-name=base,file=fbase,read-only=on",
            "driver=file,node-name=fov,filename={ov}",
            "driver=qcow2,node-name=ov,file=fov,backing=base",
            "driver=file,node-name=ft,filename={t}", "driver=raw,node-name=t,file=ft",
            "driver=file,node-name=ff,filename={f}", "driver=raw,node-name=f,file=ff",
        ],
        negotiate=True,
        steps=[
            backup("ov", "t", "top", sync="top"),
            gone("top"),
            backup("ov", "f", "full"),
            gone("full"),
            drive_backup_of("ov", "{tmp}/top.qcow2", "dtop", sync="top", speed=1),
            sleep(SETTLE),
            cmd("query-block-jobs"),
            cmd("query-named-block-nodes"),
            job("cancel", "dtop"),
            transaction(
                {"type": "drive-backup", "data": {
                    "device": "ov", "target": "{tmp}/tx.raw", "format": "raw", "sync": "full",
                    "job-id": "dtx"}},
                {"type": "abort", "data": {}},
            ),
            cmd("query-named-block-nodes", flat=True),
        ],
        compare_files=["t", "f", "tx.raw"],
    ),
    Scenario(
        name="drive-backup-qcow2-bytes",
        steps=[
            drive_backup_of("q0", "{tmp}/full.qcow2", "d1", speed=1),
            sleep(SETTLE),
            cmd("query-named-block-nodes"),
            cmd("block-job-set-speed", device="d1", speed=0),
            gone("d1"),
            backup("q0", "qt", "b1"),
            gone("b1"),
            drive_backup_of("q0", "{tmp}/top.qcow2", "d3", sync="top"),
            gone("d3"),
        ],
        compare_files=["full.qcow2", "top.qcow2", "qt"],
        **QCOW2,
    ),
    Scenario(
        name="backup-block-job-verbs",
        steps=[
            transaction(act("disk1", "tb", "jb"), act("disk0", "ta", "ja", speed=1), grouped=True),
            status("jb", "waiting"),
            cmd("block-job-cancel", device="jb"),
            backup("disk1", "tb", "jp", auto_finalize=False),
            wait_event("BLOCK_JOB_PENDING", id="jp"),
            cmd("block-job-cancel", device="jp"),
            backup("disk1", "tb", "jc", auto_dismiss=False),
            status("jc", "concluded"),
            cmd("block-job-cancel", device="jc"),
            cmd("block-job-set-speed", device="jc", speed=5),
            backup("disk0", "ta", "jx", speed=1),
            sleep(SETTLE),
            job("pause", "jx"),
            cmd("query-block-jobs"),
            cmd("query-jobs"),
            cmd("block-job-set-speed", device="jx", speed=0),
            sleep(SETTLE),
            cmd("query-jobs"),
            job("resume", "jx"),
            gone("jx"),
            job("dismiss", "jc"),
        ],
        compare_files=["ta", "tb"],
        **DISKS,
    ),
    Scenario(
        name="backup-bitmap-granularities",
        steps=[
            add("disk0", "small", granularity=4096),
            add("disk0", "big", granularity=131072),
            hmp_write("disk0", 0x41, 100, 1),
            hmp_write("disk0", 0x42, "1M", "8k"),
            hmp_write("disk0", 0x43, "3M", "1"),
            bitmaps(),
            backup("disk0", "ta", "s", sync="incremental", bitmap="small"),
            gone("s"),
            backup("disk0", "tb", "b", sync="bitmap", bitmap="big", bitmap_mode="never"),
            gone("b"),
            hmp_write("disk0", 0x44, "5M", "2M"),
            bitmaps(),
            backup("disk0", "tc", "a", sync="bitmap", bitmap="small", bitmap_mode="always",
                   speed=1),
            sleep(SETTLE),
            job("cancel", "a"),
            bitmaps(),
        ],
        compare_files=["ta", "tb", "tc"],
        **DISKS,
    ),
    Scenario(
        name="backup-cancelled-not-dismissed",
        steps=[
            backup("disk0", "ta", "jc", speed=1, auto_dismiss=False),
            sleep(SETTLE),
            job("cancel", "jc"),
            cmd("query-jobs"),
            cmd("query-block-jobs"),
            job("cancel", "jc"),
            job("dismiss", "jc"),
            backup("disk1", "tb", "jf", auto_dismiss=False, auto_finalize=False, speed=1),
            sleep(SETTLE),
            job("cancel", "jf"),
            cmd("query-jobs"),
            job("dismiss", "jf"),
        ],
        **DISKS,
    ),
    Scenario(
        name="backup-transaction-with-bitmap-actions",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x51, "2M", "192k"),
            transaction(
                act("disk0", "ta", "inc", sync="incremental", bitmap="b0"),
                {"type": "block-dirty-bitmap-clear", "data": {"node": "disk0", "name": "b0"}},
            ),
            bitmaps(),
            transaction(
                {"type": "block-dirty-bitmap-add", "data": {"node": "disk0", "name": "b1"}},
                act("disk0", "ta", "new", sync="incremental", bitmap="b1"),
            ),  # nothing to copy: the job ends before the reply
            transaction(
                {"type": "block-dirty-bitmap-clear", "data": {"node": "disk0", "name": "b0"}},
                act("disk0", "tb", "cleared", sync="incremental", bitmap="b0"),
            ),
            hmp_write("disk0", 0x52, "4M", "64k"),
            transaction(
                {"type": "block-dirty-bitmap-merge",
                 "data": {"node": "disk0", "target": "b1", "bitmaps": ["b0"]}},
                act("disk0", "tc", "merged", sync="incremental", bitmap="b1"),
            ),
            gone("merged"),
            bitmaps(),
        ],
        compare_files=["ta", "tb", "tc"],
        **DISKS,
    ),
    Scenario(
        name="backup-nothing-to-copy",
        images=[
            Image("z", "raw", "16M"),
            Image("zq", "qcow2", "16M"),
            Image("ta", "raw", "16M"),
            Image("tq", "qcow2", "16M"),
        ],
        blockdevs=[
            "driver=file,node-name=fz,filename={z}", "driver=raw,node-name=z,file=fz",
            "driver=file,node-name=fzq,filename={zq}", "driver=qcow2,node-name=zq,file=fzq",
            "driver=file,node-name=fta,filename={ta}", "driver=raw,node-name=ta,file=fta",
            "driver=file,node-name=ftq,filename={tq}", "driver=qcow2,node-name=tq,file=ftq",
        ],
        negotiate=True,
        steps=[
            # An empty bitmap: the whole job runs before the reply.  (QEMU's
            # sync=top over nothing allocated ends before or after the reply
            # depending on its polling, so it is not replayed here.)
            add("z", "b"),
            add("zq", "bq", disabled=True),
            backup("z", "ta", "empty", sync="incremental", bitmap="b"),
            backup("zq", "tq", "empty2", sync="bitmap", bitmap="bq", bitmap_mode="always"),
            transaction(
                act("zq", "tq", "empty3", sync="incremental", bitmap="bq"),
                act("z", "ta", "full1"),
            ),
            gone("full1"),
            cmd("query-jobs"),
        ],
        compare_files=["ta", "tq"],
    ),
    Scenario(
        name="drive-backup-formats",
        images=[
            Image("d0", "raw", "16M", fill=[(0x22, 0, "3M"), (0x23, "9M", "64k")]),
            Image("eq", "qcow2", "16M", fill=[(0x77, "5M", "1M")]),
            Image("er", "raw", "16M", fill=[(0x78, "5M", "1M")]),
        ],
        blockdevs=["driver=file,node-name=f0,filename={d0}", "driver=raw,node-name=disk0,file=f0"],
        negotiate=True,
        steps=[
            drive_backup("{tmp}/as-qcow2.qcow2", "q", format="qcow2"),
            gone("q"),
            drive_backup("{eq}", "probe-q", mode="existing"),
            gone("probe-q"),
            drive_backup("{er}", "probe-r", mode="existing", sync="top"),
            gone("probe-r"),
            cmd("query-named-block-nodes", flat=True),
        ],
        # QEMU copies several chunks at once, so the order in which a qcow2
        # target's clusters are allocated varies from run to run (serve's
        # offset order is one of QEMU's outcomes): compare the raw file only.
        compare_files=["er"],
    ),
    Scenario(
        name="backup-incremental-with-device-writes",
        steps=[
            add("disk0", "b0"),
            hmp_write("disk0", 0x61, 0, "3M"),
            backup("disk0", "ta", "inc", sync="incremental", bitmap="b0", speed=1),
            sleep(SETTLE),
            # not yet copied and dirty: the old data is copied first
            qemu_io(DEVICE, "write -P 0x62 2M 64k"),
            # clean (not in the bitmap): written through, not copied
            qemu_io(DEVICE, "write -P 0x63 8M 64k"),
            # already copied (first chunk)
            qemu_io(DEVICE, "write -P 0x64 0 4k"),
            cmd("query-block-jobs"),
            bitmaps(),
            cmd("block-job-set-speed", device="inc", speed=0),
            gone("inc"),
            bitmaps(),
        ],
        compare_files=["d0", "ta"],
        **DISKS,
    ),
]
