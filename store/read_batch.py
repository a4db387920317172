"""Reads of jobs by id, batched per turn of the event loop (DataLoader style).

Hundreds of requests for one job (a class opening the same stream) arrive in the same turn or
a few; read one by one, they queue for the pool's connections and each read costs a turn of a
loop that is busy sending. Here every read asked for during one turn waits for the end of that
turn, then all go to Redis as one pipeline with each job read once: no read is issued before
the request that wanted it arrived, so none sees an older state than a read of its own would.
Each caller gets its own ``Job`` parsed from the reply (callers may change theirs).
"""

from __future__ import annotations

import asyncio
from typing import cast

import redis.asyncio as aioredis

from store.jobs import Job
from store.keys import Keys

Reply = dict[bytes, bytes]


class JobReads:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._waiting: dict[str, list[asyncio.Future[Reply]]] = {}
        self.batches = 0  # pipelines sent (what the tests count)

    async def get(self, job_id: str) -> Job | None:
        """The job as stored, read in this turn's batch."""
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._flush)  # after every callback already due in this turn
        future: asyncio.Future[Reply] = loop.create_future()
        self._waiting.setdefault(job_id, []).append(future)
        return Job.from_reply(await future)

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, {}
        task = asyncio.create_task(self._read(batch))
        task.add_done_callback(_retrieved)

    async def _read(self, batch: dict[str, list[asyncio.Future[Reply]]]) -> None:
        self.batches += 1
        try:
            pipe = self.redis.pipeline(transaction=False)
            for job_id in batch:
                pipe.hgetall(Keys(job_id).job)
            replies = cast(list[Reply], await pipe.execute())
        except asyncio.CancelledError:
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as exc:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            raise
        for futures, reply in zip(batch.values(), replies, strict=True):
            for future in futures:
                if not future.done():  # its request may have gone
                    future.set_result(reply)


def _retrieved(task: asyncio.Task[None]) -> None:
    """The batch's failure went to its callers; nothing is left to log."""
    if not task.cancelled():
        task.exception()
