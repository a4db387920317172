"""The job store against a real Redis: key layout, TTLs, idempotent writes, indexes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis

from engine.spec import resolve
from store.async_store import AsyncJobStore, connect
from store.codec import dumps, loads
from store.ids import new_job_id
from store.keys import STATUSES, Keys, status_index
from store.packing import entry_json
from store.sync_store import JobStore
from worker.reaper import Reaper

SPEC = resolve({"training": {"iterations": 20}}).model_dump(mode="json")
TTL = 1000


@pytest.fixture
def store(redis_db: str) -> JobStore:
    return JobStore.from_url(redis_db)


@pytest.fixture
async def astore(redis_db: str) -> AsyncIterator[AsyncJobStore]:
    client = connect(redis_db)
    yield AsyncJobStore(client, grace=30)
    await client.aclose()


def running_job(store: JobStore, spec_hash: str = "h") -> str:
    job_id = store.create(SPEC, spec_hash, TTL)
    assert store.start(job_id, max_deliveries=3) is not None
    return job_id


def records(store: JobStore, job_id: str) -> list[tuple[str, dict]]:
    return [(i.decode(), loads(entry_json(f))) for i, f in store.redis.xrange(Keys(job_id).records)]


def indexes_of(client: redis.Redis, job_id: str) -> set[str]:
    return {s for s in STATUSES if client.zscore(status_index(s), job_id) is not None}


@pytest.mark.anyio
async def test_every_key_of_a_job_expires(store: JobStore, astore: AsyncJobStore) -> None:
    job_id = running_job(store)
    job = store.get(job_id)
    assert job is not None
    store.append(job, [(0, b"{}")], [(0, b"{}")], dataset=b"{}")
    await astore.cancel(job_id, job.expire_at)
    keys = [k.decode() for k in store.redis.scan_iter(match=f"*{job_id}*")]
    assert sorted(keys) == sorted([*Keys(job_id).data(), Keys(job_id).cancel])
    for key in [*keys, "initlab:spec:h"]:
        assert 0 < store.redis.ttl(key) <= TTL + 1, key


def test_a_record_written_twice_is_stored_once(store: JobStore) -> None:
    job_id = running_job(store)
    job = store.get(job_id)
    assert job is not None
    store.append(job, [(0, dumps({"v": "a"})), (1, dumps({"v": "a"}))], [])
    store.append(job, [(1, dumps({"v": "b"})), (2, dumps({"v": "b"}))], [])
    assert records(store, job_id) == [("0-1", {"v": "a"}), ("1-1", {"v": "a"}), ("2-1", {"v": "b"})]


def test_nothing_is_written_once_a_job_is_not_running(store: JobStore) -> None:
    job_id = running_job(store)
    job = store.get(job_id)
    assert job is not None and store.finish(job_id, "succeeded")
    assert store.append(job, [(0, b"{}")], []) == "succeeded"
    store.redis.delete(Keys(job_id).job)
    assert store.append(job, [(0, b"{}")], []) is None
    assert store.tick(job_id, heartbeat=True) == (None, False)
    assert not store.redis.exists(Keys(job_id).records, Keys(job_id).job)


def test_a_transition_is_a_compare_and_set_that_moves_the_index(store: JobStore) -> None:
    job_id = store.create(SPEC, "h", TTL)
    assert indexes_of(store.redis, job_id) == {"queued"}
    assert store.transition(job_id, "running", ("queued",)) == (True, "queued")
    assert store.transition(job_id, "running", ("queued",)) == (False, "running")
    assert indexes_of(store.redis, job_id) == {"running"}
    assert store.finish(job_id, "cancelled")
    assert indexes_of(store.redis, job_id) == {"cancelled"}
    assert store.transition("0" * 32, "running", ("queued",)) == (False, None)


@pytest.mark.anyio
async def test_listing_is_newest_first_and_pages_with_a_cursor(
    store: JobStore, astore: AsyncJobStore
) -> None:
    ids = []
    for _ in range(5):
        ids.append(store.create(SPEC, "h", TTL))
        time.sleep(0.002)  # ids sort by creation millisecond
    seen, cursor = [], None
    while True:
        page, count, cursor = await astore.list_jobs(None, 2, cursor)
        assert count == 5 and len(page) <= 2
        seen += [job.id for job in page]
        if cursor is None:
            break
    assert seen == ids[::-1]


@pytest.mark.anyio
async def test_listing_filters_by_status(store: JobStore, astore: AsyncJobStore) -> None:
    queued = store.create(SPEC, "h", TTL)
    running = running_job(store)
    assert [j.id for j in (await astore.list_jobs("queued", 10, None))[0]] == [queued]
    assert [j.id for j in (await astore.list_jobs("running", 10, None))[0]] == [running]
    assert (await astore.list_jobs("failed", 10, None))[:2] == ([], 0)


@pytest.mark.anyio
async def test_listing_drops_ids_whose_job_expired(store: JobStore, astore: AsyncJobStore) -> None:
    kept, expired = store.create(SPEC, "h", TTL), store.create(SPEC, "h", TTL)
    store.redis.delete(Keys(expired).job)
    page, count, _ = await astore.list_jobs(None, 10, None)
    assert [job.id for job in page] == [kept] and count == 1
    assert indexes_of(store.redis, expired) == set()


def test_ids_older_than_the_ttl_are_trimmed_on_create(store: JobStore) -> None:
    old = new_job_id(time.time() - TTL - 60)
    store.redis.zadd(status_index(None), {old: 0})
    store.redis.zadd(status_index("queued"), {old: 0})
    store.create(SPEC, "h", TTL)
    assert store.redis.zscore(status_index(None), old) is None
    assert indexes_of(store.redis, old) == set()


@pytest.mark.anyio
async def test_the_reaper_marks_a_silent_running_job_failed_and_reads_never_do(
    store: JobStore, astore: AsyncJobStore
) -> None:
    silent, alive = running_job(store), running_job(store)
    time.sleep(0.5)
    store.tick(alive, heartbeat=True)
    assert (await astore.get(silent)).status == "running"  # type: ignore[union-attr]
    assert Reaper(store.redis, grace=0.3).reap() == [silent]
    job = await astore.get(silent)
    assert job is not None and job.status == "failed"
    assert job.error is not None and job.error["type"] == "WorkerLost"
    assert indexes_of(store.redis, silent) == {"failed"}
    assert (await astore.get(alive)).status == "running"  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_records_by_range_every_and_page(store: JobStore, astore: AsyncJobStore) -> None:
    job_id = running_job(store)
    job = store.get(job_id)
    assert job is not None
    store.append(job, [(i, dumps({"iteration": i})) for i in range(10)], [])

    async def page(start: int, stop: int | None, every: int, limit: int) -> tuple[list, int | None]:
        status, raw, next_start = await astore.records(job_id, start, stop, every, limit)
        assert status == "running"
        return [loads(r)["iteration"] for r in raw], next_start

    assert await page(0, None, 3, 2) == ([0, 3], 6)
    assert await page(6, None, 3, 2) == ([6, 9], None)
    assert await page(2, 4, 1, 100) == ([2, 3, 4], None)
    assert await page(0, None, 1, 10) == (list(range(10)), None)
    assert await astore.read_after(job_id, 7, None) == [
        (8, b'{"iteration":8}'),
        (9, b'{"iteration":9}'),
    ]


@pytest.mark.anyio
async def test_cancel_ends_a_queued_job_and_flags_a_running_one(
    store: JobStore, astore: AsyncJobStore
) -> None:
    queued, running = store.create(SPEC, "h", TTL), running_job(store)
    assert await astore.cancel(queued, 0) == "queued"
    assert store.get(queued).status == "cancelled"  # type: ignore[union-attr]
    assert await astore.cancel(running, int(time.time()) + 60) == "running"
    assert store.tick(running, heartbeat=False) == ("running", True)
    assert await astore.cancel(queued, 0) == "cancelled"


@pytest.mark.anyio
async def test_delete_removes_all_but_the_cancel_flag(
    store: JobStore, astore: AsyncJobStore
) -> None:
    job_id = running_job(store)
    job = store.get(job_id)
    assert job is not None
    store.append(job, [(0, b"{}")], [(0, b"{}")], dataset=b"{}")
    await astore.delete(job)
    assert [k.decode() for k in store.redis.scan_iter(match=f"*{job_id}*")] == [Keys(job_id).cancel]
    assert all(
        store.redis.zscore(name, job_id) is None
        for name in [status_index(None), *map(status_index, STATUSES)]
    )


@pytest.mark.anyio
async def test_reuse_copies_a_succeeded_job_into_keys_of_its_own(
    store: JobStore, astore: AsyncJobStore
) -> None:
    job_id = running_job(store, "same")
    job = store.get(job_id)
    assert job is not None
    store.append(job, [(0, dumps({"iteration": 0}))], [(0, b"{}")], dataset=b"{}")
    assert await astore.reuse("same", TTL) is None  # still running: nothing to copy
    assert await astore.reuse("other", TTL) is None
    store.finish(job_id, "succeeded", summary={"final_cost": 0.1})
    copy = await astore.reuse("same", TTL)
    assert copy is not None and copy.id != job_id and copy.reused_from == job_id
    assert copy.status == "succeeded" and copy.summary == {"final_cost": 0.1}
    await astore.delete(job)
    keys = sorted(k.decode() for k in store.redis.scan_iter(match=f"*{copy.id}*"))
    assert keys == sorted(Keys(copy.id).data())
    assert all(0 < store.redis.ttl(key) <= TTL + 1 for key in keys)
    assert records(store, copy.id) == [("0-1", {"iteration": 0})]
    assert indexes_of(store.redis, copy.id) == {"succeeded"}
    second = await astore.reuse("same", TTL)  # the spec now names the copy
    assert second is not None and second.reused_from == job_id
