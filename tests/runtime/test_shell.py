"""``qapigen shell`` in a pseudo-terminal (pexpect), its screen read with
pyte: completion of a command, an argument name and an enum value, a
validation error with QEMU's text (nothing sent), a command and its
pretty-printed reply, and an event printed as it arrives.  The pure
functions (line parsing, completion) are tested without a terminal."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from pathlib import Path

import pytest

from qapigen import qmp
from qapigen.shell import SchemaIndex, completions, parse_address, parse_line
from tests.runtime.harness import peer_env
from tests.runtime.serving import serving

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

COLUMNS, LINES = 100, 30


class Terminal:
    """The shell in a pty, and what its screen shows."""

    def __init__(self, argv: list[str]) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        env = {**peer_env(), "TERM": "xterm", "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(LINES, COLUMNS))
        # The terminal answers prompt_toolkit's cursor position requests.
        self.screen.write_process_input = lambda data: self.child.send(data)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, wanted: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while wanted not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} never showed; the screen:\n{self.text()}")
            with contextlib.suppress(pexpect.TIMEOUT):
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.1))
        return self.text()

    def wait_for_match(self, pattern: str, timeout: float = 15) -> str:
        """Until the screen matches the regular expression *pattern*."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never matched; the screen:\n{self.text()}")
            with contextlib.suppress(pexpect.TIMEOUT):
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.1))
        return self.text()

    def settle(self, seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(pexpect.TIMEOUT):
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.05))


def test_shell_completes_validates_runs_and_shows_events(tmp_path: Path) -> None:
    with serving(tmp_path, ["-blockdev", "driver=null-co,node-name=null0"]) as served:
        history = tmp_path / "history"
        term = Terminal([sys.executable, "-m", "qapigen", "shell", str(served.sockets[0]),
                         "--history", str(history)])
        try:
            term.wait_for("(QEMU)")
            term.settle()
            assert "Connected to QEMU 7.2.22; completion from the server's schema." in term.text()
            # A command name, then an argument name.
            term.child.send("block-dirty-bitmap-a\t")
            term.wait_for("(QEMU) block-dirty-bitmap-add")
            term.child.send(" no\t")
            term.wait_for("(QEMU) block-dirty-bitmap-add node=")
            # A validation error: QEMU's text, and nothing sent.
            term.child.send("null0 name=b0 granularity=-1\r")
            screen = term.wait_for("Not sent: Parameter 'granularity' expects uint32_t")
            assert "Not sent: Parameter 'granularity' expects uint32_t" in screen.splitlines()
            # An enum value (a boolean), then a command and its reply.
            term.wait_for("(QEMU)")
            term.child.send("block-dirty-bitmap-add node=null0 name=b0 persistent=f\t")
            term.wait_for("persistent=false")
            term.child.send("\r")
            term.wait_for("persistent=false\n{}\n(QEMU)")
            term.child.send('query-named-block-nodes {"flat": true}\r')
            term.wait_for('"granularity": 65536')
            assert '"name": "b0"' in term.text()
            # An event, as it arrives.
            term.child.send("stop\r")
            # QEMU sends STOP before the reply; the shell shows both in order.
            term.wait_for_match(r"\(QEMU\) stop\nevent STOP at \d+\.\d{6}\n\{\}\n\(QEMU\)$")
            # History: Up brings back the last line.
            term.child.send("\x1b[A")
            term.wait_for_match(r"\{\}\n\(QEMU\) stop$")
            term.child.send("\x15exit\r")
            term.child.expect(pexpect.EOF, timeout=15)
        finally:
            term.child.close(force=True)
        assert term.child.exitstatus == 0
    lines = [line for line in history.read_text().splitlines() if line.startswith("+")]
    assert lines == ["+block-dirty-bitmap-add node=null0 name=b0 granularity=-1",
                     "+block-dirty-bitmap-add node=null0 name=b0 persistent=false",
                     '+query-named-block-nodes {"flat": true}', "+stop", "+exit"]


def test_shell_bad_socket_is_one_line(tmp_path: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "qapigen", "shell", str(tmp_path / "none")],
                          env=peer_env())
    child.expect(pexpect.EOF, timeout=15)
    child.close()
    out = child.before.decode().strip().splitlines()
    assert out == [f"qapigen shell: error: cannot talk to {tmp_path / 'none'}: "
                   "No such file or directory"]
    assert child.exitstatus == 1


INDEX = SchemaIndex.from_info(qmp.SCHEMA_INFO)


def test_parse_line_types_values_by_the_schema() -> None:
    assert parse_line("block-dirty-bitmap-add node=123 name=b0 granularity=65536 "
                      "persistent=true", INDEX) == (
        "block-dirty-bitmap-add",
        {"node": "123", "name": "b0", "granularity": 65536, "persistent": True})
    assert parse_line('blockdev-backup {"device": "d", "sync": "full"}', INDEX) == (
        "blockdev-backup", {"device": "d", "sync": "full"})
    assert parse_line("query-status", INDEX) == ("query-status", {})
    assert parse_line("x 'key=a b'", INDEX) == ("x", {"key": "a b"})


def test_completions_of_commands_arguments_and_enum_values() -> None:
    assert completions("block-dirty-bitmap-a", INDEX) == [("block-dirty-bitmap-add", 20)]
    assert completions("block-dirty-bitmap-add no", INDEX) == [("node=", 2)]
    assert completions("block-dirty-bitmap-add node=x ", INDEX) == [
        ("name=", 0), ("granularity=", 0), ("persistent=", 0), ("disabled=", 0)]
    assert completions("blockdev-backup sync=", INDEX) == [
        (v, 0) for v in ("top", "full", "none", "incremental", "bitmap")]
    assert completions("blockdev-backup sync=in", INDEX) == [("incremental", 2)]
    assert completions("nope x", INDEX) == []


def test_parse_address() -> None:
    assert parse_address("/tmp/q.sock") == "/tmp/q.sock"
    assert parse_address("localhost:4444") == ("localhost", 4444)
    assert parse_address(":4444") == ("localhost", 4444)
    assert json.dumps(parse_address("a/b:1")) == '"a/b:1"'


def test_shell_unknown_package_is_one_line(tmp_path: Path) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "qapigen", "shell", "x.sock",
                                           "--package", "no_such_pkg"], env=peer_env())
    child.expect(pexpect.EOF, timeout=15)
    child.close()
    assert child.before.decode().strip().splitlines() == [
        "qapigen shell: error: cannot import no_such_pkg: No module named 'no_such_pkg'"]
    assert child.exitstatus == 1
