"""The run-time half of a generated QMP client.

A generated package's ``client.py`` holds ``Client``, a subclass of
:class:`ClientBase` with one typed ``async`` method per command; each
method only packs its keyword arguments and calls :meth:`ClientBase._call`.
Everything else lives here, written once: the transport, negotiation,
request ids, typed decoding of replies and events, listeners, the schema
check and the synchronous wrapper.

Why our own transport and not ``qemu.qmp``: a QMP connection is one JSON
object per line in each direction, which asyncio streams and orjson handle
in a few dozen lines; ``qemu.qmp`` adds a generic message layer, a
per-message ``Message`` object and its own event machinery that the typed
layer would then convert again.  Our path is one ``orjson.loads`` per line,
one future per request, and the generated decoder on the result (see
``benchmarks/client.py``).

Replies and events are decoded *tolerantly* (:data:`TOLERANT`): a server
newer or older than the bindings (members or enum values the bindings do
not know, mandatory members an older QEMU leaves out) never breaks a
command or the event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import os
import threading
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from qapigen.support.errors import ERROR_CLASSES, QMPError
from qapigen.support.schemacheck import SchemaReport, compare_schemas

#: Keyword arguments of the decoders for what a server sends: tolerant
#: decoding, so that version drift never breaks a reply or an event.
TOLERANT: dict[str, Any] = {"tolerant": True}

#: A unix socket path, or (host, port) for TCP.
Address = str | os.PathLike[str] | tuple[str, int]

#: Lines longer than this end the connection (``query-qmp-schema`` replies
#: of QEMU 10.2 are about 200 kB).
LINE_LIMIT = 64 << 20

E = TypeVar("E")
C = TypeVar("C", bound="ClientBase")
R = TypeVar("R")


class CommandError(QMPError):
    """A QMP error reply: ``error_class`` and ``desc`` as the server sent
    them (a newer server's class is kept as it is), and the command."""

    def __init__(self, desc: str, error_class: str = "GenericError", command: str = "") -> None:
        known = error_class if error_class in ERROR_CLASSES else "GenericError"
        super().__init__(desc, known)
        self.error_class = error_class
        self.command = command

    def __str__(self) -> str:
        return f"{self.error_class}: {self.desc}"


class ConnectionLost(ConnectionError):
    """The server closed the connection, or the client was closed, while a
    command was waiting for its reply."""


class SchemaDriftWarning(UserWarning):
    """A command is used that the server's schema lacks."""


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event the bindings do not know (a newer server's), undecoded."""

    NAME: str
    data: Any


@dataclass(slots=True)
class _Route:
    """How to talk to one command: encode keyword arguments, decode the
    reply; looked up from the package's registry on first use."""

    args_class: Any  # the arguments' class (None: no arguments)
    decode: Callable[..., Any] | None  # the return type's from_wire
    reply: bool = True  # False for success-response: false


class EventListener(Generic[E]):
    """A queue of typed events, registered with the client when created
    (so nothing is missed between creating it and iterating it).

    ``async for event in listener`` waits for the next one; use it as a
    context manager (sync or async) to unregister it afterwards.
    """

    def __init__(self, client: ClientBase, classes: tuple[type[Any], ...],
                 raw: bool = False) -> None:
        self._client = client
        self.names = frozenset(c.NAME for c in classes) if classes else None
        #: Deliver the messages as received (dicts), not decoded.
        self.raw = raw
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        client._listeners.append(self)

    def accepts(self, name: str) -> bool:
        return self.names is None or name in self.names

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._client._listeners.remove(self)

    def __enter__(self) -> EventListener[E]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> EventListener[E]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[E]:
        return self

    async def __anext__(self) -> E:
        return await self.get()

    async def get(self, timeout: float | None = None) -> E:
        """The next event; raises :class:`ConnectionLost` once the
        connection is gone and every event before that was read."""
        item = await asyncio.wait_for(self.queue.get(), timeout)
        if isinstance(item, ConnectionLost):
            self.queue.put_nowait(item)
            raise item
        event: E = item
        return event

    def get_nowait(self) -> E | None:
        """The next event if one is waiting, else None."""
        try:
            item = self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None
        if isinstance(item, ConnectionLost):
            self.queue.put_nowait(item)
            return None
        event: E = item
        return event


class ClientBase:
    """An asyncio QMP client for one generated package (``PACKAGE``).

    ``await client.connect(path_or_host_port)`` reads the greeting and
    negotiates (enabling ``oob`` when the server offers it); the typed
    command methods of the generated subclass then send requests, and
    :meth:`events` delivers typed events.  Errors come back as
    :class:`CommandError` (a :class:`~qapigen.support.errors.QMPError`).
    """

    #: The generated package whose registry the client uses.
    PACKAGE: str = ""

    def __init__(self) -> None:
        self.greeting: dict[str, Any] = {}
        #: Capabilities the server offered, and those enabled.
        self.capabilities: list[str] = []
        self.enabled: list[str] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._listeners: list[EventListener[Any]] = []
        self._routes: dict[str, _Route] = {}
        self._registry: Any = None
        self._lost: ConnectionLost | None = None
        #: Commands the server lacks (filled by :meth:`check_schema`).
        self._absent: frozenset[str] = frozenset()
        self._warned: set[str] = set()

    # -- connection -----------------------------------------------------------

    async def connect(self, address: Address, *, negotiate: bool = True, oob: bool = True) -> None:
        """Connect to a unix socket path or a ``(host, port)`` pair, read
        the greeting and (unless *negotiate* is false) run
        ``qmp_capabilities``, enabling ``oob`` when offered and *oob*."""
        if isinstance(address, tuple):
            reader, writer = await asyncio.open_connection(*address, limit=LINE_LIMIT)
        else:
            reader, writer = await asyncio.open_unix_connection(os.fspath(address), limit=LINE_LIMIT)
        self._reader, self._writer = reader, writer
        self._lost = None
        line = await reader.readline()
        if not line:
            await self.close()
            raise ConnectionLost("the server closed the connection before its greeting")
        self.greeting = orjson.loads(line)
        qmp = self.greeting.get("QMP", {}) if isinstance(self.greeting, dict) else {}
        self.capabilities = list(qmp.get("capabilities", []))
        self._task = asyncio.create_task(self._read_loop(reader))
        if negotiate:
            wanted = ["oob"] if oob and "oob" in self.capabilities else []
            await self.execute("qmp_capabilities", {"enable": wanted} if wanted else None)
            self.enabled = wanted

    async def close(self) -> None:
        """Close the connection; waiting commands get :class:`ConnectionLost`."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_all(ConnectionLost("the connection was closed"))

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def server_version(self) -> tuple[int, int, int] | None:
        """(major, minor, micro) from the greeting."""
        try:
            q = self.greeting["QMP"]["version"]["qemu"]
            return int(q["major"]), int(q["minor"]), int(q["micro"])
        except (KeyError, TypeError, ValueError):
            return None

    # -- requests -------------------------------------------------------------

    async def execute(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """Run *command* with wire *arguments*; the ``return`` value as
        plain JSON (no typed decoding).  Raises :class:`CommandError`."""
        writer = self._writer
        if writer is None or self._lost is not None:
            raise self._lost or ConnectionLost("not connected")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._write(command, arguments, request_id)
        try:
            response = await future
        finally:
            self._pending.pop(request_id, None)
        if "error" in response:
            error = response["error"]
            raise CommandError(str(error.get("desc", "")), str(error.get("class", "GenericError")), command)
        return response.get("return")

    def _write(self, command: str, arguments: Mapping[str, Any] | None,
               request_id: int | None) -> None:
        writer = self._writer
        if writer is None or self._lost is not None:
            raise self._lost or ConnectionLost("not connected")
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        if request_id is not None:
            request["id"] = request_id
        writer.write(orjson.dumps(request) + b"\n")

    async def _call(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        """A typed command: *arguments* by Python name (None: none), the
        reply decoded into the command's return type."""
        route = self._routes.get(command) or self._route(command)
        wire = route.args_class(**arguments).to_wire() if arguments else None
        return await self._send(command, route, wire)

    async def _call_boxed(self, command: str, arguments: Any) -> Any:
        """A typed ``boxed`` command: *arguments* is the arguments object."""
        route = self._routes.get(command) or self._route(command)
        return await self._send(command, route, arguments.to_wire())

    async def _transaction(
        self, actions: Iterable[Any], completion_mode: Any, properties: Any
    ) -> None:
        """``transaction`` with typed *actions* (the generated
        ``TransactionAction*`` branch objects); *completion_mode* (the
        enum or its wire string) goes into ``properties``."""
        route = self._routes.get("transaction") or self._route("transaction")
        wire: dict[str, Any] = {"actions": [action.to_wire() for action in actions]}
        props: dict[str, Any] = properties.to_wire() if properties is not None else {}
        if completion_mode is not None:
            props["completion-mode"] = getattr(completion_mode, "value", completion_mode)
        if props:
            wire["properties"] = props
        await self._send("transaction", route, wire)

    async def _send(self, command: str, route: _Route, wire: Mapping[str, Any] | None) -> Any:
        if command in self._absent and command not in self._warned:
            self._warned.add(command)
            warnings.warn(
                f"the server's schema lacks the command {command!r}", SchemaDriftWarning,
                stacklevel=4,
            )
        if not route.reply:
            self._write(command, wire, None)
            return None
        value = await self.execute(command, wire)
        return None if route.decode is None else route.decode(value, **TOLERANT)

    def _route(self, command: str) -> _Route:
        registry = self._package_registry()
        spec = registry.COMMANDS[command]
        args_class = registry.TYPES[spec.arg_type] if spec.arg_type else None
        decode = registry.TYPES[spec.ret_type].from_wire if spec.ret_type else None
        route = self._routes[command] = _Route(args_class, decode, spec.success_response)
        return route

    def _package_registry(self) -> Any:
        if self._registry is None:
            self._registry = importlib.import_module(f"{self.PACKAGE}.registry")
        return self._registry

    # -- events ---------------------------------------------------------------

    def events(self, *classes: type[E]) -> EventListener[E]:
        """A listener for the events of *classes* (every event when none
        is given), registered now: ``async for event in client.events(JobStatusChange)``."""
        return EventListener(self, classes)

    def event_messages(self) -> EventListener[dict[str, Any]]:
        """A listener for every event message as received (a dict with
        ``event``, ``data`` and ``timestamp``), undecoded: for tools that
        show the wire text, like ``qapigen shell``."""
        return EventListener(self, (), raw=True)

    def _decode_event(self, message: dict[str, Any]) -> Any:
        name = str(message.get("event"))
        registry = self._package_registry()
        cls = registry.EVENTS.get(name)
        if cls is None:
            return UnknownEvent(name, message.get("data"))
        if not cls.HAS_DATA:
            return cls()
        try:
            return cls.from_wire(message.get("data", {}), **TOLERANT)
        except QMPError as err:  # only without tolerant decoding
            warnings.warn(f"event {name}: {err.desc}", SchemaDriftWarning, stacklevel=2)
            return UnknownEvent(name, message.get("data"))

    # -- reading --------------------------------------------------------------

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                message = orjson.loads(line)
                if "event" in message:
                    self._on_event(message)
                    continue
                future = self._pending.get(message.get("id"))
                if future is not None and not future.done():
                    future.set_result(message)
                elif "error" in message and "id" not in message:
                    # An error without id (a request the server could not
                    # parse): it answers the oldest waiting request.
                    waiting = next((f for f in self._pending.values() if not f.done()), None)
                    if waiting is not None:
                        waiting.set_result(message)
        except (OSError, ValueError, asyncio.LimitOverrunError) as err:
            self._fail_all(ConnectionLost(f"connection lost: {err}"))
            return
        self._fail_all(ConnectionLost("the server closed the connection"))

    def _on_event(self, message: dict[str, Any]) -> None:
        name = message.get("event")
        decoded: Any = None
        for listener in self._listeners:
            if listener.raw:
                listener.queue.put_nowait(message)
            elif listener.accepts(str(name)):
                if decoded is None:
                    decoded = self._decode_event(message)
                listener.queue.put_nowait(decoded)

    def _fail_all(self, err: ConnectionLost) -> None:
        if self._lost is None:
            self._lost = err
            for listener in self._listeners:
                listener.queue.put_nowait(err)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(err)

    # -- schema drift ---------------------------------------------------------

    async def check_schema(self) -> SchemaReport:
        """Compare the server's ``query-qmp-schema`` with the bindings':
        what the server lacks (commands, events, members, enum values) and
        what it has that the bindings do not.  Afterwards, calling a
        method whose command the server lacks warns
        (:class:`SchemaDriftWarning`) before sending it."""
        theirs = await self.execute("query-qmp-schema")
        report = compare_schemas(self._package_registry().SCHEMA_INFO, theirs)
        self._absent = frozenset(report.missing_commands)
        return report


class SyncClient(Generic[C]):
    """A blocking wrapper for scripts: ``SyncClient(Client).connect(path)``;
    every coroutine method of the client becomes a plain call
    (``sync.query_version()``), run on a private event loop in a thread.

    ``sync.client`` is the wrapped client; ``sync.run(coro)`` runs any
    coroutine; :meth:`wait_event` waits for a typed event.
    """

    def __init__(self, client_class: type[C]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="qmp-client")
        self._thread.start()
        self.client: C = self.run(self._make(client_class))
        self._events: EventListener[Any] | None = None

    @staticmethod
    async def _make(client_class: type[C]) -> C:
        return client_class()

    def run(self, coro: Coroutine[Any, Any, R] | Awaitable[R], timeout: float | None = None) -> R:
        """Run *coro* on the client's loop and return its result."""
        async def wrap() -> R:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self._loop).result(timeout)

    def connect(self, address: Address, **options: Any) -> SyncClient[C]:
        self.run(self.client.connect(address, **options))
        self._events = self.run(self._listen())
        return self

    async def _listen(self) -> EventListener[Any]:
        return self.client.events()

    def wait_event(self, *classes: type[E], timeout: float | None = None) -> E:
        """The next event of one of *classes* (any, when none is given)
        received since :meth:`connect`; others before it are dropped."""
        listener = self._events
        if listener is None:
            raise ConnectionLost("not connected")

        async def next_event() -> E:
            while True:
                event: E = await listener.get()
                if not classes or isinstance(event, classes):
                    return event

        return self.run(asyncio.wait_for(next_event(), timeout))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self.client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> SyncClient[C]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        if not callable(method):
            return method  # type: ignore[no-any-return]

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return self.run(result) if asyncio.iscoroutine(result) else result

        return call
