"""The API's event loop: uvloop's, accepting every waiting connection in each turn.

libuv accepts one connection per turn of its loop: 300 connections waiting at once took 300
turns, where asyncio's own loop took one. A turn is short on an idle server, but while hundreds
of event streams are being written each turn writes to every socket that drained, so a class
opening one stream together waited in the kernel's accept queue, one viewer per turn (500
viewers of a replay: 180 still queued after 8 s, seen with ``ss -ltn``; the app itself answered
each request within 0.5 s of reading it). Here a plain TCP listener is watched with
``add_reader`` and drained with ``accept()`` until it would block, as asyncio's loop does, and
each connection is handed to uvloop (``connect_accepted_socket``); TLS and other servers are
uvloop's own. ``python -m api.server`` runs uvicorn with ``loop="api.accept:new_event_loop"``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvloop

log = logging.getLogger("api.accept")


class Listener(asyncio.AbstractServer):
    """A listening socket whose waiting connections are all accepted in each turn."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
        factory: Callable[[], asyncio.BaseProtocol], backlog: int,
    ) -> None:  # fmt: skip
        self.loop, self.sock, self.factory, self.backlog = loop, sock, factory, backlog
        self._opening: set[asyncio.Task[Any]] = set()
        self._serving = True
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(self.backlog):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, aborted by the peer: try next turn
                log.warning("accept failed: %s", exc)
                return
            conn.setblocking(False)
            task = self.loop.create_task(self._open(conn))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    async def _open(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.factory, conn)  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            log.warning("connection dropped at its start: %s", exc)
            conn.close()

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return (self.sock,) if self._serving else ()

    def close(self) -> None:
        if self._serving:
            self._serving = False
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()

    async def wait_closed(self) -> None:
        return None

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop

    def is_serving(self) -> bool:
        return self._serving

    async def start_serving(self) -> None:
        return None

    async def serve_forever(self) -> None:
        while self._serving:
            await asyncio.sleep(3600)


class Loop(uvloop.Loop):  # type: ignore[misc]
    async def create_server(  # type: ignore[override]
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], host: Any = None,
        port: Any = None, *, sock: socket.socket | None = None, backlog: int = 100,
        ssl: Any = None, **options: Any,
    ) -> asyncio.AbstractServer:  # fmt: skip
        plain = ssl is None and not options and (sock is not None or isinstance(host, str))
        if not plain:
            return await super().create_server(  # type: ignore[no-any-return]
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **options
            )
        if sock is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.create_server((host, port), family=family, backlog=backlog)
        else:
            sock.listen(backlog)
        sock.setblocking(False)
        return Listener(self, sock, protocol_factory, backlog)


def new_event_loop() -> asyncio.AbstractEventLoop:
    return Loop()
