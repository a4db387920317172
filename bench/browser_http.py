"""HTTP as a browser's page does it, for the benches' simulated users (bench/classroom.py).

The API closes a connection idle for ``HTTP_KEEPALIVE_SECONDS`` (uvicorn's keep-alive
timeout). A client that keeps idle connections as long (httpx's default is 5 s, the server's
too) may send a request on one at the instant the server closes it: the request meets a reset
and httpx raises a ``ReadError`` with no message. The users here drop idle connections after
half the server's time, and a GET whose connection closed under it before any response is
sent once more, as a browser resends a request whose reused connection closed; a POST never is.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from store.settings import get_settings

# idle connections go well before the server's keep-alive timeout closes them under a request
LIMITS = httpx.Limits(keepalive_expiry=get_settings().http_keepalive_seconds / 2)
RESENT = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)  # closed under it


@dataclass
class Resends:
    """How many GETs were sent again."""

    count: int = 0


@contextlib.asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, path: str, headers: dict[str, str] | None, resend: Resends
) -> AsyncIterator[httpx.Response]:
    """A streamed GET, sent once more if its connection closed before any response."""
    try:
        response = await http.send(http.build_request("GET", path, headers=headers), stream=True)
    except RESENT:
        resend.count += 1
        response = await http.send(http.build_request("GET", path, headers=headers), stream=True)
    try:
        yield response
    finally:
        await response.aclose()


async def get(http: httpx.AsyncClient, path: str, resend: Resends) -> httpx.Response:
    """A GET, sent once more if its connection closed before any response."""
    try:
        return await http.get(path)
    except RESENT:
        resend.count += 1
        return await http.get(path)


def failed(exc: httpx.HTTPError) -> str:
    """A transport error with the request it broke."""
    try:
        request = f"{exc.request.method} {exc.request.url.path}"
    except RuntimeError:  # no request attached
        request = "?"
    return f"{type(exc).__name__} on {request}: {exc}"
