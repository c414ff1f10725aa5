"""Block node scenarios: what query-block and query-named-block-nodes show
for node options and device kinds, and which guest writes QEMU's
permission system lets through."""

from __future__ import annotations

from tests.runtime.harness import Image, Scenario, cmd
from tests.runtime.scenarios._block import add, hmp, nodes, qemu_io

SCENARIOS = [
    Scenario(
        name="nodes-options-and-device-kinds",
        images=[Image("d0", "qcow2", "64M"), Image("r0", "raw", "16M"), Image("r1", "raw", "16M"),
                Image("r2", "raw", "16M")],
        blockdevs=[
            "driver=file,node-name=f0,filename={d0},cache.direct=on",
            "driver=qcow2,node-name=disk0,file=f0,detect-zeroes=on,discard=unmap",
            "driver=file,node-name=f1,filename={r0},read-only=on",
            "driver=raw,node-name=raw0,file=f1,read-only=on,cache.no-flush=on",
            "driver=file,node-name=f2,filename={r1}",
            "driver=raw,node-name=raw1,file=f2,offset=4096,size=1048576",
            "driver=file,node-name=f3,filename={r2}",
            "driver=null-co,node-name=null0",
            "driver=null-co,node-name=null1,size=65536,read-zeroes=on",
        ],
        devices=["virtio-blk-pci,drive=disk0,share-rw=on", "ide-cd,drive=raw0,id=ide0",
                 "virtio-blk-pci,drive=raw1,id=vd1,share-rw=on"],
        negotiate=True,
        steps=[
            cmd("query-block"),
            nodes(),
            add("raw1", "b", granularity=4096),
            qemu_io("raw1", "write -P 0x11 0 8k"),
            qemu_io("raw1", "write -P 0x11 1020k 8k"),
            hmp('qemu-io -d ide0 "write -P 0x11 0 8k"'),
            hmp('qemu-io -d /machine/peripheral-anon/device[0]/virtio-backend '
                '"write -P 0x11 0 8k"'),
            qemu_io("disk0", "discard 0 64k"),
            add("disk0", "z"),
            qemu_io("disk0", "discard 1M 64k"),
            qemu_io("f3", "write -P 0x1 0 1"),
            qemu_io("null1", "write -P 0x1 0 1"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="qemu-io-write-permissions",
        images=[Image("d0", "qcow2", "64M"), Image("d1", "qcow2", "64M"), Image("r1", "raw", "16M"),
                Image("r2", "raw", "16M")],
        blockdevs=[
            "driver=file,node-name=f0,filename={d0}", "driver=qcow2,node-name=disk0,file=f0",
            "driver=file,node-name=fa,filename={d1}", "driver=qcow2,node-name=disk1,file=fa",
            "driver=file,node-name=f2,filename={r1}", "driver=raw,node-name=raw1,file=f2",
            "driver=file,node-name=f3,filename={r2}", "driver=raw,node-name=raw2,file=f3",
        ],
        devices=["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on", "virtio-blk-pci,drive=raw1,id=vd1",
                 "virtio-scsi-pci,id=scsi0", "scsi-cd,drive=raw2,id=cd0"],
        negotiate=True,
        steps=[
            add("raw1", "b"),
            qemu_io("f0", "write -P 0x1 10M 1"),
            qemu_io("fa", "write -P 0x1 10M 1"),
            qemu_io("raw1", "write -P 0x1 0 1"),
            qemu_io("f2", "write -P 0x1 0 1"),
            qemu_io("raw2", "write -P 0x1 0 1"),
            qemu_io("f3", "write -P 0x1 0 1"),
            hmp('qemu-io -d vd1/virtio-backend "write -P 0x1 0 1"'),
            hmp('qemu-io -d cd0 "write -P 0x1 0 1"'),
            hmp('qemu-io -d vd1 "write -P 0x1 0 1"'),
            hmp('qemu-io -d nodev "write -P 0x1 0 1"'),
            qemu_io("raw1", "read 0 1"),
            qemu_io("raw1", "discard 0 1"),
            cmd("query-block"),
            nodes(flat=True),
        ],
    ),
    Scenario(
        name="qcow2-discard-and-write-zeroes",
        images=[Image("d0", "qcow2", "64M", fill=[(0x11, "0", "1M")]), Image("d1", "qcow2", "64M")],
        blockdevs=[
            "driver=file,node-name=f0,filename={d0}",
            "driver=qcow2,node-name=disk0,file=f0,discard=unmap",
            "driver=file,node-name=f1,filename={d1}",
            "driver=qcow2,node-name=disk1,file=f1,discard=unmap",
        ],
        devices=["virtio-blk-pci,drive=disk0,id=vd0,share-rw=on"],
        negotiate=True,
        steps=[
            add("disk0", "b", granularity=4096),
            qemu_io("disk1", "discard 0 64k"),
            nodes(flat=True),
            qemu_io("disk0", "discard 0 128k"),
            qemu_io("disk0", "discard 200k 100k"),
            nodes(flat=True),
            qemu_io("disk0", "write -P 0x22 4M 64k"),
            qemu_io("disk0", "write -z 2M 128k"),
            qemu_io("disk0", "write -z 300k 10k"),
            qemu_io("disk0", "write -z 8M 10k"),
            qemu_io("disk1", "write -z 0 1M"),
            nodes(flat=True),
            qemu_io("disk0", "write -P 0x33 0 1"),
            qemu_io("disk0", "write -P 0x33 2M 1"),
            qemu_io("disk1", "write -P 0x34 100k 1"),
            nodes(flat=True),
        ],
    ),
]
