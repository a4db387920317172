"""The job store as the API sees it: redis.asyncio, no job state kept in the process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from store import lua
from store.codec import now_iso
from store.ids import new_job_id
from store.jobs import (
    Job,
    delete_call,
    queue_create,
    queue_trim,
    reuse_call,
    transition_call,
    transition_reply,
)
from store.keys import (
    RESERVED_KEY,
    Keys,
    all_indexes,
    iteration_of,
    owner_index,
    pushed_key,
    spec_key,
    status_index,
    stream_id,
)
from store.packing import entry_json, is_snapshot_field, snapshot_chunks, snapshot_json
from store.read_batch import JobReads

CHUNK = 1000  # stream entries per XRANGE when downsampling
TRIM_SECONDS = 60.0


def connect(
    url: str, max_connections: int | None = None, pool_timeout: float = 10.0
) -> aioredis.Redis:
    """A client that fails fast when Redis is down (the API answers 503 at once).

    With ``max_connections``, a bounded pool (BlockingConnectionPool): a caller finding every
    connection busy waits up to ``pool_timeout`` seconds for one instead of failing.
    """
    options: dict[str, Any] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 10,  # above the SSE's XREAD BLOCK
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2),
        "health_check_interval": 30,
    }
    if max_connections is None:
        return aioredis.Redis.from_url(url, **options)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=pool_timeout, **options
    )
    return aioredis.Redis.from_pool(pool)  # closing the client closes its pool


class AsyncJobStore:
    def __init__(self, client: aioredis.Redis, grace: float) -> None:
        self.redis = client
        self.grace = grace  # HEARTBEAT_GRACE_SECONDS; the reaper applies it, never a read
        self._transition = client.register_script(lua.TRANSITION)
        self._reuse = client.register_script(lua.REUSE)
        self._intersect = client.register_script(lua.INTERSECT)
        self._enqueue = client.register_script(lua.ENQUEUE)
        self._delete = client.register_script(lua.DELETE)
        self._page = client.register_script(lua.PAGE)
        self._cancel = client.register_script(lua.CANCEL)
        self._next_trim = 0.0  # when this process next trims the indexes of expired ids
        self._reads = JobReads(client)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def create(
        self,
        spec: dict[str, Any],
        spec_hash: str,
        ttl: int,
        task: Callable[[str], tuple[str, bytes]] | None = None,
        *,
        owner: str = "",
        job_id: str | None = None,
    ) -> Job:
        """Store a new queued job; with ``task`` (job id -> (list, message)), queue it too.

        Both happen in one transaction (one round-trip): a job is never stored without its
        task, nor its task queued without the job. ``owner``: the key id that makes it (auth
        on); ``job_id``: an id reserved beforehand (api/limits.py), else a new one.
        """
        job_id = job_id or new_job_id()
        pipe = self.redis.pipeline()
        job = queue_create(pipe, job_id, spec, spec_hash, ttl, owner)
        if task is not None:  # pushed, and its place noted on the job (store/lanes.py)
            queue, message = task(job_id)
            keys = [queue, pushed_key(queue), Keys(job_id).job]
            await self._enqueue(keys, [message], client=pipe)
        if owner:  # its own index, small: trimmed on each of its creates
            queue_trim(pipe, ttl, [owner_index(owner)])
        if time.monotonic() >= self._next_trim:  # trimming is costly next to a create
            queue_trim(pipe, ttl)
            self._next_trim = time.monotonic() + TRIM_SECONDS
        await pipe.execute()
        return job

    async def reuse(self, spec_hash: str, ttl: int, owner: str = "") -> Job | None:
        """A new succeeded job copying the stored results of the same spec, only ever of a job
        of the same ``owner``; None if there is none."""
        source = cast(bytes | None, await self.redis.get(spec_key(spec_hash, owner)))
        if source is None:
            return None
        keys, args = reuse_call(source.decode(), new_job_id(), spec_hash, ttl, owner)
        return Job.from_reply(await self._reuse(keys, args))

    async def get(self, job_id: str) -> Job | None:
        """The job as stored (a read never writes: the reaper, worker/reaper.py, is what
        marks a job whose worker is gone failed)."""
        return Job.from_reply(cast(dict[bytes, bytes], await self.redis.hgetall(Keys(job_id).job)))

    async def get_batched(self, job_id: str) -> Job | None:
        """As :meth:`get`, read with the other reads of this turn of the event loop in one
        round-trip (store/read_batch.py): what a request for one job uses."""
        return await self._reads.get(job_id)

    async def get_many(self, job_ids: list[str]) -> list[Job | None]:
        """Jobs by id in one round-trip (None where a job is gone)."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hgetall(Keys(job_id).job)
        return [Job.from_reply(reply) for reply in await pipe.execute()]

    async def _ids(self, owner: str, status: str | None, upper: str, most: int) -> list[bytes]:
        """Up to ``most`` ids of the listing, newest first below ``upper``."""
        if owner and status is not None:  # the owner's jobs that sit in the status index
            keys = [owner_index(owner), status_index(status)]
            return cast(list[bytes], await self._intersect(keys, [upper, most]))
        index = owner_index(owner) if owner else status_index(status)
        page = await self.redis.zrange(index, upper, "-", desc=True, bylex=True, offset=0, num=most)
        return cast(list[bytes], page)

    async def _count(self, owner: str, status: str | None) -> int:
        if owner and status is not None:
            keys = [owner_index(owner), status_index(status)]
            return cast(int, await self._intersect(keys, ["+", 0]))
        return cast(
            int, await self.redis.zcard(owner_index(owner) if owner else status_index(status))
        )

    async def list_jobs(
        self, status: str | None, limit: int, cursor: str | None, owner: str = ""
    ) -> tuple[list[Job], int, str | None]:
        """Jobs newest first after ``cursor`` (an id), the count and the next cursor.

        With ``owner`` (auth on), only that owner's jobs: its own index, intersected with the
        status index when filtered by status.
        """
        jobs: list[Job] = []
        upper = f"({cursor}" if cursor else "+"
        while len(jobs) <= limit:
            page = await self._ids(owner, status, upper, limit + 1 - len(jobs))
            ids = [job_id.decode() for job_id in page]
            if not ids:
                break
            gone = []
            for job_id, job in zip(ids, await self.get_many(ids), strict=True):
                if job is None:
                    gone.append(job_id)
                elif status is None or job.status == status:
                    jobs.append(job)
            if gone:  # expired: drop them from every index
                pipe = self.redis.pipeline(transaction=False)
                for name in all_indexes(owner):
                    pipe.zrem(name, *gone)
                await pipe.execute()
            upper = f"({ids[-1]}"
        count = await self._count(owner, status)
        next_cursor = jobs[limit - 1].id if len(jobs) > limit else None
        return jobs[:limit], count, next_cursor

    async def records(
        self, job_id: str, start: int, stop: int | None, every: int, limit: int
    ) -> tuple[str | None, list[bytes], int | None]:
        """(status, records as JSON, next start) of iterations start..stop, every
        ``every``-th.

        The status is read in one atomic step with the first records (``lua.PAGE``), so a
        final status means no record is missing.
        """
        key = Keys(job_id).records
        lower, upper = stream_id(start), stream_id(stop) if stop is not None else "+"
        wanted = limit * every  # positions consumed by this page
        kept: list[bytes] = []
        position, next_start, status = 0, None, None
        while next_start is None:
            # one more entry than the page, to learn `next`; every entry is kept when every == 1,
            # so the whole page comes in one XRANGE (one round-trip), else in chunks
            count = wanted + 1 - position
            count = count if every == 1 else min(count, CHUNK)
            if status is None:
                raw_status, raw = await self._page([Keys(job_id).job, key], [lower, upper, count])
                status = raw_status.decode()
                entries: list[Any] = [(i, dict(zip(f[::2], f[1::2], strict=True))) for i, f in raw]
            else:
                entries = cast(list[Any], await self.redis.xrange(key, lower, upper, count=count))
            for entry_id, fields in entries:
                if position == wanted:
                    next_start = iteration_of(entry_id)
                    break
                if position % every == 0:
                    kept.append(entry_json(fields))
                position += 1
            if len(entries) < count:
                break
            lower = f"({entries[-1][0].decode()}"
        return status or None, kept, next_start

    async def read_after(
        self, job_id: str, after: int | None, block_ms: int | None, count: int = 500
    ) -> list[tuple[int, bytes]]:
        """Records after iteration ``after`` (all if None), waiting up to ``block_ms``."""
        return (await self.read_many_after({job_id: after}, block_ms, count)).get(job_id, [])

    async def read_many_after(
        self, starts: dict[str, int | None], block_ms: int | None = None, count: int = 500
    ) -> dict[str, list[tuple[int, bytes]]]:
        """Records of several jobs in one XREAD: for each job id, up to ``count`` after its
        iteration (all if None); waits up to ``block_ms`` until one of them has any."""
        keys = {Keys(job_id).records: job_id for job_id in starts}
        streams: dict[Any, Any] = {
            key: "0-0" if after is None else stream_id(after)
            for key, after in zip(keys, starts.values(), strict=True)
        }
        reply = cast(Any, await self.redis.xread(streams, count=count, block=block_ms))
        return {
            keys[key.decode() if isinstance(key, bytes) else key]: [
                (iteration_of(entry_id), entry_json(fields)) for entry_id, fields in entries
            ]
            for key, entries in reply or []
        }

    async def parameters(
        self, job_id: str, iteration: int | None
    ) -> tuple[bytes | None, list[int]]:
        """(snapshot at ``iteration`` or the last one, every iteration with a snapshot)."""
        key = Keys(job_id).params
        names = await self.redis.hkeys(key)
        available = sorted(int(name) for name in names if is_snapshot_field(name))
        if iteration is None and available:
            iteration = available[-1]
        header = await self.redis.hget(key, str(iteration)) if iteration is not None else None
        if header is None:
            return None, available
        count = snapshot_chunks(cast(bytes, header))
        names = [f"{iteration}.{k}" for k in range(count)]
        chunks = cast(list[bytes | None], await self.redis.hmget(key, names) if count else [])
        present = [chunk for chunk in chunks if chunk is not None]
        if len(present) < count:  # deleted meanwhile
            return None, available
        return snapshot_json(cast(bytes, header), present), available

    async def dataset(self, job_id: str) -> bytes | None:
        return cast(bytes | None, await self.redis.get(Keys(job_id).dataset))

    async def cancel(self, job_id: str, expire_at: int) -> str | None:
        """Cancel: a queued job ends now, a running one is flagged. The status before."""
        keys, args = transition_call(job_id, "cancelled", ("queued",), {"finished_at": now_iso()})
        applied, before = transition_reply(await self._transition(keys, args))
        if applied:  # it never ran: its storage reservation is free at once
            await self.redis.hdel(RESERVED_KEY, job_id)
        elif before == "running":
            await self._cancel([Keys(job_id).cancel], [expire_at, job_id])
        return before

    async def delete(self, job: Job) -> None:
        """Delete every key and free its storage reservation, on a full store too; the cancel
        flag stays (to its expiry) so a running loop stops."""
        await self._delete(*delete_call(job.id, job.expire_at, job.owner))
