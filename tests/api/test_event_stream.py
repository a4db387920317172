"""The event generator of GET /v1/jobs/{id}/events, on a real Redis and jobs written by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sse_starlette import ServerSentEvent

from api.routes.events import job_events
from engine.spec import resolve
from store.async_store import AsyncJobStore, connect
from store.codec import dumps, loads
from store.jobs import Job
from store.sync_store import JobStore

SPEC = resolve({"training": {"iterations": 3}}).model_dump(mode="json")
TTL = 1000
BLOCK_MS = 50


@pytest.fixture
async def astore(redis_db: str) -> AsyncIterator[AsyncJobStore]:
    client = connect(redis_db)
    yield AsyncJobStore(client, grace=30)
    await client.aclose()


class CountingStore(AsyncJobStore):
    """The store, counting the job reads the stream makes."""

    reads = 0

    async def get(self, job_id: str) -> Job | None:
        self.reads += 1
        return await super().get(job_id)


def running(store: JobStore) -> Job:
    job = store.start(store.create(SPEC, "h", TTL), max_deliveries=3)
    assert job is not None
    return job


def append(store: JobStore, job: Job, iterations: range) -> None:
    store.append(job, [(i, dumps({"iteration": i, "cost": 1 / (i + 1)})) for i in iterations], [])


async def finished(store: JobStore, reader: AsyncJobStore) -> Job:
    """A job that wrote iterations 0, 1, 2 and succeeded, as ``reader`` reads it."""
    job = running(store)
    append(store, job, range(3))
    store.finish(job.id, "succeeded", summary={"final_cost": 0.25})
    read = await reader.get(job.id)
    assert read is not None
    return read


def named(event: ServerSentEvent) -> tuple[str | None, object]:
    return event.event, loads(event.data)


@pytest.mark.anyio
async def test_a_finished_job_streams_without_reading_the_job_again(
    redis_db: str, astore: AsyncJobStore
) -> None:
    counting = CountingStore(astore.redis, grace=30)
    job = await finished(JobStore.from_url(redis_db), counting)
    assert counting.reads == 1
    events = [event async for event in job_events(counting, job, None, BLOCK_MS)]
    assert [e.event for e in events] == ["status", "record", "record", "record", "end"]
    assert [e.id for e in events if e.event == "record"] == ["0", "1", "2"]
    assert named(events[-1]) == ("end", {"status": "succeeded"})
    assert counting.reads == 1  # the route's read was the only one


@pytest.mark.anyio
async def test_a_live_stream_follows_the_job_and_ends_when_it_is_deleted(
    redis_db: str, astore: AsyncJobStore
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    stream = job_events(astore, job, None, BLOCK_MS)
    assert named(await anext(stream)) == (
        "status",
        {"status": "running", "progress": 0.0, "iteration": None},
    )
    append(store, job, range(2))
    assert [(await anext(stream)).id for _ in range(2)] == ["0", "1"]
    await astore.delete(job)
    assert named(await anext(stream)) == ("end", {"status": None, "reason": "deleted"})
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


@pytest.mark.anyio
async def test_a_resumed_stream_starts_after_the_last_event_id(
    redis_db: str, astore: AsyncJobStore
) -> None:
    job = await finished(JobStore.from_url(redis_db), astore)
    events = [event async for event in job_events(astore, job, 1, BLOCK_MS)]
    assert [(e.event, e.id) for e in events] == [("status", None), ("record", "2"), ("end", None)]
