"""Creating a job from a resolved spec: the one path POST /v1/jobs and POST /v1/sweeps share."""

from __future__ import annotations

from functools import partial

from celery import Celery

from api.limits import Quota
from engine.experiment import ExperimentSpec
from store.async_store import AsyncJobStore
from store.estimate import storage_bytes
from store.ids import new_job_id
from store.jobs import Job
from store.lanes import route
from store.queue import task_message
from store.settings import Settings


async def submit(
    spec: ExperimentSpec,
    *,
    force: bool,
    store: AsyncJobStore,
    celery: Celery,
    settings: Settings,
    quota: Quota,
    job_id: str | None = None,
) -> Job:
    """A new job for ``spec``, owned by the quota's caller.

    Unless ``force``, when the caller's latest job of the same resolved spec has succeeded, the
    new job is a succeeded copy of its results (``reused_from``), made at once in Redis; no
    other key's job is ever reused. Otherwise it is queued for a worker (an identical job
    still queued or running is not waited for). Without ``job_id``, the caller's and the
    service's active-job limits and the store's room are checked here; with it, the caller
    reserved that id (``Quota.reserve``, with the job's storage) and releases it if no job is
    made with it.
    """
    spec_hash, ttl = spec.spec_hash(), settings.job_ttl_seconds
    size = storage_bytes(spec)
    if not force:  # a copy takes what the job took: room for it first, or a 507
        held = f"reuse-{new_job_id()}"
        await quota.reserve_storage([held], [size])
        try:
            reused = await store.reuse(spec_hash, ttl, quota.owner)
        finally:
            await quota.release([held])
        if reused is not None:
            return reused
    reserved_here = job_id is None
    if job_id is None:
        [job_id] = await quota.reserve(1, [size])
    # its lane by estimated work, its share of the lane by who submits it (store/lanes.py)
    queue = route(settings, spec.work_flops(), quota.caller.subject)
    spec_json, task = spec.model_dump(mode="json"), partial(task_message, celery, queue=queue)
    try:  # the job and its task in one transaction (the broker is the store's Redis)
        return await store.create(spec_json, spec_hash, ttl, task, owner=quota.owner, job_id=job_id)
    except Exception:
        if reserved_here:
            await quota.release([job_id])
        raise
