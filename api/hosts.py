"""The ``Host`` header is the client's to write: it is checked, and never echoed in redirects.

- ``TRUSTED_HOSTS`` (default ``*``): names the API answers to; another ``Host`` is a 400
  (Starlette's ``TrustedHostMiddleware``). Set it when the API is exposed.
- A redirect to the API itself (the trailing-slash 307) gets a relative ``Location``
  (``/v1/jobs``), so a forged ``Host: evil.example`` never comes back as a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.settings import Settings


class RelativeRedirects:
    """Pure ASGI middleware: a ``Location`` that points at the request's own ``Host`` loses
    its scheme and host."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()

        async def relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = urlsplit(headers.get("location", ""))
                if location.netloc and location.netloc.lower() == host:
                    path = location.path or "/"
                    headers["location"] = f"{path}?{location.query}" if location.query else path
            await send(message)

        await self.app(scope, receive, relative)


def add_host_checks(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RelativeRedirects)
    if settings.trusted_hosts != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
