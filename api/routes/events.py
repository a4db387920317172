"""Live records as Server-Sent Events, resumable from ``Last-Event-ID``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import redis.exceptions
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import AUTH_RESPONSES
from api.deps import JobDep, SettingsDep, StoreDep
from api.errors import unavailable
from api.numbers import Count
from engine.spec import MAX_ITERATIONS
from store.async_store import AsyncJobStore
from store.codec import dumps
from store.jobs import Job

router = APIRouter(prefix="/v1/jobs", tags=["events"], responses=AUTH_RESPONSES)

BATCH = 500  # records per read

STREAM_DOC = """\
`text/event-stream` of

- `record`: one record (JSON, README "Records"), its `id` the iteration, in order;
- `status`: `{status, progress, iteration}` when the job's status changes (first event too);
- `end`: `{status}` once the job has ended and every record was sent; the stream closes;
- `error`: `{detail}` if the job store became unreachable; reconnect to resume.

Reconnecting with `Last-Event-ID: N` (browsers do it) or `?last_event_id=N` resumes after
iteration N with no gap and no repeat."""


def _status(job: Job) -> ServerSentEvent:
    data = {"status": job.status, "progress": job.progress, "iteration": job.iteration}
    return ServerSentEvent(event="status", data=dumps(data).decode())


async def job_events(
    store: AsyncJobStore, job: Job, after: int | None, block_ms: int
) -> AsyncIterator[ServerSentEvent]:
    """Status, then records as they are written, until the job ends and all are sent.

    ``job`` is the job as the route just read it; every later turn reads it anew.
    """
    current: Job | None = job
    sent_status = None
    try:
        while current is not None:
            if current.status != sent_status:
                yield _status(current)
                sent_status = current.status
            # a final status is read before the records: every record is written by then
            wait = None if current.final else block_ms
            entries = await store.read_after(job.id, after, wait, BATCH)
            for iteration, raw in entries:
                yield ServerSentEvent(event="record", id=str(iteration), data=raw.decode())
                after = iteration
            if current.final and len(entries) < BATCH:
                yield ServerSentEvent(event="end", data=dumps({"status": current.status}).decode())
                return
            current = await store.get(job.id)
        yield ServerSentEvent(event="end", data='{"status":null,"reason":"deleted"}')
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        detail = dumps(unavailable("job store", exc)).decode()
        yield ServerSentEvent(event="error", data=detail)


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": STREAM_DOC},
        404: {"description": "no such job"},
    },
)
async def stream_events(
    job: JobDep,
    store: StoreDep,
    settings: SettingsDep,
    last_event_id_header: Annotated[
        Count | None,
        Header(alias="Last-Event-ID", ge=0, le=MAX_ITERATIONS, description="resume after it"),
    ] = None,
    last_event_id: Annotated[
        Count | None,
        Query(
            ge=0, le=MAX_ITERATIONS, description="as the header, for clients without EventSource"
        ),
    ] = None,
) -> EventSourceResponse:
    """Live records of a job as Server-Sent Events."""
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    return EventSourceResponse(
        job_events(store, job, after, settings.sse_block_ms),
        ping=settings.sse_keepalive_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
