"""``qapigen serve``'s command line: QEMU's options, syntax and error texts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qapigen import qmp
from qapigen.runtime import keyval
from qapigen.runtime.options import (
    DeviceConfig,
    OptionError,
    QMPEndpoint,
    decode_blockdev,
    parse_argv,
)
from tests.runtime.conftest import require_qemu
from tests.runtime.harness import peer_env

# -- what is accepted ---------------------------------------------------------------


def test_a_qemu_command_line_is_accepted() -> None:
    config = parse_argv([
        "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
        "-m", "512", "-name", "guest0,debug-threads=on",
        "-qmp", "unix:/tmp/a.sock,server=on,wait=off",
        "-qmp", "unix:/tmp/b.sock,server,nowait",
        "--qmp", "tcp:127.0.0.1:4444,server=on,wait=off",
        "-blockdev", "driver=null-co,node-name=n0,size=0x100000,read-only=on",
        "-device", "virtio-blk-pci,drive=n0,id=vd0,share-rw=on",
        "-device", "scsi-hd,drive=n1",
        "--qmp-log", "/tmp/log.jsonl",
    ])
    assert config.qmp == [
        QMPEndpoint("unix", path="/tmp/a.sock"),
        QMPEndpoint("unix", path="/tmp/b.sock"),
        QMPEndpoint("tcp", host="127.0.0.1", port=4444),
    ]
    assert config.devices == [
        DeviceConfig("virtio-blk-pci", "vd0", "n0",
                     {"driver": "virtio-blk-pci", "drive": "n0", "id": "vd0", "share-rw": "on"}),
        DeviceConfig("scsi-hd", None, "n1", {"driver": "scsi-hd", "drive": "n1"}),
    ]
    assert config.name == "guest0"
    assert config.stopped is True
    assert config.qmp_log == Path("/tmp/log.jsonl")
    assert config.x_bitmap_commands is False
    assert parse_argv(["--x-bitmap-commands"]).x_bitmap_commands is True
    (node,) = config.blockdevs
    assert isinstance(node, qmp.BlockdevOptionsNullCo)
    assert (node.node_name, node.size, node.read_only) == ("n0", 1 << 20, True)


def test_storage_daemon_chardev_and_monitor() -> None:
    config = parse_argv([
        "--chardev", "socket,id=c0,path=/tmp/c0.sock,server=on,wait=off",
        "--chardev", "socket,id=c1,host=localhost,port=5555,server=on,wait=off",
        "--monitor", "chardev=c0", "--monitor", "c1,mode=control",
        "--blockdev", "null-co,node-name=n0",
    ])
    assert config.qmp == [QMPEndpoint("unix", path="/tmp/c0.sock"),
                          QMPEndpoint("tcp", host="localhost", port=5555)]
    assert [b.node_name for b in config.blockdevs] == ["n0"]


def test_blockdev_keyval_nesting_escapes_and_types() -> None:
    node = decode_blockdev("driver=qcow2,node-name=d,,0,file.driver=file,"
                           "file.filename=/a,,b.img,cache.direct=off,cache.no-flush=yes,"
                           "backing=,lazy-refcounts=on,l2-cache-size=0x10000")
    assert isinstance(node, qmp.BlockdevOptionsQcow2_)
    assert node.node_name == "d,0"
    assert isinstance(node.file, qmp.BlockdevOptionsFile_)
    assert node.file.filename == "/a,b.img"
    assert node.cache is not None
    assert (node.cache.direct, node.cache.no_flush) == (False, True)
    assert node.backing == ""  # QEMU's old spelling of "no backing file"
    assert (node.lazy_refcounts, node.l2_cache_size) == (True, 0x10000)


def test_blockdev_json_form_with_qemu_json_rules() -> None:
    node = decode_blockdev("{'driver': 'raw', 'node-name': 'r', "
                           "'file': {'driver': 'file', 'filename': '/x'}}")
    assert isinstance(node, qmp.BlockdevOptionsRaw_)
    assert node.node_name == "r"


def test_keyval_parse_tree() -> None:
    assert keyval.parse("a.b.c=1,a.b.d=x,,y,l.1=q,l.0=p,e=", "driver") == {
        "a": {"b": {"c": "1", "d": "x,y"}}, "l": ["p", "q"], "e": ""}
    assert keyval.parse("file,x=1", "driver") == {"driver": "file", "x": "1"}
    assert keyval.parse("x=1,x=2") == {"x": "2"}  # the last one wins


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("12", 12), ("-3", -3), ("0x1F", 31), ("010", 8), (" 7", 7),
    ("18446744073709551615", (1 << 64) - 1), ("1e3", None), ("", None), ("0x", None),
    ("18446744073709551616", None), ("1k", None),
])
def test_c_integer(text: str, value: int | None) -> None:
    assert keyval.c_integer(text) == value


# -- what is refused, with QEMU's words ------------------------------------------------

#: (arguments, message after the program name); each verified against
#: qemu-system-x86_64 7.2 by test_errors_match_qemu below.
ERRORS = [
    (["-foo"], "-foo: invalid option"),
    (["-qmp"], "-qmp: requires an argument"),
    (["-blockdev"], "-blockdev: requires an argument"),
    (["-qmp", "unix:/tmp/x.sock,server=on,wait=off,bogus=1"],
     "-qmp unix:/tmp/x.sock,server=on,wait=off,bogus=1: Invalid parameter 'bogus'"),
    (["-qmp", "unix:/tmp/x.sock,server=maybe,wait=off"],
     "-qmp unix:/tmp/x.sock,server=maybe,wait=off: Parameter 'server' expects 'on' or 'off'"),
    (["-qmp", "tcp:localhost"], "-qmp tcp:localhost: parse error: tcp:localhost"),
    (["-qmp", "foo:bar"], "-qmp foo:bar: 'foo:bar' is not a valid char driver"),
    (["-qmp", "tcp:127.0.0.1:notaport,server=on,wait=off"],
     "-qmp tcp:127.0.0.1:notaport,server=on,wait=off: address resolution failed for "
     "127.0.0.1:notaport: Servname not supported for ai_socktype"),
    (["-blockdev", "driver=foo"],
     "-blockdev driver=foo: Parameter 'driver' does not accept value 'foo'"),
    (["-blockdev", "node-name=x"], "-blockdev node-name=x: Parameter 'driver' is missing"),
    (["-blockdev", "driver=file"], "-blockdev driver=file: Parameter 'filename' is missing"),
    (["-blockdev", "driver=file,filename=a,node-name=a,read-only=maybe"],
     "-blockdev driver=file,filename=a,node-name=a,read-only=maybe: "
     "Parameter 'read-only' expects 'on' or 'off'"),
    (["-blockdev", "driver=file,filename=a,node-name=a,bogus=1"],
     "-blockdev driver=file,filename=a,node-name=a,bogus=1: Parameter 'bogus' is unexpected"),
    (["-blockdev", "driver=file,filename=a,node-name=a,cache.direct=x"],
     "-blockdev driver=file,filename=a,node-name=a,cache.direct=x: "
     "Parameter 'cache.direct' expects 'on' or 'off'"),
    (["-blockdev", '{"driver":"file","filename":"a","node-name":"a","read-only":"on"}'],
     '-blockdev {"driver":"file","filename":"a","node-name":"a","read-only":"on"}: '
     "Invalid parameter type for 'read-only', expected: boolean"),
    (["-blockdev", '{"driver":'], '-blockdev {"driver":: JSON parse error, premature EOI'),
    (["-blockdev", "driver=file,,x"],
     "-blockdev driver=file,,x: Parameter 'driver' does not accept value 'file,x'"),
    (["-blockdev", "=x"], "-blockdev =x: Invalid parameter ''"),
    (["-blockdev", "driver=null-co,node-name=n,size=foo"],
     "-blockdev driver=null-co,node-name=n,size=foo: Parameter 'size' expects integer"),
    (["-blockdev", "driver=null-co,node-name=n,size=1e3"],
     "-blockdev driver=null-co,node-name=n,size=1e3: Parameter 'size' expects integer"),
    (["-blockdev", "driver=null-co,node-name=n,latency-ns=x"],
     "-blockdev driver=null-co,node-name=n,latency-ns=x: Parameter 'latency-ns' expects integer"),
    (["-blockdev", "driver=null-co,node-name=n,detect-zeroes=x"],
     "-blockdev driver=null-co,node-name=n,detect-zeroes=x: "
     "Parameter 'detect-zeroes' does not accept value 'x'"),
    (["-blockdev", "driver=null-co,node-name=n,cache.direct=on,cache=x"],
     "-blockdev driver=null-co,node-name=n,cache.direct=on,cache=x: "
     "Parameters 'cache.*' used inconsistently"),
    (["-blockdev", "driver=null-co,node-name=n,cache.x=1"],
     "-blockdev driver=null-co,node-name=n,cache.x=1: Parameter 'cache.x' is unexpected"),
    (["-blockdev", "driver=null-co,node-name=n,discard.x=1"],
     "-blockdev driver=null-co,node-name=n,discard.x=1: Parameters 'discard.*' are unexpected"),
    (["-blockdev", "driver=qcow2,node-name=n,file.driver=file,file.filename=a,backing.x=1"],
     "-blockdev driver=qcow2,node-name=n,file.driver=file,file.filename=a,backing.x=1: "
     "Parameter 'backing.driver' is missing"),
    (["-blockdev", "driver=null-co,node-name=n,.x=1"],
     "-blockdev driver=null-co,node-name=n,.x=1: Invalid parameter '.x'"),
    (["-blockdev", "driver=null-co,node-name=n,x..y=1"],
     "-blockdev driver=null-co,node-name=n,x..y=1: Invalid parameter 'x..y'"),
    (["-blockdev", "driver=null-co,node-name=n,x"],
     "-blockdev driver=null-co,node-name=n,x: Expected '=' after parameter 'x'"),
    (["-blockdev", ",driver=null-co"], "-blockdev ,driver=null-co: Invalid parameter ''"),
    (["-blockdev", "driver=null-co,node-name=n,a.b=1,a=2"],
     "-blockdev driver=null-co,node-name=n,a.b=1,a=2: Parameters 'a.*' used inconsistently"),
    (["-blockdev", "{'driver':'null-co'}"],
     "-blockdev {'driver':'null-co'}: 'node-name' must be specified for the root node"),
    (["-m"], "-m: requires an argument"),
    (["-name"], "-name: requires an argument"),
]


@pytest.mark.parametrize(("argv", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_bad_options(argv: list[str], message: str) -> None:
    with pytest.raises(OptionError) as err:
        parse_argv(argv)
    assert str(err.value) == message


def test_storage_daemon_errors() -> None:
    with pytest.raises(OptionError) as err:
        parse_argv(["--monitor", "chardev=nope"])
    assert str(err.value) == '--monitor chardev=nope: chardev "nope" not found'
    with pytest.raises(OptionError) as err:
        parse_argv(["--chardev", "socket,id=c0,path=/tmp/s,server=on,wait=off",
                    "--monitor", "chardev=c0,mode=readline"])
    assert str(err.value) == "--monitor chardev=c0,mode=readline: Only QMP is supported"


def _serve_stderr(argv: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "qapigen", "serve", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=60, env=peer_env())
    return done.returncode, done.stderr


def test_cli_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    code, err = _serve_stderr(["-machine", "none", "-bogus"], tmp_path)
    assert (code, err) == (1, "qapigen serve: -bogus: invalid option\n")
    sock = tmp_path / "s.sock"
    code, err = _serve_stderr(["-qmp", f"unix:{sock},server=on,wait=off",
                               "-blockdev", "driver=file,node-name=f,filename=nope.img"],
                              tmp_path)
    assert (code, err) == (
        1, "qapigen serve: -blockdev driver=file,node-name=f,filename=nope.img: "
           "Could not open 'nope.img': No such file or directory\n")
    assert not sock.exists()
    code, err = _serve_stderr(["-qmp", f"unix:{tmp_path}/no/such/dir.sock,server=on,wait=off"],
                              tmp_path)
    assert (code, err) == (1, f"qapigen serve: -qmp Failed to bind socket to "
                              f"{tmp_path}/no/such/dir.sock: No such file or directory\n")


@pytest.mark.parametrize(("argv", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_match_qemu(argv: list[str], message: str, tmp_path: Path) -> None:
    """The table above is what qemu-system-x86_64 7.2 prints."""
    binary = require_qemu()
    done = subprocess.run([binary, "-machine", "none", "-nodefaults", "-display", "none", *argv],
                          capture_output=True, text=True, timeout=30, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"{binary.rsplit('/', 1)[-1]}: {message}"
