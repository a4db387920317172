"""Sweeps as the API sees them: a hash per sweep beside its jobs (key names in store/jobs.py).

A sweep's hash keeps what was asked (base, vary, target cost), the ordered job ids and the
varied values of each. Per-job results read from the records, the activation std at iteration
0 (``init_std:{job id}``) and, once a job has ended, the iteration at which its cost first
reached the target (``reach:{job id}``), go into ``Sweep.cached`` for one answer (reads never
write); an ended job's are remembered by the API process (store/sweep_results.py), so polling a
finished sweep reads no stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from store.async_store import AsyncJobStore
from store.codec import dumps, loads, now_iso
from store.ids import created_seconds, expire_at_of, new_job_id
from store.jobs import Job, queue_trim
from store.keys import SWEEPS_INDEX, Keys, iteration_of, owner_sweeps, stream_id, sweep_key
from store.packing import entry_json, entry_scalars
from store.sweep_results import SweepResults

CHUNK = 1000  # records per XRANGE when reading a cost curve
# records start {"iteration":..,"epoch":..,"cost":..}: the cost without parsing the rest
_COST = re.compile(rb'\{"iteration":\d+,"epoch":[^,]*,"cost":([^,}]*)[,}]')


@dataclass
class Sweep:
    id: str
    created_at: str
    expire_at: int
    base: dict[str, Any]
    vary: dict[str, list[Any]]
    target_cost: float
    job_ids: list[str]
    values: list[dict[str, Any]]
    cached: dict[str, Any] = field(default_factory=dict)  # "init_std:{id}", "reach:{id}"
    owner: str | None = None  # the key id that made it (auth on)

    @classmethod
    def from_reply(cls, reply: dict[bytes, bytes]) -> Sweep | None:
        h = {k.decode(): v for k, v in reply.items()}
        if "id" not in h:
            return None
        cached = {k: loads(v) for k, v in h.items() if k.startswith(("init_std:", "reach:"))}
        return cls(
            id=h["id"].decode(),
            created_at=h["created_at"].decode(),
            expire_at=int(h["expire_at"]),
            base=loads(h["base"]),
            vary=loads(h["vary"]),
            target_cost=float(h["target_cost"]),
            job_ids=loads(h["job_ids"]),
            values=loads(h["values"]),
            cached=cached,
            owner=h["owner"].decode() if h.get("owner") else None,
        )


def cost_of(raw: bytes) -> float | None:
    """The ``cost`` of a stored record (null when not finite)."""
    match = _COST.match(raw)
    value = loads(match.group(1)) if match else loads(raw).get("cost")
    return float(value) if value is not None else None


class AsyncSweepStore:
    def __init__(self, jobs: AsyncJobStore, results: SweepResults | None = None) -> None:
        self.jobs = jobs
        self.redis = jobs.redis
        self.results = results if results is not None else SweepResults(0)  # ended jobs

    async def create(
        self,
        base: dict[str, Any],
        vary: dict[str, list[Any]],
        target_cost: float,
        job_ids: list[str],
        values: list[dict[str, Any]],
        ttl: int,
        owner: str = "",
    ) -> Sweep:
        sweep_id = new_job_id()
        sweep = Sweep(
            sweep_id, now_iso(created_seconds(sweep_id)), expire_at_of(sweep_id, ttl),
            base, vary, target_cost, job_ids, values, owner=owner or None,
        )  # fmt: skip
        fields: dict[str, str | int | float | bytes] = {
            "id": sweep.id, "created_at": sweep.created_at, "expire_at": sweep.expire_at,
            "base": dumps(base), "vary": dumps(vary), "target_cost": target_cost,
            "job_ids": dumps(job_ids), "values": dumps(values),
        }  # fmt: skip
        indexes = [SWEEPS_INDEX, owner_sweeps(owner)] if owner else [SWEEPS_INDEX]
        if owner:
            fields["owner"] = owner
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(sweep_key(sweep_id), mapping=fields)  # type: ignore[arg-type]
        pipe.expireat(sweep_key(sweep_id), sweep.expire_at)
        for index in indexes:
            pipe.zadd(index, {sweep_id: 0})
        queue_trim(pipe, ttl, indexes)
        await pipe.execute()
        return sweep

    async def get(self, sweep_id: str) -> Sweep | None:
        return Sweep.from_reply(cast(Any, await self.redis.hgetall(sweep_key(sweep_id))))

    async def page(
        self, limit: int, cursor: str | None, owner: str = ""
    ) -> tuple[list[Sweep], int, str | None]:
        """Sweeps newest first after ``cursor`` (an id), the count and the next cursor; with
        ``owner``, that owner's only."""
        index = owner_sweeps(owner) if owner else SWEEPS_INDEX
        upper = f"({cursor}" if cursor else "+"
        page = await self.redis.zrange(
            index, upper, "-", desc=True, bylex=True, offset=0, num=limit + 1
        )
        ids = [sweep_id.decode() for sweep_id in cast(list[bytes], page)]
        pipe = self.redis.pipeline(transaction=False)
        for sweep_id in ids:
            pipe.hgetall(sweep_key(sweep_id))
        pipe.zcard(index)  # in the same round-trip as the hashes
        *replies, count = await pipe.execute()
        found = [Sweep.from_reply(reply) for reply in replies]
        gone = [sweep_id for sweep_id, sweep in zip(ids, found, strict=True) if sweep is None]
        if gone:  # expired
            count -= await self.redis.zrem(index, *gone)
        sweeps = [sweep for sweep in found if sweep is not None]
        next_cursor = ids[limit - 1] if len(ids) > limit else None
        return sweeps[:limit], count, next_cursor

    async def first_records(self, job_ids: list[str]) -> list[dict[str, Any] | None]:
        """The record of iteration 0 of each job (None where not written yet)."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.xrange(Keys(job_id).records, stream_id(0), stream_id(0))
        replies = cast(list[Any], await pipe.execute())
        return [loads(entry_json(entries[0][1])) if entries else None for entries in replies]

    async def costs(self, job_ids: list[str]) -> list[list[tuple[int, float | None]]]:
        """(iteration, cost) of every record of each job; each round-trip reads the next chunk
        of every stream not yet exhausted."""
        curves: list[list[tuple[int, float | None]]] = [[] for _ in job_ids]
        lower = dict.fromkeys(range(len(job_ids)), "-")
        while lower:
            pipe = self.redis.pipeline(transaction=False)
            for k, start in lower.items():
                pipe.xrange(Keys(job_ids[k]).records, start, "+", count=CHUNK)
            replies = cast(list[Any], await pipe.execute())
            for k, entries in zip(list(lower), replies, strict=True):
                curves[k] += [
                    (iteration_of(i), cost_of(entry_scalars(fields))) for i, fields in entries
                ]
                if len(entries) < CHUNK:
                    del lower[k]
                else:
                    lower[k] = f"({entries[-1][0].decode()}"
        return curves

    async def delete(self, sweep: Sweep, jobs: list[Job | None]) -> None:
        """Delete every job of the sweep (cancelling active ones), then the sweep."""
        for job in jobs:
            if job is not None:
                await self.jobs.delete(job)
        pipe = self.redis.pipeline(transaction=False)  # no MULTI: it works on a full store
        pipe.delete(sweep_key(sweep.id))
        pipe.zrem(SWEEPS_INDEX, sweep.id)
        if sweep.owner:
            pipe.zrem(owner_sweeps(sweep.owner), sweep.id)
        await pipe.execute()
