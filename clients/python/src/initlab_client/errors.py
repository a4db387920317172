"""Every refusal of the API as an exception carrying its status and the server's detail."""

from __future__ import annotations

from typing import Any

import httpx


class InitlabError(Exception):
    """A response the client cannot turn into a result: ``status``, the server's ``detail``,
    and ``retry_after``, the seconds its ``Retry-After`` header says to wait (None without
    one: waiting alone would not help)."""

    def __init__(self, status: int, detail: Any, response: httpx.Response | None = None) -> None:
        self.status, self.detail, self.response = status, detail, response
        header = response.headers.get("Retry-After") if response is not None else None
        self.retry_after: int | None = int(header) if header and header.isdigit() else None
        super().__init__(f"{status}: {detail}")


class ValidationError(InitlabError):
    """422: ``errors`` are ``{loc, msg, type}``; ``locations`` the failing fields' paths."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.detail if isinstance(self.detail, list) else []

    @property
    def locations(self) -> list[tuple[str | int, ...]]:
        return [tuple(error.get("loc", ())) for error in self.errors]


class UnauthorizedError(InitlabError):
    """401: no API key, a wrong one, or a bad share token."""


class ForbiddenError(InitlabError):
    """403: a share token used beyond its job, or share links are off."""


class NotFoundError(InitlabError):
    """404: no such job or sweep (or another key's), or nothing there yet."""


class ConflictError(InitlabError):
    """409: e.g. cancelling a job that has already ended."""


class PayloadTooLargeError(InitlabError):
    """413: the body is over the server's MAX_BODY_BYTES."""


class RateLimitedError(InitlabError):
    """429: a rate or active-jobs limit; ``retry_after`` seconds when waiting helps, else None."""


class StoreFullError(InitlabError):
    """507: the job store has no room for this job (the detail says the limit and how much is
    used); delete jobs, or retry after ``retry_after`` seconds."""


class ServiceUnavailableError(InitlabError):
    """503: the job store or queue is unreachable."""


BY_STATUS: dict[int, type[InitlabError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
    507: StoreFullError,
}


def raise_for(response: httpx.Response) -> None:
    """Raise the error class of a 4xx/5xx response (with its ``detail``); else nothing."""
    if response.is_success:
        return
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    kind = BY_STATUS.get(response.status_code, InitlabError)
    raise kind(response.status_code, detail, response)
