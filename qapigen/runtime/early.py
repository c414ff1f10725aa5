"""Binding the QMP sockets and greeting clients before anything heavy loads.

QEMU greets within milliseconds of starting.  Importing asyncio alone
takes longer than that, and the generated package and the machine much
longer, so ``qapigen serve`` binds its sockets with plain ``socket`` calls
first and a small thread greets whoever connects while the rest loads.
When the server is ready it stops the thread and adopts the listening
sockets and the connections already greeted (:mod:`qapigen.runtime.server`).

Only the standard library's lightest modules are imported here.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import stat
import threading
from collections.abc import Sequence

from qapigen.runtime.options import QMPEndpoint


class BindError(Exception):
    """A socket cannot be bound; the message is for the user (QEMU's words)."""


def bind(endpoints: Sequence[QMPEndpoint]) -> list[socket.socket]:
    """A listening, non-blocking socket per endpoint; raises :class:`BindError`."""
    listeners: list[socket.socket] = []
    try:
        for endpoint in endpoints:
            listeners.append(_bind_one(endpoint))
    except BindError:
        close(listeners, endpoints)
        raise
    return listeners


def _bind_one(endpoint: QMPEndpoint) -> socket.socket:
    if endpoint.kind == "unix":
        assert endpoint.path is not None
        where = endpoint.path
        _remove_stale_socket(endpoint.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: object = endpoint.path
    else:
        where = f"{endpoint.host}:{endpoint.port}"
        try:
            info = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM,
                                      flags=socket.AI_PASSIVE)[0]
        except OSError as err:
            raise BindError(f"address resolution failed for {where}: {err}") from None
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        address = info[4]
    try:
        sock.bind(address)  # type: ignore[arg-type]
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise BindError(f"Failed to bind socket to {where}: {err.strerror or err}") from None
    sock.setblocking(False)
    return sock


def close(listeners: Sequence[socket.socket], endpoints: Sequence[QMPEndpoint]) -> None:
    """Close *listeners* and remove the unix socket files."""
    for sock in listeners:
        sock.close()
    for endpoint, _ in zip(endpoints, listeners, strict=False):
        if endpoint.kind == "unix" and endpoint.path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(endpoint.path)


def _remove_stale_socket(path: str) -> None:
    """QEMU replaces a socket file left behind; it never removes other files."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(mode):
        os.unlink(path)


class Greeter:
    """A thread that accepts connections and sends them *greeting*."""

    def __init__(self, listeners: Sequence[socket.socket], greeting: bytes) -> None:
        self.listeners = list(listeners)
        self.greeting = greeting
        #: (connection, index of its listener), in the order they came.
        self.accepted: list[tuple[socket.socket, int]] = []
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="qmp-greeter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[tuple[socket.socket, int]]:
        """Stop accepting; the connections greeted so far."""
        os.write(self._wake_w, b"x")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)
        return self.accepted

    def _run(self) -> None:
        fds = [listener.fileno() for listener in self.listeners]
        while True:
            ready, _, _ = select.select([*fds, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            for index, listener in enumerate(self.listeners):
                if fds[index] not in ready:
                    continue
                try:
                    conn, _ = listener.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                try:
                    conn.setblocking(True)
                    conn.sendall(self.greeting)
                except OSError:
                    conn.close()
                    continue
                self.accepted.append((conn, index))
