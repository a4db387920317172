"""The store's room: storage reserved by queued and running jobs against Redis's ``maxmemory``.

Before a job is accepted, its estimated bytes (store/estimate.py) are reserved in one atomic
step (``lua_limits.RESERVE``): it fits while ``used_memory`` + the reservations of the jobs still
queued or running + its estimate stay within ``maxmemory`` minus a margin (for the broker's
messages, the indexes and the job hashes). A reservation ends with its job (the worker frees
it when the job ends, the API when it cancels a queued job or deletes one; the script drops
those of ended or vanished jobs), and from then on the job's real bytes count in
``used_memory``. A job's own writes count twice while it runs: the store refuses a little
early, never late.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from store import lua, lua_limits
from store.jobs import delete_call
from store.keys import FINAL, PREFIX, RESERVED_KEY, status_index

PENDING_SECONDS = 60.0  # a reservation whose job hash never appeared is dropped after this
_FIELD = re.compile(rb"^(\d+):")


@dataclass(frozen=True)
class Room:
    """One reservation attempt: admitted or not, and the numbers behind it."""

    admitted: bool
    used: int  # Redis's used_memory
    reserved: int  # bytes queued and running jobs may still write (with these, if admitted)
    maxmemory: int  # 0: Redis has no limit
    wanted: int  # what the new jobs asked for


class AsyncCapacity:
    def __init__(self, client: aioredis.Redis, margin: int) -> None:
        self.redis, self.margin = client, margin
        self._reserve = client.register_script(lua_limits.RESERVE)
        self._delete = client.register_script(lua.DELETE)

    async def reserve(self, job_ids: Sequence[str], sizes: Sequence[int]) -> Room:
        """Reserve ``sizes[i]`` bytes for ``job_ids[i]``, all or none."""
        args: list[Any] = [self.margin, f"{PREFIX}:job:", PENDING_SECONDS]
        for job_id, size in zip(job_ids, sizes, strict=True):
            args += [job_id, int(size)]
        admitted, used, reserved, maxmemory, wanted = await self._reserve([RESERVED_KEY], args)
        return Room(bool(admitted), int(used), int(reserved), int(maxmemory), int(wanted))

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

    async def oldest_finished(self, count: int) -> list[str]:
        """The ids of the ``count`` oldest jobs that ended (never a queued or running one)."""
        pipe = self.redis.pipeline(transaction=False)
        for status in FINAL:
            pipe.zrange(status_index(status), "-", "+", bylex=True, offset=0, num=count)
        found = sorted({i.decode() for page in await pipe.execute() for i in page})
        return found[:count]

    async def expire(self, job_ids: Sequence[str]) -> int:
        """Delete ended jobs to make room; how many were deleted (one that runs again is
        skipped: only a final status is deleted here)."""
        deleted = 0
        for job_id in job_ids:
            status, owner, expire_at = cast(
                list[bytes | None],
                await self.redis.hmget(f"{PREFIX}:job:{job_id}", "status", "owner", "expire_at"),
            )
            if status is None or status.decode() not in FINAL:
                for index in (status_index(s) for s in FINAL):
                    await self.redis.zrem(index, job_id)  # a stale index entry
                continue
            keys, args = delete_call(
                job_id, int(expire_at or 0) or 1, owner.decode() if owner else None
            )
            await self._delete(keys, args)
            deleted += 1
        return deleted
