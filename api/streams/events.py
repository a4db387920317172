"""The events every stream shares: a job's status, its end, the store's failure."""

from __future__ import annotations

import redis.exceptions

from api.errors import unavailable
from api.streams.feed import START, sse, status_event
from store.codec import dumps
from store.jobs import Job

BATCH = 500  # records per read
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def end_event(job: Job | None) -> bytes:
    if job is None:
        return sse("end", b'{"status":null,"reason":"deleted"}')
    return sse("end", dumps({"status": job.status}))


def error_event(exc: Exception) -> bytes:
    """The store went away: what the client may know (Redis's own message goes to the log)."""
    return sse("error", dumps(unavailable("job store", exc)))


def job_status(job: Job) -> bytes:
    return status_event(job.status, job.progress, job.iteration)


def read_from(last: int) -> int | None:
    """The ``after`` of a Redis read following iteration ``last`` (None: from the first)."""
    return None if last == START else last
