"""The store's room: storage reserved by queued and running jobs against Redis's ``maxmemory``.

Before a job is accepted, its estimated bytes (store/estimate.py) are reserved in one atomic
step (``lua_limits.RESERVE``): it fits while ``used_memory`` + the reservations of the jobs still
queued or running + its estimate stay within ``maxmemory`` minus a margin (for the broker's
messages, the indexes and the job hashes). A reservation ends with its job (the worker frees
it when the job ends, the API when it cancels a queued job or deletes one; the script drops
those of ended or vanished jobs), and from then on the job's real bytes count in
``used_memory``. A job's own writes count twice while it runs: the store refuses a little
early, never late. With ``STORE_FULL_POLICY=expire_finished`` the same step first deletes the
oldest ended jobs while the new ones do not fit, so admissions at once share the deletions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from store import lua_limits
from store.keys import (
    ACTIVE,
    CANCEL_SUFFIX,
    FINAL,
    JOB_DATA_SUFFIXES,
    JOB_PREFIX,
    OWNER_INDEX,
    RESERVED_KEY,
    status_index,
)

PENDING_SECONDS = 60.0  # a reservation whose job hash never appeared is dropped after this
# expire_finished: index entries one admission may visit to delete ended jobs (a bound on the
# script's time, far above what a store of ~1 MB jobs holds below its limit)
EXPIRE_STEPS = 10_000
_FIELD = re.compile(rb"^(\d+):")
_INDEXES = [*map(status_index, FINAL), status_index(None), *map(status_index, ACTIVE)]


@dataclass(frozen=True)
class Room:
    """One reservation attempt: admitted or not, and the numbers behind it."""

    admitted: bool
    used: int  # Redis's used_memory (after any deletion)
    reserved: int  # bytes queued and running jobs may still write (with these, if admitted)
    maxmemory: int  # 0: Redis has no limit
    wanted: int  # what the new jobs asked for
    expired: int = 0  # ended jobs deleted to make room


class AsyncCapacity:
    def __init__(self, client: aioredis.Redis, margin: int) -> None:
        self.redis, self.margin = client, margin
        self._reserve = client.register_script(lua_limits.RESERVE)

    async def reserve(
        self, job_ids: Sequence[str], sizes: Sequence[int], expire_finished: bool = False
    ) -> Room:
        """Reserve ``sizes[i]`` bytes for ``job_ids[i]``, all or none; with
        ``expire_finished``, the oldest ended jobs are deleted first as long as they do not
        fit (never a queued or running one), in the same atomic step."""
        steps = EXPIRE_STEPS if expire_finished else 0
        args: list[str | int | float] = [self.margin, JOB_PREFIX, PENDING_SECONDS, steps]
        args += [" ".join(JOB_DATA_SUFFIXES), CANCEL_SUFFIX, *OWNER_INDEX]
        for job_id, size in zip(job_ids, sizes, strict=True):
            args += [job_id, int(size)]
        reply = await self._reserve([RESERVED_KEY, *_INDEXES], args)
        admitted, used, reserved, maxmemory, wanted, expired = map(int, reply)
        return Room(bool(admitted), used, reserved, maxmemory, wanted, expired)

    async def release(self, job_ids: Sequence[str]) -> None:
        if job_ids:
            await self.redis.hdel(RESERVED_KEY, *job_ids)

    async def usage(self) -> dict[str, int]:
        """Bytes used, the limit (``maxmemory``, 0 = none), what jobs may still write."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.info("memory")
        pipe.hvals(RESERVED_KEY)
        memory, held = await pipe.execute()
        reserved = sum(int(m.group(1)) for value in held if (m := _FIELD.match(value)))
        maxmemory = int(memory.get("maxmemory", 0))
        return {
            "used_bytes": int(memory["used_memory"]),
            "limit_bytes": maxmemory,
            "reserved_bytes": reserved,
            "margin_bytes": self.margin if maxmemory else 0,
        }
