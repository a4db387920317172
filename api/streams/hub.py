"""The feeds of one API process: the live jobs' feeds, an LRU of finished jobs' feeds.

Every live job's feed is filled by the process's one follower (api/streams/follower.py), for
every viewer of the job in this process. A finished job's feed is read from Redis once, kept
(bounded in MB, least recently used dropped first) and shared: its records never change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict

from api.streams.events import BATCH, REDIS_DOWN, end_event, job_status, read_from
from api.streams.feed import Feed
from api.streams.follower import Follower
from api.streams.memory import return_freed_memory
from store.async_store import AsyncJobStore
from store.jobs import Job

MB = 1024 * 1024


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
        self.follower = Follower(store, block_ms, self._followed)
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
            self.follower.add(live, job)
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
                feed.fail(exc)
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

    def _followed(self, feed: Feed) -> None:
        """A live feed the follower let go of: no longer live; kept when complete."""
        if self.live.get(feed.job_id) is feed:
            del self.live[feed.job_id]
        self._keep(feed)

    async def close(self) -> None:
        await self.follower.close()
        for task in [*self._building.values(), *self._packing]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
