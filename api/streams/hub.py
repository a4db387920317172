"""The feeds of one API process: one follower per live job, an LRU of finished jobs' feeds.

A live job's follower is one task looping over one ``XREAD BLOCK`` on the job's records (and
one read of the job per turn for its status), for every viewer of the job in this process. A
finished job's feed is read from Redis once, kept (bounded in MB, least recently used dropped
first) and shared: its records never change.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict

import redis.exceptions

from api.errors import unavailable
from api.streams.feed import START, Feed, sse, status_event
from api.streams.memory import return_freed_memory
from store.async_store import AsyncJobStore
from store.codec import dumps
from store.jobs import Job

BATCH = 500  # records per read
LINGER_SECONDS = 5.0  # a follower with no viewer for this long stops
MB = 1024 * 1024
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


class Hub:
    def __init__(
        self, store: AsyncJobStore, *, block_ms: int, keepalive: float, cache_mb: float,
        live_mb: float,
    ) -> None:  # fmt: skip
        self.store = store
        self.block_ms = block_ms
        self.keepalive = keepalive
        self.cache_bytes = int(cache_mb * MB)
        self.live_bytes = int(live_mb * MB)
        self.live: dict[str, Feed] = {}
        self.finished: OrderedDict[str, Feed] = OrderedDict()
        self._building: dict[str, asyncio.Task[Feed]] = {}
        self._followers: set[asyncio.Task[None]] = set()
        self._packing: set[asyncio.Task[None]] = set()

    def cached(self, job_id: str) -> Feed | None:
        """A finished job's kept feed, if this process has it."""
        feed = self.finished.get(job_id)
        if feed is not None:
            self.finished.move_to_end(job_id)
        return feed

    async def feed(self, job: Job) -> Feed:
        """The shared feed of ``job`` (as the route just read it)."""
        if (cached := self.finished.get(job.id)) is not None:
            self.finished.move_to_end(job.id)
            return cached
        if (live := self.live.get(job.id)) is not None:
            return live
        if not job.final:
            live = self.live[job.id] = Feed(job.id, self.live_bytes)
            task = asyncio.create_task(self._follow(live, job))
            self._followers.add(task)
            task.add_done_callback(self._followers.discard)
            return live
        if job.id not in self._building:  # the first viewer reads it; the others wait for it
            self._building[job.id] = asyncio.create_task(self._replay(job))
        return await asyncio.shield(self._building[job.id])

    async def _replay(self, job: Job) -> Feed:
        """A finished job's feed, read once; kept when it fits the cache."""
        try:
            feed = Feed(job.id, self.cache_bytes)
            feed.add_status(job_status(job))
            try:
                while True:
                    entries = await self.store.read_after(job.id, read_from(feed.last), None, BATCH)
                    for iteration, raw in entries:
                        feed.add_record(iteration, raw)
                    if len(entries) < BATCH:
                        break
            except REDIS_DOWN as exc:
                feed.end(error_event(exc), failed=True)
                return feed  # not kept: the next viewer tries again
            feed.end(end_event(job))
            return self._keep(feed) or feed  # its viewers read slices of the kept body
        finally:
            del self._building[job.id]

    def _keep(self, feed: Feed) -> Feed | None:
        """Into the LRU of finished feeds, when complete and within the cache's size.

        A followed feed is kept as a replay reads it: its final status, its records, its end
        (the events' bytes are shared, not copied).
        """
        if not feed.complete or feed.size > self.cache_bytes:
            return None
        replay = Feed(feed.job_id, self.cache_bytes)
        replay.add_status(feed.status)
        for event, position in zip(feed.events, feed.positions, strict=True):
            if event.startswith(b"id: "):
                replay.add_record(int(position), event)
        replay.end(feed.events[-1])
        replay.freeze()
        self.finished[feed.job_id] = replay
        self.trim()
        task = asyncio.create_task(self._pack(replay))
        self._packing.add(task)
        task.add_done_callback(self._packing.discard)
        return replay

    async def _pack(self, replay: Feed) -> None:
        """Keep a finished feed as its zstd copy: about a tenth of its size."""
        await replay.pack()
        self.trim()

    def trim(self) -> None:
        """Drop the least recently used finished feeds until the cache fits its size."""
        total = sum(feed.size for feed in self.finished.values())
        while total > self.cache_bytes and self.finished:
            _, dropped = self.finished.popitem(last=False)
            total -= dropped.size
            return_freed_memory()

    async def _follow(self, feed: Feed, job: Job | None) -> None:
        """Follow a live job for every viewer of this process, until it ends (or none watch)."""
        idle_since = time.monotonic()
        sent_status = None
        try:
            while job is not None:
                if job.status != sent_status:
                    feed.add_status(job_status(job))
                    sent_status = job.status
                # a final status is read before the records: every record is written by then
                wait = None if job.final else self.block_ms
                entries = await self.store.read_after(job.id, read_from(feed.last), wait, BATCH)
                for iteration, raw in entries:
                    feed.add_record(iteration, raw)
                if job.final and len(entries) < BATCH:
                    feed.end(end_event(job))
                    break
                now = time.monotonic()
                if entries:
                    feed.wake()
                if feed.viewers:
                    idle_since = now
                elif now - idle_since > LINGER_SECONDS:
                    return
                job = await self.store.get(job.id)
            else:
                feed.end(end_event(None))
        except REDIS_DOWN as exc:
            feed.end(error_event(exc), failed=True)
        except asyncio.CancelledError:
            feed.end(error_event(RuntimeError("the API is stopping")), failed=True)
            raise
        finally:
            if self.live.get(feed.job_id) is feed:
                del self.live[feed.job_id]
            self._keep(feed)

    async def close(self) -> None:
        for task in [*self._followers, *self._building.values(), *self._packing]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def read_from(last: int) -> int | None:
    """The ``after`` of a Redis read following iteration ``last`` (None: from the first)."""
    return None if last == START else last
