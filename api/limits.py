"""Limits, held in Redis so they hold across API processes; each refusal names its limit.

- ``SUBMISSIONS_PER_MINUTE``: jobs submitted per API key (per client address when auth is
  off), a sweep's each counted, in a sliding window: 429 with ``Retry-After``;
- ``MAX_ACTIVE_JOBS_PER_KEY``: queued + running jobs per key (per address): 429;
- ``MAX_BODY_BYTES``: a request body, from ``Content-Length`` and while it is read: 413;
- the work budget of one job is the spec's (engine/spec.py): 422.

``MAX_ACTIVE_JOBS`` caps the whole service's queued + running jobs (429); ``Quota.reserve``
takes a slot of both active-job limits before a job is made, each in one atomic step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Annotated, Any

import redis.exceptions
from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Principal
from api.deps import CallerDep, SettingsDep
from api.errors import ORJSONResponse
from api.models import Message as MessageModel
from store.async_limits import AsyncLimits
from store.capacity import AsyncCapacity
from store.ids import new_job_id
from store.settings import Settings

TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": MessageModel, "description": "the body is over MAX_BODY_BYTES"}
}
BUSY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": MessageModel,
        "headers": {
            "Retry-After": {
                "description": "seconds until a submission fits the rate limit (absent for an "
                "active-jobs limit)",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "description": "the rate limit (see Retry-After) or an active-jobs limit (the caller's "
        "or the service's; retry once a job has ended)",
    },
    507: {
        "model": MessageModel,
        "description": "the job store is full (Redis's maxmemory, less a margin): the detail "
        "names the numbers; see Retry-After",
    },
}


def _per(caller: Principal) -> str:
    return "per key" if caller.owner else "per client address"


async def limit_submissions(request: Request, caller: CallerDep, settings: SettingsDep) -> None:
    """429 with ``Retry-After`` when the caller made its submissions of the last minute."""
    await _count_submissions(request.app.state.limits, settings, caller, 1)


async def _count_submissions(
    limits: AsyncLimits, settings: Settings, caller: Principal, n: int
) -> None:
    """Count ``n`` job submissions of the caller, or a 429 with ``Retry-After``."""
    limit = settings.submissions_per_minute
    if not limit or n <= 0:
        return
    decision = await limits.hit(caller.subject, limit, n=n)
    if not decision.admitted:
        reason = (
            f"rate limit: {limit} submissions per minute {_per(caller)}; "
            f"retry in {decision.retry_after} s"
        )
        raise HTTPException(429, reason, {"Retry-After": str(decision.retry_after)})


class Quota:
    """Slots for new active jobs, the caller's and the service's, each taken in one atomic
    step before the jobs are created: ``reserve``, then create the jobs with the ids it
    returns (storing a job settles its id) and ``release`` the ones no job was made with."""

    def __init__(
        self,
        limits: AsyncLimits,
        settings: Settings,
        caller: Principal,
        capacity: AsyncCapacity | None = None,
    ) -> None:
        self.limits, self.settings, self.caller = limits, settings, caller
        self.capacity = capacity

    @property
    def owner(self) -> str:
        return self.caller.owner

    async def count_more(self, n: int) -> None:
        """Count ``n`` more job submissions against the rate limit (a sweep's jobs beyond the
        one its request counted), or a 429."""
        await _count_submissions(self.limits, self.settings, self.caller, n)

    async def reserve(self, n: int, storage: Sequence[int] = ()) -> list[str]:
        """Ids for ``n`` new jobs within the caller's and the service's limits, or a 429;
        with ``storage`` (each job's estimated bytes), room in the store too, or a 507."""
        ids = await self._reserve_own(n)
        limit = self.settings.max_active_jobs
        admitted, active = await self.limits.admit_service(ids, limit)
        if not admitted:
            await self.release(ids)
            reason = (
                f"service limit: {limit} jobs at most may be queued or running ({active} are); "
                "retry later"
            )
            raise HTTPException(429, reason)
        if storage:
            try:
                await self.reserve_storage(ids, storage)
            except HTTPException:
                await self.release(ids)
                raise
        return ids

    async def reserve_storage(self, job_ids: Sequence[str], sizes: Sequence[int]) -> None:
        """Room in the store for every job or none (store/capacity.py), or a 507 naming the
        limit, with ``Retry-After``. With ``STORE_FULL_POLICY=expire_finished``, the oldest
        jobs that ended are deleted first, as many as it takes (never a queued or running
        one), in the reservation's own atomic step: admissions at once neither refuse while
        ended jobs are left nor delete more than they need."""
        if self.capacity is None:
            return
        expire = self.settings.store_full_policy == "expire_finished"
        room = await self.capacity.reserve(job_ids, sizes, expire_finished=expire)
        if room.admitted:
            return
        retry = self.settings.store_retry_after_seconds
        mb = 1e6
        limit = room.maxmemory - self.capacity.margin
        reason = (
            f"store full: {len(job_ids)} job(s) need about {room.wanted / mb:.1f} MB; Redis "
            f"uses {room.used / mb:.1f} MB and queued or running jobs may still write "
            f"{room.reserved / mb:.1f} MB, of a limit of {limit / mb:.1f} MB (maxmemory "
            f"{room.maxmemory / mb:.1f} MB less STORE_MARGIN_BYTES {self.capacity.margin / mb:.1f}"
            f" MB); delete jobs or retry in {retry} s"
        )
        raise HTTPException(507, reason, {"Retry-After": str(retry)})

    async def _reserve_own(self, n: int) -> list[str]:
        limit = self.settings.max_active_jobs_per_key
        if not limit:
            return [new_job_id() for _ in range(n)]
        ttl = self.settings.job_ttl_seconds
        admission = await self.limits.admit(self.caller.subject, limit, n, ttl)
        if not admission.admitted:
            more = f"{n} more would make {admission.active + n}" if n > 1 else "that many are"
            reason = (
                f"active jobs limit: {limit} queued or running jobs {_per(self.caller)}; "
                f"{more} now; wait for one to end or cancel one"
            )
            raise HTTPException(429, reason)
        return list(admission.job_ids)

    async def release(self, job_ids: list[str]) -> None:
        """Free reserved ids no job was created with (best effort: they free themselves)."""
        with contextlib.suppress(redis.exceptions.RedisError):
            if self.capacity is not None:
                await self.capacity.release(job_ids)
            await self.limits.unpend(job_ids)
            if self.settings.max_active_jobs_per_key:
                await self.limits.release(self.caller.subject, job_ids)


async def get_quota(request: Request, caller: CallerDep, settings: SettingsDep) -> Quota:
    return Quota(request.app.state.limits, settings, caller, request.app.state.capacity)


QuotaDep = Annotated[Quota, Depends(get_quota)]
SubmissionLimit = Depends(limit_submissions)


def accepted(description: str) -> dict[str, Any]:
    """The documentation of a 202 whose ``Location`` is the job's or sweep's URL."""
    location = {"description": "its URL", "schema": {"type": "string"}}
    return {"description": description, "headers": {"Location": location}}


# what POST /v1/jobs and POST /v1/sweeps share: the submission rate limit and its refusals
SUBMISSION: dict[str, Any] = {
    "status_code": 202,
    "responses": {
        202: accepted("accepted: it runs on a worker"),
        **TOO_LARGE,
        **BUSY,
        503: {"model": MessageModel},
    },
    "dependencies": [SubmissionLimit],
}


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over ``limit`` bytes, declared or streamed.

    (FastAPI's own ``max_body_size`` answers a plain "Content Too Large" that names no limit.)
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _detail(self, size: str) -> str:
        return f"body too large: {size}; the limit is {self.limit} bytes (MAX_BODY_BYTES)"

    def _refusal(self, size: str) -> ORJSONResponse:
        return ORJSONResponse({"detail": self._detail(size)}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refusal(f"Content-Length {int(declared)}")(scope, receive, send)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:  # FastAPI re-raises it to its handler: a JSON 413
                    raise HTTPException(413, self._detail(f"{received}+ bytes sent"))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except HTTPException as exc:  # raised by `counted` where no handler turned it into 413
            if exc.status_code != 413 or started:
                raise
            await self._refusal(f"{received}+ bytes sent")(scope, receive, send)
