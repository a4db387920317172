"""Where a queued job stands in its lane, read from Redis without writing (store/lanes.py)."""

from __future__ import annotations

from typing import cast

import redis.asyncio as aioredis

from store.jobs import Job
from store.keys import JobStatus, lane_runs_key, pushed_key
from store.lanes import (
    Standing,
    ahead_in_share,
    concurrency,
    lane_position,
    lane_queues,
    parse_queue,
    wait_seconds,
)
from store.settings import Settings


async def standing(client: aioredis.Redis, settings: Settings, job: Job) -> Standing | None:
    """The job's lane, position and estimated wait while it is queued; None otherwise.

    One pipelined read: the length of each of the lane's lists, the pushed count of the
    job's own, and the lane's run times.
    """
    if job.status != JobStatus.QUEUED or not job.queue or job.queue_seq is None:
        return None
    where = parse_queue(job.queue)
    if where is None or where[1] >= settings.lane_shares:  # LANE_SHARES changed since
        return None
    lane, share = where
    queues = lane_queues(settings, lane)
    if queues[share] != job.queue:  # queued under another CELERY_QUEUE than this process's
        return None
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue)
    pipe.get(pushed_key(job.queue))
    pipe.hmget(lane_runs_key(lane), "count", "sum")
    *lengths, pushed, (runs, total) = await pipe.execute()
    lengths = cast(list[int], lengths)
    ahead = ahead_in_share(lengths[share], int(pushed or 0), job.queue_seq)
    position = lane_position(lengths, share, ahead)
    wait = wait_seconds(position, concurrency(settings, lane), int(runs or 0), float(total or 0.0))
    return Standing(lane, position, wait)
