"""Serve the API: ``python -m api.server --host H --port P`` (what ``make serve``, the tests and
the compose file run), uvicorn with the connection limits of the settings.

uvicorn has a keep-alive timeout but nothing for a client that connects and sends headers or
a body slowly, or never, and its httptools parser takes headers of any size and number. The
protocol below adds them, all from the settings (README "Auth and limits"):

- ``HTTP_HEADER_TIMEOUT_SECONDS``: from the connection's first byte (or its opening, or the
  end of the previous response) to the end of the request's headers; then it is closed;
- ``HTTP_BODY_TIMEOUT_SECONDS``: from the end of the headers to the end of the body;
- ``HTTP_KEEPALIVE_SECONDS``: an idle connection between requests (uvicorn's own);
- ``HTTP_MAX_HEADER_BYTES`` (request line included) and ``HTTP_MAX_HEADERS``: over either,
  a 431 and the connection closed.

``X-Forwarded-*`` are trusted only from ``FORWARDED_ALLOW_IPS`` (unset: from nobody).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.streams.memory import keep_big_blocks_mapped, return_freed_memory
from store.settings import get_settings

TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%b"
)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body timeouts and header caps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.http_header_timeout_seconds
        self.body_timeout = settings.http_body_timeout_seconds
        self.max_header_bytes = settings.http_max_header_bytes
        self.max_headers = settings.http_max_headers
        self.deadline: asyncio.TimerHandle | None = None
        self.header_bytes = self.header_count = 0
        self.refusal: bytes | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expire(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # the app, if it is reading the body, sees a disconnect

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)  # a connection that never sends a byte ends too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        return_freed_memory()  # its buffers (a stream's last megabytes are sent after its body)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_bytes = self.header_count = 0
        if self.deadline is None:  # a request after a keep-alive pause
            self._arm(self.header_timeout)

    def _count(self, size: int, header: bool) -> None:
        self.header_bytes += size
        self.header_count += header
        if self.header_bytes > self.max_header_bytes or self.header_count > self.max_headers:
            self.refusal = (
                f"request headers over the limit of {self.max_headers} headers or "
                f"{self.max_header_bytes} bytes"
            ).encode()
            raise ValueError("request headers too large")  # stops the parser: a parser error

    def on_url(self, url: bytes) -> None:
        self._count(len(url), header=False)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, header=True)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if self.refusal is None:
            super().send_400_response(msg)
            return
        self.transport.write(TOO_LARGE % (len(self.refusal), self.refusal))
        self.transport.close()


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m api.server", description=__doc__)
    parser.add_argument("--host", default=settings.api_host)
    parser.add_argument("--port", type=int, default=settings.api_port)
    parser.add_argument("--workers", type=int, default=None, help="API processes")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    trusted = ",".join(settings.forwarded_allow_ips)
    keep_big_blocks_mapped()  # a crowd's buffers go back to the system once sent
    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,  # api.access logs each request with its id
        http=GuardedProtocol,
        proxy_headers=bool(trusted),  # uvicorn's default trusts 127.0.0.1
        forwarded_allow_ips=trusted or None,
        timeout_keep_alive=settings.http_keepalive_seconds,
        loop="api.accept:new_event_loop",  # uvloop, accepting all waiting connections per turn
    )


if __name__ == "__main__":
    main()
