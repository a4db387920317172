"""Creating a job from a resolved spec: the one path POST /v1/jobs and POST /v1/sweeps share."""

from __future__ import annotations

from functools import partial

from celery import Celery
from fastapi import HTTPException

from api.limits import Quota
from engine.spec import ExperimentSpec
from worker.async_store import AsyncJobStore
from worker.celery_app import task_message
from worker.config import Settings
from worker.store import Job


async def ensure_capacity(store: AsyncJobStore, settings: Settings, new_jobs: int) -> None:
    """429 unless ``new_jobs`` more queued jobs stay within ``max_active_jobs``."""
    if await store.active_count() + new_jobs > settings.max_active_jobs:
        limit = settings.max_active_jobs
        busy = f"service limit: {limit} jobs at most may be queued or running; retry later"
        raise HTTPException(429, busy)


async def submit(
    spec: ExperimentSpec,
    *,
    force: bool,
    store: AsyncJobStore,
    celery: Celery,
    settings: Settings,
    quota: Quota,
    job_id: str | None = None,
    check_capacity: bool = True,
) -> Job:
    """A new job for ``spec``, owned by the quota's caller.

    Unless ``force``, when the caller's latest job of the same resolved spec has succeeded, the
    new job is a succeeded copy of its results (``reused_from``), made at once in Redis; no
    other key's job is ever reused. Otherwise it is queued for a worker (an identical job
    still queued or running is not waited for). With ``check_capacity``, the service's and the
    caller's active-job limits are checked here; else the caller did it and passes the
    ``job_id`` it reserved.
    """
    spec_hash, ttl = spec.spec_hash(), settings.job_ttl_seconds
    if not force:
        reused = await store.reuse(spec_hash, ttl, quota.owner)
        if reused is not None:
            return reused
    if check_capacity:
        await ensure_capacity(store, settings, 1)
        [job_id] = await quota.reserve(1)
    spec_json, task = spec.model_dump(mode="json"), partial(task_message, celery)
    try:  # the job and its task in one transaction (the broker is the store's Redis)
        return await store.create(spec_json, spec_hash, ttl, task, owner=quota.owner, job_id=job_id)
    except Exception:
        await quota.release([job_id])
        raise
