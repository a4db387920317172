"""Creating a job from a resolved spec: the one path POST /v1/jobs and POST /v1/sweeps share."""

from __future__ import annotations

from functools import partial

from celery import Celery
from fastapi import HTTPException

from engine.spec import ExperimentSpec
from worker.async_store import AsyncJobStore
from worker.celery_app import task_message
from worker.config import Settings
from worker.store import Job


async def ensure_capacity(store: AsyncJobStore, settings: Settings, new_jobs: int) -> None:
    """429 unless ``new_jobs`` more queued jobs stay within ``max_active_jobs``."""
    if await store.active_count() + new_jobs > settings.max_active_jobs:
        busy = f"{settings.max_active_jobs} jobs at most may be queued or running; retry later"
        raise HTTPException(429, busy)


async def submit(
    spec: ExperimentSpec,
    *,
    force: bool,
    store: AsyncJobStore,
    celery: Celery,
    settings: Settings,
    check_capacity: bool = True,
) -> Job:
    """A new job for ``spec``.

    Unless ``force``, when the latest job of the same resolved spec has succeeded, the new job
    is a succeeded copy of its results (``reused_from``), made at once in Redis. Otherwise it
    is queued for a worker (an identical job still queued or running is not waited for).
    """
    spec_hash = spec.spec_hash()
    if not force:
        reused = await store.reuse(spec_hash, settings.job_ttl_seconds)
        if reused is not None:
            return reused
    if check_capacity:
        await ensure_capacity(store, settings, 1)
    spec_json, ttl = spec.model_dump(mode="json"), settings.job_ttl_seconds
    # the job and its task in one transaction (the broker is the store's Redis)
    return await store.create(spec_json, spec_hash, ttl, task=partial(task_message, celery))
