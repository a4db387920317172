"""Sweeps: resolving variations, creating their jobs, and each sweep's public view."""

from __future__ import annotations

import contextlib
from typing import Any

import redis.exceptions
from celery import Celery
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.errors import invalid, json_text
from api.limits import Quota
from api.models import Summary, SweepPublic, VariationPublic
from api.services.submission import submit
from engine.experiment import ExperimentSpec
from engine.spec import resolve
from engine.sweep import SweepCreate, iterations_to_reach, over_budget, rank, variations
from store.async_store import AsyncJobStore
from store.async_sweeps import AsyncSweepStore, Sweep
from store.estimate import storage_bytes
from store.jobs import Job
from store.keys import ACTIVE
from store.settings import Settings
from store.sweep_results import Derived, SweepResults


async def create_sweep(
    body: SweepCreate,
    *,
    store: AsyncJobStore,
    sweeps: AsyncSweepStore,
    celery: Celery,
    settings: Settings,
    quota: Quota,
) -> Sweep:
    """Every variation validated, then each run as a job (all or none), then the sweep stored.

    Variations whose resolved spec has succeeded before reuse its results unless ``force`` is
    set, like single jobs.
    """
    specs = resolve_variations(body)
    rate = settings.submissions_per_minute
    if rate and len(specs) > rate:  # could never pass the rate limit, now or later
        reason = f"{len(specs)} variations; the rate limit allows {rate} jobs per minute"
        raise invalid(("body", "vary"), reason)
    await quota.count_more(len(specs) - 1)  # each job counts; the request counted one
    # the caller's and the service's slots and the store's room, all or none
    reserved = await quota.reserve(len(specs), [storage_bytes(spec) for _, spec in specs])
    context = {"store": store, "celery": celery, "settings": settings, "quota": quota}
    jobs: list[Job] = []
    try:
        for (_, spec), job_id in zip(specs, reserved, strict=True):
            job = await submit(spec, force=body.force, job_id=job_id, **context)
            jobs.append(job)
    except Exception:  # no half sweep left running
        for job in jobs:
            with contextlib.suppress(redis.exceptions.RedisError):
                await store.cancel(job.id, job.expire_at)
        await quota.release(reserved)
        raise
    await quota.release([i for i, job in zip(reserved, jobs, strict=True) if job.id != i])
    return await sweeps.create(
        body.base.model_dump(exclude_none=True),
        body.vary,
        body.target_cost,
        [job.id for job in jobs],
        [values for values, _ in specs],
        settings.job_ttl_seconds,
        quota.owner,
    )


def resolve_variations(sweep: SweepCreate) -> list[tuple[dict[str, Any], ExperimentSpec]]:
    """Every variation resolved, or one 422 naming each failing variation and field.

    An error on a varied field is located at ``body.vary.{path}``; one that every variation
    shares (a bad base) once at ``body.base...``; any other (a combination, such as the work
    budget) at ``body.vary``. Each message names the variation's values and the spec field.
    """
    resolved, failures = [], []
    every = variations(sweep)
    for values, request in every:
        try:
            resolved.append((values, resolve(request)))
        except ValidationError as exc:
            failures.append((values, exc.errors(include_url=False)))
    if not failures:
        if (reason := over_budget([spec for _, spec in resolved])) is not None:
            raise invalid(("body", "vary"), reason)
        return resolved
    kinds = [{(tuple(map(str, e["loc"])), e["type"]) for e in errors} for _, errors in failures]
    shared = set.intersection(*kinds) if len(failures) == len(every) else set()
    problems, seen = [], set()
    for values, errors in failures:
        chosen = ", ".join(f"{p}={json_text(v)}" for p, v in values.items())
        for error in errors:
            loc = tuple(str(part) for part in error["loc"])
            path = next((p for p in values if _overlaps(p.split("."), loc)), None)
            if path is not None:  # said once per bad value
                where: tuple[str, ...] = ("body", "vary", path)
                key: tuple[Any, ...] = (where, error["type"], json_text(values[path]))
            elif (loc, error["type"]) in shared:  # said once
                where = ("body", "base", *loc)
                key = (where, error["type"])
            else:  # said for each failing combination
                where = ("body", "vary")
                key = (where, error["type"], chosen)
            if key in seen:
                continue
            seen.add(key)
            msg = f"variation {chosen}: {'.'.join(loc) or 'spec'}: {error['msg']}"
            problems.append({"loc": where, "msg": msg, "type": error["type"]})
    raise RequestValidationError(problems)


def _overlaps(path: list[str], loc: tuple[str, ...]) -> bool:
    n = min(len(path), len(loc))
    return n > 0 and tuple(path[:n]) == loc[:n]


def sweep_status(statuses: list[str]) -> str:
    """queued (all queued), running (any active), else the common final status, or mixed."""
    if any(status in ACTIVE for status in statuses):
        return "queued" if all(status == "queued" for status in statuses) else "running"
    ended = set(statuses) - {"deleted"}
    if not ended:
        return "cancelled"  # every job was deleted
    return ended.pop() if len(ended) == 1 else "mixed"


async def sweeps_public(page: list[Sweep], sweeps: AsyncSweepStore) -> list[SweepPublic]:
    """Each sweep with its jobs' states, results and the ranking.

    The results of an ended job come from this process's memory (``sweeps.results``) once
    known; the others are read from the records, for every sweep of ``page`` in shared
    round-trips, so a listing costs about what one sweep does. The jobs' hashes are read
    every time: a deleted job shows as deleted, never with its old results.
    """
    job_ids = [job_id for sweep in page for job_id in sweep.job_ids]
    jobs = dict(zip(job_ids, await sweeps.jobs.get_many(job_ids), strict=True))
    known = _remembered(page, jobs, sweeps.results)
    learned: list[dict[str, Any]] = [{} for _ in page]
    unknown = [
        (k, job_id)
        for k, sweep in enumerate(page)
        for job_id in sweep.job_ids
        if jobs[job_id] is not None and f"init_std:{job_id}" not in sweep.cached
    ]
    firsts = await sweeps.first_records([job_id for _, job_id in unknown])
    for (k, job_id), record in zip(unknown, firsts, strict=True):
        if record is not None:
            stds = [layer["activations"]["std"] for layer in record["layers"]]
            learned[k][f"init_std:{job_id}"] = stds
    ended = [
        (k, job_id)
        for k, sweep in enumerate(page)
        for job_id in sweep.job_ids
        if (job := jobs[job_id]) is not None and job.final and f"reach:{job_id}" not in sweep.cached
    ]
    curves = await sweeps.costs([job_id for _, job_id in ended])
    for (k, job_id), curve in zip(ended, curves, strict=True):
        learned[k][f"reach:{job_id}"] = iterations_to_reach(curve, page[k].target_cost)
    for sweep, values in zip(page, learned, strict=True):  # reads never write: not stored
        sweep.cached.update(values)
    _remember(page, jobs, known, sweeps.results)
    return [_public(sweep, [jobs[job_id] for job_id in sweep.job_ids]) for sweep in page]


def _remembered(page: list[Sweep], jobs: dict[str, Job | None], results: SweepResults) -> set[str]:
    """Put the remembered results of ended jobs into their sweeps' ``cached``; forget deleted
    jobs. The ids of the jobs found."""
    found = set()
    for sweep in page:
        for job_id in sweep.job_ids:
            job = jobs[job_id]
            if job is None:
                results.forget(job_id)
            elif job.final and (derived := results.get(job_id, sweep.target_cost)) is not None:
                sweep.cached[f"init_std:{job_id}"] = derived.init_std
                sweep.cached[f"reach:{job_id}"] = derived.reach
                found.add(job_id)
    return found


def _remember(
    page: list[Sweep], jobs: dict[str, Job | None], known: set[str], results: SweepResults
) -> None:
    """Keep what was read of the ended jobs (their records no longer change)."""
    for sweep in page:
        for job_id in sweep.job_ids:
            job = jobs[job_id]
            if job is not None and job.final and job_id not in known:
                init_std = sweep.cached.get(f"init_std:{job_id}")
                reach = sweep.cached.get(f"reach:{job_id}")
                results.put(job_id, Derived(init_std, sweep.target_cost, reach))


async def sweep_public(sweep: Sweep, sweeps: AsyncSweepStore) -> SweepPublic:
    return (await sweeps_public([sweep], sweeps))[0]


def _public(sweep: Sweep, jobs: list[Job | None]) -> SweepPublic:
    entries = [
        _variation(job_id, values, job, sweep.cached)
        for job_id, values, job in zip(sweep.job_ids, sweep.values, jobs, strict=True)
    ]
    order = rank([entry.model_dump() for entry in entries])
    return SweepPublic(
        id=sweep.id,
        status=sweep_status([entry.status for entry in entries]),  # type: ignore[arg-type]
        created_at=sweep.created_at,  # type: ignore[arg-type]
        base=sweep.base,
        vary=sweep.vary,
        target_cost=sweep.target_cost,
        variations=entries,
        ranking=[entries[index].job_id for index in order],
    )


def _variation(
    job_id: str, values: dict[str, Any], job: Job | None, cached: dict[str, Any]
) -> VariationPublic:
    summary = job.summary if job is not None else None
    succeeded = job is not None and job.status == "succeeded" and summary is not None
    return VariationPublic(
        values=values,
        job_id=job_id,
        status=job.status if job is not None else "deleted",  # type: ignore[arg-type]
        progress=job.progress if job is not None else 0.0,
        summary=Summary.model_validate(summary) if summary else None,
        # a deleted job's results are gone with it, though the sweep's cache still has them
        init_activation_std=cached.get(f"init_std:{job_id}") if job is not None else None,
        iterations_to_target=cached.get(f"reach:{job_id}") if job is not None else None,
        final_cost=summary.get("final_cost") if succeeded else None,  # type: ignore[union-attr]
    )


async def cancel_sweep(sweep: Sweep, sweeps: AsyncSweepStore) -> bool:
    """Cancel the sweep's queued and running jobs; False when none was left to cancel."""
    jobs = await sweeps.jobs.get_many(sweep.job_ids)
    active = [job for job in jobs if job is not None and job.status in ACTIVE]
    for job in active:
        await sweeps.jobs.cancel(job.id, job.expire_at)
    return bool(active)
