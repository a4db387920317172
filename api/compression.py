"""Compressed responses (an ASGI middleware): zstd, br or gzip, whichever the client accepts.

A whole body is compressed at once (in a thread when large: the event loop keeps serving); a
streamed one chunk by chunk, each flushed. Event streams (``text/event-stream``), bodies that
already carry a ``Content-Encoding``, small bodies and bodiless statuses pass untouched; the
event-stream route compresses its own events (api/routes/events.py).
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.encodings import StreamCoder, compress, negotiate, stream_coder

MINIMUM = 1024  # bytes; smaller bodies go as they are
IN_THREAD = 256 * 1024  # bodies larger than this are compressed in a worker thread


class Compression:
    def __init__(self, app: ASGIApp, minimum: int = MINIMUM) -> None:
        self.app = app
        self.minimum = minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = (
            negotiate(Headers(scope=scope).get("accept-encoding"))
            if scope["type"] == "http"
            else None
        )
        if coding is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Responder(send, coding, self.minimum).send)


class _Responder:
    """Holds the response start until the first body chunk shows how to send it."""

    def __init__(self, send: Send, coding: str, minimum: int) -> None:
        self._send = send
        self.coding = coding
        self.minimum = minimum
        self.start: Message | None = None
        self.passing = False  # sent as it is
        self.coder: StreamCoder | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            media = headers.get("content-type", "")
            if (
                message["status"] < 200
                or message["status"] in (204, 304)
                or "content-encoding" in headers
                or media.startswith("text/event-stream")
            ):
                self.passing = True
                await self._send(message)
            else:
                self.start = message
            return
        if message["type"] != "http.response.body" or self.passing:
            await self._send(message)
            return
        assert self.start is not None
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if self.coder is None and not more:  # the whole body at once
            await self._whole(body)
            return
        if self.coder is None:
            self.coder = stream_coder(self.coding)
            headers = MutableHeaders(raw=self.start["headers"])
            del headers["content-length"]
            self._mark(headers)
            await self._send(self.start)
        data = self.coder.chunk(body) if body else b""
        if not more:
            data += self.coder.finish()
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def _whole(self, body: bytes) -> None:
        assert self.start is not None
        headers = MutableHeaders(raw=self.start["headers"])
        headers.add_vary_header("Accept-Encoding")
        if len(body) >= self.minimum:
            if len(body) > IN_THREAD:
                body = await asyncio.to_thread(compress, self.coding, body)
            else:
                body = compress(self.coding, body)
            self._mark(headers)
            headers["content-length"] = str(len(body))
        await self._send(self.start)
        await self._send({"type": "http.response.body", "body": body})

    def _mark(self, headers: MutableHeaders) -> None:
        headers["content-encoding"] = self.coding
        headers.add_vary_header("Accept-Encoding")
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):  # another representation: a weak validator
            headers["etag"] = f"W/{etag}"
