"""Reads of jobs batched per turn of the event loop (store/read_batch.py), on a real Redis:
one pipeline per turn with each job read once, each caller its own Job, nothing kept between
turns (a read never answers with a state older than its request)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from engine.spec import resolve
from store.async_store import AsyncJobStore, connect
from store.sync_store import JobStore

SPEC = resolve({"training": {"iterations": 3}}).model_dump(mode="json")


@pytest.fixture
async def astore(redis_db: str) -> AsyncIterator[AsyncJobStore]:
    client = connect(redis_db, max_connections=4)
    yield AsyncJobStore(client, grace=30)
    await client.aclose()


def hgetall_calls(url: str) -> int:
    stats = redis.Redis.from_url(url).info("commandstats")
    return int(stats.get("cmdstat_hgetall", {}).get("calls", 0))


@pytest.mark.anyio
async def test_reads_asked_in_one_turn_go_as_one_pipeline_reading_each_job_once(
    redis_db: str, astore: AsyncJobStore
) -> None:
    store = JobStore.from_url(redis_db)
    ids = [store.create(SPEC, "h", 1000) for _ in range(3)]
    before = hgetall_calls(redis_db)
    asked = [ids[k % 3] for k in range(60)] + ["0" * 32]  # and one unknown job
    jobs = await asyncio.gather(*(astore.get_batched(job_id) for job_id in asked))
    assert hgetall_calls(redis_db) - before == 4  # 3 jobs and the unknown one, once each
    assert astore._reads.batches == 1
    assert jobs[-1] is None
    assert [job.id for job in jobs[:-1] if job is not None] == asked[:-1]
    first, again = jobs[0], jobs[3]  # the same job, asked twice
    assert first is not None and again is not None
    assert first == again and first is not again  # each caller may change its own


@pytest.mark.anyio
async def test_a_read_asked_after_a_change_sees_it(redis_db: str, astore: AsyncJobStore) -> None:
    store = JobStore.from_url(redis_db)
    job_id = store.create(SPEC, "h", 1000)
    queued = await astore.get_batched(job_id)
    assert queued is not None and queued.status == "queued"
    store.start(job_id, max_deliveries=3)
    # asked before and after a change within one turn: the batch goes after both asked
    early = asyncio.ensure_future(astore.get_batched(job_id))
    await asyncio.sleep(0)
    store.finish(job_id, "succeeded", summary={})
    late, first = await astore.get_batched(job_id), await early
    assert late is not None and first is not None
    assert late.status == first.status == "succeeded"
    assert astore._reads.batches == 2


@pytest.mark.anyio
async def test_every_caller_of_a_failed_batch_gets_the_error(redis_db: str) -> None:
    client = connect("redis://127.0.0.1:1/0")  # nothing listens there
    astore = AsyncJobStore(client, grace=30)
    results = await asyncio.gather(
        *(astore.get_batched("1" * 32) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, redis.exceptions.ConnectionError) for result in results)
    await client.aclose()
