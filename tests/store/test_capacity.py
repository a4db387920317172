"""Storage reservations on a real Redis with a small ``maxmemory`` of its own (store/capacity.py):
the expire_finished policy deletes the oldest ended jobs in the reservation's atomic step,
never an active one, as many as the new jobs need and no more, even for admissions at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from scripts.redis_server import RedisServer
from store.capacity import AsyncCapacity
from store.ids import new_job_id
from store.keys import FINAL, RESERVED_KEY, Keys, owner_index, status_index

MB = 2**20
JOB_BYTES = MB  # each fake job's records
MARGIN = MB
OWNER = "k1"
INDEXES = [status_index(None), *map(status_index, FINAL), owner_index(OWNER)]


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer(maxmemory="24mb") as started:
        yield started


@pytest.fixture
def client(server: RedisServer) -> Iterator[redis.Redis]:
    sync = redis.Redis.from_url(server.url)
    sync.flushdb()
    yield sync
    sync.close()


@pytest.fixture
async def capacity(server: RedisServer) -> AsyncIterator[AsyncCapacity]:
    connection = aioredis.Redis.from_url(server.url)
    yield AsyncCapacity(connection, MARGIN)
    await connection.aclose()


def put_job(client: redis.Redis, status: str, created: float, reserve: int = 0) -> str:
    """A job as the store keeps one: its hash, ~1 MB of records, its index entries."""
    job_id = new_job_id(created)
    keys = Keys(job_id)
    expire_at = int(time.time()) + 3600
    client.hset(keys.job, mapping={"status": status, "owner": OWNER, "expire_at": expire_at})
    client.set(keys.records, bytes(range(256)) * (JOB_BYTES // 256))
    for index in (status_index(None), status_index(status), owner_index(OWNER)):
        client.zadd(index, {job_id: 0})
    if reserve:
        client.hset(RESERVED_KEY, job_id, f"{reserve}:{time.time():.3f}")
    return job_id


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def limit(client: redis.Redis) -> int:
    return int(client.config_get("maxmemory")["maxmemory"]) - MARGIN


def fill(client: redis.Redis, statuses: list[str], headroom: float = 1.5 * MB) -> list[str]:
    """Jobs of these statuses, oldest first, until the store is within ``headroom`` of its
    limit."""
    start, ids = time.time() - 1000, []
    while used(client) + headroom < limit(client):
        status = statuses[len(ids) % len(statuses)]
        ids.append(put_job(client, status, start + len(ids)))
    return ids


@pytest.mark.anyio
async def test_admissions_at_once_delete_the_oldest_ended_jobs_they_need_and_no_more(
    client: redis.Redis, capacity: AsyncCapacity
) -> None:
    ended = fill(client, [str(s) for s in FINAL], headroom=3.5 * MB)
    running = put_job(client, "running", time.time(), reserve=JOB_BYTES)
    queued = put_job(client, "queued", time.time(), reserve=JOB_BYTES)
    new = [new_job_id() for _ in range(8)]
    rooms = await asyncio.gather(*(capacity.reserve([i], [MB // 2], True) for i in new))
    assert all(room.admitted for room in rooms), rooms
    gone = [i for i in ended if not client.exists(Keys(i).job)]
    assert gone == ended[: len(gone)]  # oldest first
    assert sum(room.expired for room in rooms) == len(gone)  # each deleted once
    # within 1.5 MB of the limit with the active jobs, which may write 2 MB more, and 4 MB for
    # the new ones: about 4.5 jobs of ~1 MB must go, and one more than needed at most
    assert 4 <= len(gone) <= 6, len(gone)
    assert used(client) + int(sum(room.wanted for room in rooms)) + 2 * JOB_BYTES <= limit(client)
    for job_id in (running, queued):  # active jobs are never deleted
        assert client.exists(*Keys(job_id).data()) == 2
    for job_id in gone:  # deleted whole, as DELETE does, the cancel flag set
        assert not client.exists(*Keys(job_id).data())
        assert not any(client.zscore(index, job_id) is not None for index in INDEXES)
        assert client.exists(Keys(job_id).cancel)
    assert set(client.hkeys(RESERVED_KEY)) == {i.encode() for i in [running, queued, *new]}


@pytest.mark.anyio
async def test_only_active_jobs_left_is_a_refusal_and_stale_entries_are_dropped(
    client: redis.Redis, capacity: AsyncCapacity
) -> None:
    active = fill(client, ["running", "queued"])
    stale = new_job_id(time.time() - 5000)  # an ended job's entry whose hash expired
    client.zadd(status_index("succeeded"), {stale: 0})
    room = await capacity.reserve([new_job_id()], [4 * MB], True)
    assert not room.admitted and room.expired == 0
    assert client.zscore(status_index("succeeded"), stale) is None
    assert all(client.exists(Keys(job_id).records) for job_id in active)


@pytest.mark.anyio
async def test_the_refuse_policy_deletes_nothing(
    client: redis.Redis, capacity: AsyncCapacity
) -> None:
    ended = fill(client, ["succeeded"])
    room = await capacity.reserve([new_job_id()], [4 * MB])
    assert not room.admitted and room.expired == 0
    assert all(client.exists(Keys(job_id).records) for job_id in ended)
    assert room.used + room.reserved + room.wanted > room.maxmemory - MARGIN
