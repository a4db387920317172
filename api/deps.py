"""Typed dependencies for the routes: the settings, the job store, the queue, the caller, a job
by id (one the caller may read, or one it owns)."""

from __future__ import annotations

from typing import Annotated

from celery import Celery
from fastapi import Depends, HTTPException, Path, Request
from pydantic import ValidationError

from api.auth import Principal, check_shared, require_key, require_reader
from api.errors import body_error
from api.services.theory import TheoryPool
from engine.experiment import ExperimentSpec
from engine.spec import SpecRequest, resolve
from store.async_store import AsyncJobStore
from store.ids import JOB_ID, is_job_id
from store.jobs import Job
from store.settings import Settings


# async, though they do not wait: FastAPI runs a plain `def` dependency in a thread
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_store(request: Request) -> AsyncJobStore:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_celery(request: Request) -> Celery:
    return request.app.state.celery  # type: ignore[no-any-return]


async def get_theory(request: Request) -> TheoryPool:
    return request.app.state.theory  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[AsyncJobStore, Depends(get_store)]
CeleryDep = Annotated[Celery, Depends(get_celery)]
TheoryDep = Annotated[TheoryPool, Depends(get_theory)]  # CPU-heavy theory, off the API process
CallerDep = Annotated[Principal, Depends(require_key)]  # an API key (when auth is on)
ReaderDep = Annotated[Principal, Depends(require_reader)]  # an API key or a share token
JobIdPath = Annotated[str, Path(pattern=f"^{JOB_ID.pattern}$", description="32 hex digits")]


async def _visible_job(job_id: str, store: AsyncJobStore, caller: Principal) -> Job:
    """The job, or the same 404 for an unknown id and for another key's job."""
    check_shared(caller, job_id)
    job = await store.get_batched(job_id) if is_job_id(job_id) else None
    if job is None or not (caller.owns(job.owner) or caller.shared_job == job.id):
        raise HTTPException(404, f"job {job_id} not found (unknown, deleted or expired)")
    return job


async def get_job(job_id: JobIdPath, store: StoreDep, caller: ReaderDep) -> Job:
    return await _visible_job(job_id, store, caller)


async def get_owned_job(job_id: JobIdPath, store: StoreDep, caller: CallerDep) -> Job:
    return await _visible_job(job_id, store, caller)


JobDep = Annotated[Job, Depends(get_job)]  # to read: its owner's key or its share token
OwnedJobDep = Annotated[Job, Depends(get_owned_job)]  # to act on it: its owner's key


def resolve_spec(request: SpecRequest | dict[str, object]) -> ExperimentSpec:
    """The resolved spec, or a 422 naming the failing field under ``body``."""
    try:
        return resolve(request)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise body_error(exc) from None
