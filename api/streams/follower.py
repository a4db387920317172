"""One follower per API process for every live job it streams.

Each turn reads the statuses of all followed jobs in one pipeline, then their new records in
one ``XREAD BLOCK`` over all their streams. However many live jobs and viewers a process has,
following them holds one pooled Redis connection (two for an instant), so the pool stays free
for submissions and other reads: a classroom of 40 live jobs does not drain a pool of 20.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from api.streams.events import BATCH, REDIS_DOWN, end_event, job_status, read_from
from api.streams.feed import Feed
from store.async_store import AsyncJobStore
from store.jobs import Job

LINGER_SECONDS = 5.0  # a followed job with no viewer for this long is dropped


@dataclass
class Followed:
    feed: Feed
    status: str | None  # the last status sent
    idle_since: float = field(default_factory=time.monotonic)


class Follower:
    def __init__(
        self, store: AsyncJobStore, block_ms: int, done: Callable[[Feed], None]
    ) -> None:  # fmt: skip
        self.store = store
        self.block_ms = block_ms
        self.done = done  # called once per feed that stops being followed (ended or dropped)
        self.followed: dict[str, Followed] = {}
        self._loop: asyncio.Task[None] | None = None
        self._catch_ups: set[asyncio.Task[None]] = set()

    def add(self, feed: Feed, job: Job) -> None:
        """Follow ``job`` (as just read) into ``feed``, from its first record."""
        feed.add_status(job_status(job))
        self.followed[job.id] = Followed(feed, job.status)
        # what is stored already is read now, not after the loop's current BLOCK
        catch_up = asyncio.create_task(self._catch_up(feed))
        self._catch_ups.add(catch_up)
        catch_up.add_done_callback(self._catch_ups.discard)
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run())

    async def _catch_up(self, feed: Feed) -> None:
        with contextlib.suppress(*REDIS_DOWN):  # the loop reports the store's failure
            while not feed.done:
                replies = await self.store.read_many_after({feed.job_id: read_from(feed.last)})
                entries = replies.get(feed.job_id, [])
                add_records(feed, entries)
                if len(entries) < BATCH:
                    return

    async def _run(self) -> None:
        try:
            while self.followed:
                await self._turn()
        except REDIS_DOWN as exc:
            self._stop_all(exc)
        except asyncio.CancelledError:
            self._stop_all(RuntimeError("the API is stopping"))
            raise

    async def _turn(self) -> None:
        followed = dict(self.followed)
        jobs = await self.store.get_many(list(followed))
        now = time.monotonic()
        final: dict[str, Job] = {}
        for (job_id, one), job in zip(followed.items(), jobs, strict=True):
            if job is None:
                self._stop(job_id, end_event(None))
                continue
            if job.status != one.status:
                one.feed.add_status(job_status(job))
                one.feed.wake()
                one.status = job.status
            if job.final:  # its status is read before its records: every record is written
                final[job_id] = job
            elif one.feed.viewers:
                one.idle_since = now
            elif now - one.idle_since > LINGER_SECONDS:
                self._stop(job_id, None)
        starts = {job_id: read_from(self.followed[job_id].feed.last) for job_id in self.followed}
        if not starts:
            return
        block = None if final else self.block_ms
        replies = await self.store.read_many_after(starts, block)
        for job_id, entries in replies.items():
            if (still := self.followed.get(job_id)) is not None:
                add_records(still.feed, entries)
        for job_id, job in final.items():
            if job_id in self.followed and len(replies.get(job_id, [])) < BATCH:
                self._stop(job_id, end_event(job))

    def _stop(self, job_id: str, last: bytes | None) -> None:
        """Stop following ``job_id``: its feed ends with ``last`` (None: dropped unended)."""
        one = self.followed.pop(job_id)
        if last is not None:
            one.feed.end(last)
        self.done(one.feed)

    def _stop_all(self, failure: Exception) -> None:
        for one in self.followed.values():
            one.feed.fail(failure)
            self.done(one.feed)
        self.followed.clear()

    async def close(self) -> None:
        tasks = list(self._catch_ups) + ([self._loop] if self._loop is not None else [])
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def add_records(feed: Feed, entries: list[tuple[int, bytes]]) -> None:
    """Append the records past the feed's last (the loop and a catch-up may read the same)."""
    added = False
    for iteration, raw in entries:
        if iteration > feed.last and not feed.done:
            feed.add_record(iteration, raw)
            added = True
    if added:
        feed.wake()
