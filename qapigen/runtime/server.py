"""The QMP server of ``qapigen serve``: sockets, sessions, framing, events.

It knows no block layer.  It listens on every ``-qmp`` endpoint, greets
each connection as QEMU 7.2 does (as soon as the sockets are bound: the
machine is built after that, and requests wait for it), feeds the bytes through QEMU's JSON
stream rules (:mod:`qapigen.runtime.jsonstream`), runs each request
through that connection's dispatcher, one request at a time for the
whole machine (as QEMU's single dispatcher coroutine does), and writes
every message as QEMU writes it (:mod:`qapigen.runtime.qjson`), one line
ending in CRLF.

Events come from the machine through :meth:`QMPServer.emit` and go to
every connection that has finished capabilities negotiation, before the
reply of the command that caused them.

Shutdown (``quit`` or a signal) asks the machine to close
(``Machine.aclose``, which emits ``SHUTDOWN``), then answers ``quit``, so
the event comes first as with QEMU 7.2, then closes every connection and
removes the unix socket files.

A handler that raises anything but a QMP error is a bug: the client gets a
``GenericError`` (no traceback on the wire) and the traceback goes to
stderr; the server goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from qapigen.runtime import early
from qapigen.runtime.ghash import visitor_order
from qapigen.runtime.jsonstream import JSONStreamError, JSONStreamParser
from qapigen.runtime.options import QMPEndpoint
from qapigen.runtime.qjson import dumps
from qapigen.runtime.version import greeting_line

#: Bytes read from a socket at a time.
READ_SIZE = 1 << 18


class ServeError(Exception):
    """The server cannot start (a socket cannot be bound); the message is
    for the user."""


class SessionDispatcher(Protocol):
    """What the server needs of a per-connection dispatcher."""

    negotiated: bool

    async def dispatch_async(self, request: object) -> dict[str, Any] | None: ...


class ServedMachine(Protocol):
    """What the server needs of the machine."""

    async def aclose(self, reason: str) -> None: ...


class QMPLog:
    """``--qmp-log``: one JSON line per message in or out."""

    def __init__(self, path: Path) -> None:
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, direction: str, client: int, **item: Any) -> None:
        entry = {"timestamp": round(time.time(), 6), "direction": direction, "client": client,
                 **item}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class _Session:
    """One QMP connection."""

    def __init__(self, number: int, writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.writer = writer
        self.dispatcher: SessionDispatcher | None = None
        self.closed = False

    @property
    def negotiated(self) -> bool:
        return self.dispatcher is not None and self.dispatcher.negotiated

    def write(self, data: bytes) -> None:
        if self.closed or self.writer.is_closing():
            self.closed = True
            return
        try:
            self.writer.write(data)
        except (ConnectionError, OSError, RuntimeError):
            self.closed = True

    async def drain(self) -> None:
        if self.closed:
            return
        try:
            await self.writer.drain()
        except (ConnectionError, OSError, RuntimeError):
            self.closed = True

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.close()


class QMPServer:
    """Listens, greets, dispatches and fans events out (see the module doc)."""

    def __init__(self, endpoints: Sequence[QMPEndpoint], *, log_path: Path | None = None) -> None:
        self.endpoints = list(endpoints)
        self.log = QMPLog(log_path) if log_path is not None else None
        self.sessions: list[_Session] = []
        self._servers: list[asyncio.AbstractServer] = []
        self._unix_paths: list[str] = []
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()  # greeting known
        self._machine_ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._closing = False
        self._quit_requested = False
        self._next_session = 0
        self._greeting = b""
        self._machine: ServedMachine | None = None
        self._adopted: set[asyncio.Task[None]] = set()
        self._make_dispatcher: Callable[[], SessionDispatcher] | None = None

    # -- setting up ----------------------------------------------------------------------

    async def bind(self, listeners: Sequence[socket.socket] | None = None) -> None:
        """Listen on every endpoint, on *listeners* if they are bound
        already (one per endpoint, see :mod:`qapigen.runtime.early`);
        raises :class:`ServeError`."""
        if listeners is None:
            try:
                listeners = early.bind(self.endpoints)
            except early.BindError as err:
                raise ServeError(str(err)) from None
        for endpoint, sock in zip(self.endpoints, listeners, strict=True):
            if endpoint.kind == "unix":
                server = await asyncio.start_unix_server(
                    self._connection, sock=sock, limit=READ_SIZE)
                assert endpoint.path is not None
                self._unix_paths.append(endpoint.path)
            else:
                server = await asyncio.start_server(self._connection, sock=sock, limit=READ_SIZE)
            self._servers.append(server)

    def greet(self, version: object) -> None:
        """Start greeting connections: *version* is the greeting's
        ``version`` object (``query-version`` on the wire).  Requests wait
        until :meth:`attach` brings the machine."""
        self._greeting = greeting_line(version)
        self._ready.set()

    async def adopt(self, connections: Sequence[tuple[socket.socket, int]]) -> None:
        """Serve connections that were accepted and greeted before the event
        loop ran (``(socket, endpoint index)`` pairs)."""
        for conn, index in connections:
            conn.setblocking(False)
            try:
                if self.endpoints[index].kind == "unix":
                    reader, writer = await asyncio.open_unix_connection(sock=conn,
                                                                        limit=READ_SIZE)
                else:
                    reader, writer = await asyncio.open_connection(sock=conn, limit=READ_SIZE)
            except OSError:
                conn.close()
                continue
            task = asyncio.ensure_future(self._connection(reader, writer, greeted=True))
            self._adopted.add(task)
            task.add_done_callback(self._adopted.discard)

    def attach(self, machine: ServedMachine,
               make_dispatcher: Callable[[], SessionDispatcher]) -> None:
        """The machine is up: run the requests."""
        self._machine = machine
        self._make_dispatcher = make_dispatcher
        self._machine_ready.set()

    # -- events and shutdown requests from the machine ----------------------------------

    def emit(self, event: Any) -> None:
        """Stamp *event* (a generated event object) and send it to every
        negotiated connection."""
        from qapigen.support.events import event_message

        message = event_message(event)
        data = _line(message)
        for session in self.sessions:
            if session.negotiated:
                session.write(data)
                if self.log is not None:
                    self.log.write("out", session.number, message=message)

    def request_shutdown(self) -> None:
        """Called by ``quit``: shut down once the command has run."""
        self._quit_requested = True

    async def shutdown(self, reason: str) -> None:
        """Shut down from outside a command (a signal)."""
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout=5)
            locked = True
        except TimeoutError:
            locked = False  # a command hangs; do not wait for it forever
        try:
            await self._shutdown(reason)
        finally:
            if locked:
                self._lock.release()

    @property
    def closing(self) -> bool:
        """Shutting down or shut down (a signal may come before the machine)."""
        return self._closing

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def close(self) -> None:
        """Stop listening, drop every connection, remove the socket files."""
        self._closing = True
        self._ready.set()
        self._machine_ready.set()
        for server in self._servers:
            server.close()
        for session in list(self.sessions):
            await _flush(session)
            session.close()
        self.sessions.clear()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1)
        self._servers.clear()
        for path in self._unix_paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._unix_paths.clear()
        if self.log is not None:
            self.log.close()
            self.log = None
        self._stopped.set()

    async def _shutdown(self, reason: str, reply: tuple[_Session, dict[str, Any]] | None = None,
                        ) -> None:
        if self._closing:
            return
        self._closing = True
        if self._machine is not None:
            try:
                await self._machine.aclose(reason)
            except Exception:
                traceback.print_exc(file=sys.stderr)
        if reply is not None:
            self._send(*reply)
        await self.close()

    # -- connections -----------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, greeted: bool = False) -> None:
        session = _Session(self._next_session, writer)
        self._next_session += 1
        try:
            await self._ready.wait()
            if self._closing:
                return
            self.sessions.append(session)
            if not greeted:
                session.write(self._greeting)
            if self.log is not None:
                self.log.write("out", session.number, message=json.loads(self._greeting))
            parser = JSONStreamParser()
            while not self._closing and not session.closed:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                for item in parser.feed(data):
                    if self._closing:
                        break
                    await self._handle(session, item)
                await session.drain()
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            raise
        finally:
            with contextlib.suppress(ValueError):
                self.sessions.remove(session)
            session.close()

    async def _handle(self, session: _Session, item: Any) -> None:
        if isinstance(item, JSONStreamError):
            if self.log is not None:
                self.log.write("in", session.number, error=item.desc)
            self._send(session, {"error": {"class": "GenericError", "desc": item.desc}})
            return
        if self.log is not None:
            self.log.write("in", session.number, message=item)
        if not self._machine_ready.is_set():
            await self._machine_ready.wait()
        async with self._lock:
            if self._closing or self._make_dispatcher is None:
                return
            if session.dispatcher is None:
                session.dispatcher = self._make_dispatcher()
            if isinstance(item, dict) and isinstance(item.get("arguments"), dict):
                # Which unexpected argument is reported first follows QEMU's
                # input visitor (see ghash.py).
                item = {k: visitor_order(v) if k == "arguments" else v for k, v in item.items()}
            response = await self._dispatch(session, item)
            if self._quit_requested:
                await self._shutdown("host-qmp-quit",
                                     None if response is None else (session, response))
                return
        if response is not None:
            self._send(session, response)

    async def _dispatch(self, session: _Session, request: Any) -> dict[str, Any] | None:
        assert session.dispatcher is not None
        try:
            result = session.dispatcher.dispatch_async(request)
            return await result if inspect.isawaitable(result) else result
        except Exception as err:
            name = request.get("execute") if isinstance(request, dict) else None
            print(f"qapigen serve: internal error in command {name!r}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            response: dict[str, Any] = {"error": {
                "class": "GenericError",
                "desc": f"Internal error: {type(err).__name__}: {err}",
            }}
            if isinstance(request, dict) and "id" in request:
                response["id"] = request["id"]
            return response

    def _send(self, session: _Session, message: dict[str, Any]) -> None:
        session.write(_line(message))
        if self.log is not None:
            self.log.write("out", session.number, message=message)


def _line(message: Any) -> bytes:
    return (dumps(message) + "\r\n").encode("ascii")


async def _flush(session: _Session) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(session.drain(), timeout=1)
