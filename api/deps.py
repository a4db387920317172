"""Typed dependencies for the routes: the settings, the job store, the queue, a job by id."""

from __future__ import annotations

from typing import Annotated

from celery import Celery
from fastapi import Depends, HTTPException, Path, Request
from pydantic import ValidationError

from api.config import Settings
from api.errors import body_error
from engine.spec import ExperimentSpec, SpecRequest, resolve
from worker.async_store import AsyncJobStore
from worker.store import Job, is_job_id


# async, though they do not wait: FastAPI runs a plain `def` dependency in a thread
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_store(request: Request) -> AsyncJobStore:
    return request.app.state.store  # type: ignore[no-any-return]


async def get_celery(request: Request) -> Celery:
    return request.app.state.celery  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[AsyncJobStore, Depends(get_store)]
CeleryDep = Annotated[Celery, Depends(get_celery)]


async def get_job(
    job_id: Annotated[str, Path(description="the job id (32 hex digits)")],
    store: StoreDep,
) -> Job:
    job = await store.get(job_id) if is_job_id(job_id) else None
    if job is None:
        raise HTTPException(404, f"job {job_id} not found (unknown, deleted or expired)")
    return job


JobDep = Annotated[Job, Depends(get_job)]


def resolve_spec(request: SpecRequest | dict[str, object]) -> ExperimentSpec:
    """The resolved spec, or a 422 naming the failing field under ``body``."""
    try:
        return resolve(request)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise body_error(exc) from None
