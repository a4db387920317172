"""The API's event loop (api/accept.py): uvloop's, with every waiting connection accepted in
one turn rather than one per turn, and each accepted connection served as uvloop's own."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import ClassVar

from api.accept import Listener, new_event_loop

WAITING = 200


class Counted(asyncio.Protocol):
    opened: ClassVar[list[int]] = []  # the turn each connection was accepted in
    turn = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counted.opened.append(Counted.turn)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())  # type: ignore[attr-defined]


async def waiting_connections_accepted() -> tuple[list[int], bytes]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Counted, "127.0.0.1", 0, backlog=1024)
    assert isinstance(server, Listener)
    port = server.sockets[0].getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(WAITING)]
    # every one is in the accept queue now; each turn below is one turn of the loop
    while len(Counted.opened) < WAITING and Counted.turn < 10 * WAITING:
        Counted.turn += 1
        time.sleep(0.001)
        await asyncio.sleep(0)
    clients[-1].sendall(b"hello")
    reply = await loop.run_in_executor(None, clients[-1].recv, 5)
    for client in clients:
        client.close()
    server.close()
    await server.wait_closed()
    assert not server.is_serving() and server.sockets == ()
    return Counted.opened, reply


def test_every_waiting_connection_is_accepted_in_one_turn_and_served() -> None:
    loop = new_event_loop()
    try:
        opened, reply = loop.run_until_complete(waiting_connections_accepted())
    finally:
        loop.close()
    assert len(opened) == WAITING
    assert max(opened) - min(opened) <= 1  # libuv alone: one turn per connection
    assert reply == b"HELLO"  # an accepted connection is a working uvloop transport
