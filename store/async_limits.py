"""The limits' counters as the API sees them, in Redis so every API process shares them.

Key names are in store/jobs.py (``rate_key``, ``active_key``), the scripts in store/lua_limits.py
(``RATE``, ``ADMIT``). Both run on the Redis server's clock, so API processes on machines
whose clocks differ still count one window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from store import lua_limits
from store.ids import new_job_id
from store.keys import PENDING_KEY, Keys, active_key, rate_key, status_index

RESERVATION_SECONDS = 60  # an admitted id whose job is not stored by then frees its slot
PENDING_SECONDS = 30  # an id the service admitted counts this long at most before it is stored


@dataclass(frozen=True)
class RateDecision:
    admitted: bool
    count: int  # submissions in the window, this one included when admitted
    retry_after: int  # whole seconds until a slot frees (0 when admitted)


@dataclass(frozen=True)
class Admission:
    admitted: bool
    active: int  # the subject's active jobs, the new ones included when admitted
    job_ids: list[str]  # ids reserved for the new jobs (empty when refused)


class AsyncLimits:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._rate = client.register_script(lua_limits.RATE)
        self._admit = client.register_script(lua_limits.ADMIT)
        self._capacity = client.register_script(lua_limits.CAPACITY)

    async def hit(self, subject: str, limit: int, window: float = 60.0, n: int = 1) -> RateDecision:
        """Count ``n`` job submissions of ``subject`` unless that would make more than
        ``limit`` in the last window (``retry_after`` 0 and not admitted: n never fits)."""
        members = [new_job_id() for _ in range(n)]  # unique: time + 80 random bits
        args: list[str | float] = [limit, window, *members]
        admitted, count, wait = cast(list[Any], await self._rate([rate_key(subject)], args))
        if admitted:
            return RateDecision(True, int(count), 0)
        retry = 0 if wait == b"inf" or wait == "inf" else max(1, math.ceil(float(wait)))
        return RateDecision(False, int(count), retry)

    async def admit(self, subject: str, limit: int, n: int, ttl: int) -> Admission:
        """Reserve ids for ``n`` new jobs of ``subject`` if its active jobs stay within ``limit``.

        The check and the reservation are one atomic step, so concurrent submissions on any
        number of API processes never admit more than ``limit`` together. Create the jobs with
        the ids returned; an id not used is freed by :meth:`release` (or on its own after
        ``RESERVATION_SECONDS``).
        """
        ids = [new_job_id() for _ in range(n)]
        name = Keys("ID")  # the key names of a job, split around its id
        prefix, suffix = name.job.removesuffix("ID"), name.cancel.removeprefix(name.job)
        args: list[str | int] = [limit, prefix, suffix, RESERVATION_SECONDS, ttl, *ids]
        admitted, active = cast(list[int], await self._admit([active_key(subject)], args))
        return Admission(bool(admitted), int(active), ids if admitted else [])

    async def admit_service(self, job_ids: list[str], limit: int) -> tuple[bool, int]:
        """(admitted, active jobs): pending ``job_ids`` if the whole service stays within
        ``limit`` queued or running jobs, checked and reserved in one atomic step. An id
        counts as pending until its job is stored (in the same transaction), it is
        :meth:`unpend`-ed, or ``PENDING_SECONDS`` pass."""
        keys = [status_index("queued"), status_index("running"), PENDING_KEY]
        reply = await self._capacity(keys, [limit, PENDING_SECONDS, *job_ids])
        admitted, active = cast(list[int], reply)
        return bool(admitted), int(active)

    async def unpend(self, job_ids: list[str]) -> None:
        """Admitted ids no job will be stored with: they stop counting now."""
        if job_ids:
            await self.redis.zrem(PENDING_KEY, *job_ids)

    async def release(self, subject: str, job_ids: list[str]) -> None:
        """Free reserved ids that no job was created with (a reused result, a failure)."""
        if job_ids:
            await self.redis.zrem(active_key(subject), *job_ids)
