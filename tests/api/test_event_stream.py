"""Shared feeds of GET /v1/jobs/{id}/events (api/streams/), on a real Redis and jobs written by
hand: what a viewer gets, that viewers share one read, the live window, compressed copies."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import brotli
import pytest
import redis.exceptions
import zstandard

from api.encodings import stream_coder
from api.streams.hub import Hub
from api.streams.viewer import viewer_body
from engine.spec import resolve
from store import logs
from store.async_store import AsyncJobStore, connect
from store.codec import dumps, loads
from store.jobs import Job
from store.sync_store import JobStore

SPEC = resolve({"training": {"iterations": 3}}).model_dump(mode="json")
TTL = 1000
BLOCK_MS = 50
LAG = 1 << 20


class CountingStore(AsyncJobStore):
    """The store, counting its record reads (XREADs)."""

    reads = 0

    async def read_many_after(
        self, starts: dict[str, int | None], block_ms: int | None = None, count: int = 500
    ) -> dict[str, list[tuple[int, bytes]]]:
        self.reads += 1
        return await super().read_many_after(starts, block_ms, count)


@pytest.fixture
async def astore(redis_db: str) -> AsyncIterator[CountingStore]:
    client = connect(redis_db, max_connections=4)
    yield CountingStore(client, grace=30)
    await client.aclose()


def hub_of(store: AsyncJobStore, live_mb: float = 8.0) -> Hub:
    return Hub(store, block_ms=BLOCK_MS, keepalive=0.2, cache_mb=8.0, live_mb=live_mb)


def running(store: JobStore) -> Job:
    job = store.start(store.create(SPEC, "h", TTL), max_deliveries=3)
    assert job is not None
    return job


def append(store: JobStore, job: Job, iterations: range, pad: int = 0) -> None:
    records = [(i, dumps({"iteration": i, "pad": "x" * pad})) for i in iterations]
    store.append(job, records, [])


async def read(astore: AsyncJobStore, job_id: str) -> Job:
    job = await astore.get(job_id)
    assert job is not None
    return job


def events(body: bytes) -> list[tuple[str, str | None, object]]:
    """(event, id, data) of each event of a stream; pings left out."""
    out = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], fields.get("id"), loads(fields["data"])))
    return out


async def body_of(hub: Hub, job: Job, after: int | None = None, coding: str | None = None) -> bytes:
    coder = stream_coder(coding) if coding else None
    return b"".join([chunk async for chunk in viewer_body(hub, job, after, LAG, coding, coder)])


@pytest.mark.anyio
async def test_viewers_of_a_finished_job_share_one_read(
    redis_db: str, astore: CountingStore
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    append(store, job, range(3))
    store.finish(job.id, "succeeded", summary={"final_cost": 0.25})
    hub, finished = hub_of(astore), await read(astore, job.id)
    bodies = await asyncio.gather(*(body_of(hub, finished) for _ in range(5)))
    got = events(bodies[0])
    assert [(e, i) for e, i, _ in got] == [("status", None)] + [
        ("record", str(i)) for i in range(3)
    ] + [("end", None)]
    assert got[-1][2] == {"status": "succeeded"}
    assert all(body == bodies[0] for body in bodies)
    assert astore.reads == 1  # one read of the records, for five viewers
    resumed = events(await body_of(hub, finished, after=1))
    assert [(e, i) for e, i, _ in resumed] == [("status", None), ("record", "2"), ("end", None)]
    assert astore.reads == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "coding, decode",
    [
        ("gzip", gzip.decompress),
        ("br", brotli.decompress),
        ("zstd", lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)),
    ],
)
async def test_a_compressed_stream_decodes_to_the_plain_one(
    redis_db: str, astore: CountingStore, coding: str, decode: object
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    append(store, job, range(50), pad=2000)
    hub = hub_of(astore)
    live = await read(astore, job.id)
    live_task = asyncio.create_task(body_of(hub, live, coding=coding))  # flushed chunk by chunk
    await asyncio.sleep(0.2)
    store.finish(job.id, "succeeded", summary={})
    live_events = events(decode(await live_task))  # type: ignore[operator]
    assert [i for e, i, _ in live_events if e == "record"] == [str(i) for i in range(50)]
    finished = await read(astore, job.id)
    assert job.id in hub.finished  # the followed feed, kept once the job ended
    plain = await body_of(hub, finished)
    shared = await body_of(hub, finished, coding=coding)  # the one compressed copy
    assert decode(shared) == plain  # type: ignore[operator]
    # kept as a replay reads it: the final status, the records, the end
    assert events(plain)[0] == (
        "status",
        None,
        {"status": "succeeded", "progress": 0.0, "iteration": None},
    )
    assert events(plain)[1:] == [e for e in live_events if e[0] != "status"]
    assert len(shared) < len(plain) / 5


@pytest.mark.anyio
async def test_a_live_feed_is_followed_once_and_ends_when_the_job_is_deleted(
    redis_db: str, astore: CountingStore
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    hub = hub_of(astore)
    live = await read(astore, job.id)
    viewers = [asyncio.create_task(body_of(hub, live)) for _ in range(4)]
    await asyncio.sleep(0.2)
    assert len(hub.live) == 1
    append(store, job, range(2))
    await asyncio.sleep(0.2)
    reads = astore.reads
    await asyncio.sleep(0.5)
    assert astore.reads - reads <= 0.5 / (BLOCK_MS / 1000) + 2  # one XREAD loop, not four
    await astore.delete(live)
    for body in await asyncio.gather(*viewers):
        got = events(body)
        assert [i for e, i, _ in got if e == "record"] == ["0", "1"]
        assert got[-1] == ("end", None, {"status": None, "reason": "deleted"})
    assert not hub.live


@pytest.mark.anyio
async def test_every_live_job_of_a_process_is_followed_by_one_read_loop(
    redis_db: str, astore: CountingStore
) -> None:
    store = JobStore.from_url(redis_db)
    jobs = [running(store) for _ in range(12)]  # three times the pool of ``astore``
    hub = hub_of(astore)
    viewers = []
    for job in jobs:
        live = await read(astore, job.id)
        viewers += [asyncio.create_task(body_of(hub, live)) for _ in range(2)]
    await asyncio.sleep(0.2)
    assert len(hub.live) == len(jobs)
    reads = astore.reads
    await asyncio.sleep(0.5)
    assert astore.reads - reads <= 0.5 / (BLOCK_MS / 1000) + 2  # one XREAD for all twelve
    for k, job in enumerate(jobs):
        append(store, job, range(k + 1))
        store.finish(job.id, "succeeded", summary={})
    for k, body in enumerate(await asyncio.gather(*viewers)):
        got = events(body)
        assert [i for e, i, _ in got if e == "record"] == [str(i) for i in range(k // 2 + 1)]
        assert got[-1] == ("end", None, {"status": "succeeded"})
    assert not hub.live


class FailingStore(CountingStore):
    """The store, down from the moment ``down`` is set."""

    down = False

    async def get_many(self, job_ids: list[str]) -> list[Job | None]:
        if self.down:
            raise redis.exceptions.ConnectionError("connection refused")
        return await super().get_many(job_ids)


@pytest.mark.anyio
async def test_each_viewer_of_a_failed_feed_gets_an_error_with_its_own_request_id(
    redis_db: str,
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    client = connect(redis_db, max_connections=4)
    astore = FailingStore(client, grace=30)
    hub = hub_of(astore)
    live = await read(astore, job.id)

    async def viewer(request_id: str) -> bytes:
        logs.REQUEST_ID.set(request_id)  # as the request's middleware does, in its own task
        return await body_of(hub, live)

    viewers = [asyncio.create_task(viewer(f"request-{k}")) for k in range(3)]
    await asyncio.sleep(0.2)
    astore.down = True
    for k, body in enumerate(await asyncio.gather(*viewers)):
        event, _, data = events(body)[-1]
        assert event == "error"
        assert data["request_id"] == f"request-{k}"  # type: ignore[index]
    assert not hub.live
    await client.aclose()


@pytest.mark.anyio
async def test_a_viewer_behind_the_live_window_catches_up_from_redis(
    redis_db: str, astore: CountingStore
) -> None:
    store = JobStore.from_url(redis_db)
    job = running(store)
    hub = hub_of(astore, live_mb=0.05)  # about 20 records of 2 kB kept
    live = await read(astore, job.id)
    first = asyncio.create_task(body_of(hub, live))
    append(store, job, range(100), pad=2000)
    await asyncio.sleep(0.3)
    feed = hub.live[job.id]
    assert feed.dropped_through > 50
    late = asyncio.create_task(body_of(hub, live, after=10))
    await asyncio.sleep(0.2)
    store.finish(job.id, "succeeded", summary={})
    got = events(await late)
    assert [i for e, i, _ in got if e == "record"] == [str(i) for i in range(11, 100)]
    assert got[-1][0] == "end"
    assert [i for e, i, _ in events(await first) if e == "record"] == [str(i) for i in range(100)]
