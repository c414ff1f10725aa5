"""``qapigen shell SOCKET``: an interactive QMP shell on the typed client.

Input is one command per line, with its arguments as ``key=value`` words
or as one JSON object::

    block-dirty-bitmap-add node=disk0 name=b0 granularity=65536
    blockdev-backup {"device": "disk0", "target": "t0", "sync": "full"}

A ``key=value`` value is taken as typed for string and enum arguments, and
read as JSON otherwise (``65536``, ``true``, ``[...]``), falling back to
the text.  Tab completes command names, argument names and enum values,
from the server's own ``query-qmp-schema`` when it answers (else from the
bindings'); arguments are checked with the bindings' decoders before
anything is sent, so a mistake gets QEMU's own message at once
(``Not sent: Parameter 'granularity' expects uint32_t``).  Replies
are pretty-printed, and events print as they arrive, above the prompt.
``exit`` or Ctrl-D leaves; history is kept in ``~/.qapigen_shell_history``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qapigen.support.client import Address, ClientBase, CommandError, ConnectionLost
from qapigen.support.errors import QMPError

DEFAULT_PACKAGE = "qapigen.qmp"
HISTORY = Path("~/.qapigen_shell_history")


class InputError(Exception):
    """A line the shell cannot turn into a request."""


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    optional: bool


@dataclass
class SchemaIndex:
    """What completion and value parsing need from ``query-qmp-schema``."""

    entries: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[Argument]] = field(default_factory=dict)

    @classmethod
    def from_info(cls, info: Iterable[Mapping[str, Any]]) -> SchemaIndex:
        index = cls({str(e["name"]): e for e in info})
        for name, entry in index.entries.items():
            if entry.get("meta-type") == "command":
                args = index.entries.get(str(entry.get("arg-type")), {})
                index.commands[name] = [
                    Argument(m["name"], str(m.get("type")), "default" in m)
                    for m in args.get("members", [])
                ]
        return index

    def values(self, type_name: str) -> list[str]:
        """The words a value of the type may be: enum values, booleans."""
        entry = self.entries.get(type_name, {})
        if entry.get("meta-type") == "enum":
            values = entry.get("values") or [m["name"] for m in entry.get("members", [])]
            return [str(v) for v in values]
        if self.json_type(type_name) == "boolean":
            return ["true", "false"]
        if entry.get("meta-type") == "alternate":
            out: list[str] = []
            for member in entry.get("members", []):
                out += self.values(str(member.get("type")))
            return out
        return []

    def json_type(self, type_name: str) -> str:
        entry = self.entries.get(type_name, {})
        if entry.get("meta-type") == "builtin":
            return str(entry.get("json-type"))
        if entry.get("meta-type") == "enum":
            return "string"
        if type_name in ("str", "bool", "int", "number"):  # unmasked builtins
            return {"str": "string", "bool": "boolean", "int": "int"}.get(type_name, "number")
        return str(entry.get("meta-type", ""))

    def argument(self, command: str, name: str) -> Argument | None:
        return next((a for a in self.commands.get(command, []) if a.name == name), None)


def parse_line(line: str, index: SchemaIndex) -> tuple[str, dict[str, Any]]:
    """(command, wire arguments) from a line of input."""
    command, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    if rest.startswith("{"):
        try:
            arguments = json.loads(rest)
        except ValueError as err:
            raise InputError(f"the arguments are not a JSON object: {err}") from None
        if not isinstance(arguments, dict):
            raise InputError("the arguments are not a JSON object")
        return command, arguments
    try:
        words = shlex.split(rest)
    except ValueError as err:
        raise InputError(str(err)) from None
    arguments = {}
    for word in words:
        key, eq, text = word.partition("=")
        if not eq or not key:
            raise InputError(f"expected key=value, not {word!r}")
        arguments[key] = _value(text, index.argument(command, key), index)
    return command, arguments


def _value(text: str, argument: Argument | None, index: SchemaIndex) -> Any:
    if argument is not None and index.json_type(argument.type) == "string":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _words_before(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def completions(text: str, index: SchemaIndex) -> list[tuple[str, int]]:
    """Candidates for the text before the cursor: (completion, how many
    characters before the cursor it replaces)."""
    if " " not in text:
        return [(c, len(text)) for c in sorted(index.commands) if c.startswith(text)]
    command = text.split(" ", 1)[0]
    args = index.commands.get(command, [])
    words = _words_before(text)
    current = words[-1] if words and not text.endswith(" ") else ""
    given = {w.partition("=")[0] for w in words[1:] if "=" in w}
    if "=" in current:
        key, _, typed = current.partition("=")
        argument = index.argument(command, key)
        if argument is None:
            return []
        return [(v, len(typed)) for v in index.values(argument.type) if v.startswith(typed)]
    return [
        (f"{a.name}=", len(current)) for a in args
        if a.name.startswith(current) and a.name not in given
    ]


def validate(registry: Any, command: str, arguments: Mapping[str, Any]) -> None:
    """Check the arguments with the bindings' decoder (QEMU's messages);
    commands the bindings do not know are left to the server."""
    spec = registry.COMMANDS.get(command)
    if spec is not None:
        spec.decode(dict(arguments), "", "null")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def format_event(message: Mapping[str, Any]) -> str:
    stamp = message.get("timestamp", {})
    when = f"{stamp.get('seconds', 0)}.{stamp.get('microseconds', 0):06d}" if stamp else ""
    data = message.get("data")
    text = f"event {message.get('event')} at {when}"
    return text if data is None else f"{text}\n{pretty(data)}"


def parse_address(text: str) -> Address:
    """``HOST:PORT`` for TCP, anything else is a unix socket path."""
    host, colon, port = text.rpartition(":")
    if colon and port.isdigit() and "/" not in text:
        return (host or "localhost", int(port))
    return text


class Shell:
    """One shell session: the client, the schema index, the loop."""

    def __init__(self, client: ClientBase, registry: Any, index: SchemaIndex,
                 source: str) -> None:
        self.client = client
        self.registry = registry
        self.index = index
        self.source = source

    async def run_line(self, line: str) -> str | None:
        """The text to print for one line of input (None: nothing)."""
        if not line.strip():
            return None
        try:
            command, arguments = parse_line(line, self.index)
            validate(self.registry, command, arguments)
        except InputError as err:
            return f"Error: {err}"
        except QMPError as err:
            return f"Not sent: {err.desc}"
        try:
            result = await self.client.execute(command, arguments or None)
        except CommandError as err:
            return f"{err.error_class}: {err.desc}"
        return pretty(result)


async def _interact(shell: Shell, history: Path | None) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import CompleteEvent, Completer, Completion
    from prompt_toolkit.document import Document
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    class _Completer(Completer):
        def get_completions(self, document: Document,
                            complete_event: CompleteEvent) -> Iterator[Completion]:
            for text, back in completions(document.text_before_cursor, shell.index):
                yield Completion(text, start_position=-back)

    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history)) if history is not None else InMemoryHistory(),
        completer=_Completer(), complete_while_typing=False,
    )

    async def show_events() -> None:
        with contextlib.suppress(ConnectionLost):
            async for message in shell.client.event_messages():
                print(format_event(message), flush=True)

    version = shell.client.server_version
    print(f"Connected to QEMU {'.'.join(map(str, version)) if version else '?'}; "
          f"completion from {shell.source}. Ctrl-D or 'exit' leaves.", flush=True)
    with patch_stdout(raw=True):
        events = asyncio.create_task(show_events())
        try:
            while True:
                try:
                    line = await session.prompt_async("(QEMU) ")
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if line.strip() in ("exit", "exit()"):
                    break
                try:
                    output = await shell.run_line(line)
                except ConnectionLost as err:
                    print(f"Error: {err}", flush=True)
                    return 1
                if output is not None:
                    print(output, flush=True)
        finally:
            events.cancel()
    return 0


async def _session(address: Address, package: str, history: Path | None) -> int:
    module = importlib.import_module(package)
    registry = importlib.import_module(f"{package}.registry")
    client: ClientBase = module.Client()
    await client.connect(address)
    try:
        try:
            info = await client.execute("query-qmp-schema")
            source = "the server's schema"
        except CommandError:
            info, source = registry.SCHEMA_INFO, f"the bindings ({package})"
        shell = Shell(client, registry, SchemaIndex.from_info(info), source)
        return await _interact(shell, history)
    finally:
        await client.close()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qapigen shell", description="An interactive QMP shell with completion.")
    parser.add_argument("socket", metavar="SOCKET", help="unix socket path, or HOST:PORT")
    parser.add_argument("--package", default=DEFAULT_PACKAGE,
                        help=f"generated package whose client and decoders to use "
                             f"(default {DEFAULT_PACKAGE})")
    parser.add_argument("--history", metavar="FILE",
                        help=f"history file (default {HISTORY}; '' for none)")
    args = parser.parse_args(argv)
    history_text = str(HISTORY.expanduser()) if args.history is None else args.history
    history = Path(history_text) if history_text else None
    address = parse_address(args.socket)
    try:
        importlib.import_module("prompt_toolkit")
    except ImportError:
        print("qapigen shell: error: prompt_toolkit is needed "
              "(pip install 'qapigen[shell]')", file=sys.stderr)
        return 1
    try:
        importlib.import_module(args.package)
    except ImportError as err:
        print(f"qapigen shell: error: cannot import {args.package}: {err}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_session(address, args.package, history))
    except (OSError, ConnectionLost) as err:
        where = args.socket
        detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        print(f"qapigen shell: error: cannot talk to {where}: {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))


__all__ = ["SchemaIndex", "Shell", "completions", "main", "parse_address", "parse_line"]
