"""Sweeps: one base spec, several variations run as jobs, compared side by side."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from api.auth import AUTH_RESPONSES, require_key
from api.deps import CallerDep, CeleryDep, SettingsDep, StoreDep
from api.errors import ORJSONResponse
from api.limits import SUBMISSION, QuotaDep, accepted
from api.models import Message, SweepCreate, SweepPublic, SweepsPublic
from api.numbers import Count
from api.services import sweeps as sweeps_service
from api.services.sweeps import sweep_public, sweeps_public
from store.async_sweeps import AsyncSweepStore, Sweep
from store.ids import JOB_ID, is_job_id

router = APIRouter(
    prefix="/v1/sweeps",
    tags=["sweeps"],
    default_response_class=ORJSONResponse,
    dependencies=[Depends(require_key)],
    responses=AUTH_RESPONSES,
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message, "description": "no sweep"}}
PAGE_DEFAULT, PAGE_MAX = 20, 100


async def get_sweeps(store: StoreDep, request: Request) -> AsyncSweepStore:
    return AsyncSweepStore(store, request.app.state.sweep_results)


SweepStoreDep = Annotated[AsyncSweepStore, Depends(get_sweeps)]


async def get_sweep(
    sweep_id: Annotated[str, Path(pattern=f"^{JOB_ID.pattern}$", description="32 hex digits")],
    sweeps: SweepStoreDep,
    caller: CallerDep,
) -> Sweep:
    sweep = await sweeps.get(sweep_id) if is_job_id(sweep_id) else None
    if sweep is None or not caller.owns(sweep.owner):  # another key's: as if unknown
        raise HTTPException(404, f"sweep {sweep_id} not found (unknown, deleted or expired)")
    return sweep


SweepDep = Annotated[Sweep, Depends(get_sweep)]


@router.post("", operation_id="createSweep", **SUBMISSION)
async def create_sweep(
    body: SweepCreate,
    response: Response,
    store: StoreDep,
    sweeps: SweepStoreDep,
    celery: CeleryDep,
    settings: SettingsDep,
    quota: QuotaDep,
) -> SweepPublic:
    """Run every variation of a base spec as a job: 202 with ``Location``.

    Every variation is validated before any job is created. Variations whose resolved spec
    has succeeded before reuse its results unless ``force`` is set, like single jobs.
    """
    context = {"store": store, "sweeps": sweeps, "celery": celery, "settings": settings}
    sweep = await sweeps_service.create_sweep(body, quota=quota, **context)
    response.headers["Location"] = f"/v1/sweeps/{sweep.id}"
    return await sweep_public(sweep, sweeps)


@router.get("", operation_id="listSweeps")
async def list_sweeps(
    sweeps: SweepStoreDep,
    caller: CallerDep,
    limit: Annotated[Count, Query(ge=1, le=PAGE_MAX, description="page size")] = PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(pattern=JOB_ID.pattern, description="`next`")] = None,
) -> SweepsPublic:
    """Sweeps, newest first, one page at a time (with auth on, the caller's own)."""
    page, count, next_cursor = await sweeps.page(limit, cursor, caller.owner)
    data = await sweeps_public(page, sweeps)
    return SweepsPublic(data=data, count=count, next=next_cursor)


@router.get("/{sweep_id}", operation_id="getSweep", responses=NOT_FOUND)
async def read_sweep(sweep: SweepDep, sweeps: SweepStoreDep) -> SweepPublic:
    """Each variation's job, status, summary, activation std at init, and the ranking."""
    return await sweep_public(sweep, sweeps)


@router.post(
    "/{sweep_id}/cancel",
    operation_id="cancelSweep",
    status_code=202,
    responses={
        202: accepted("accepted: its jobs end cancelled"),
        **NOT_FOUND,
        409: {"model": Message, "description": "no job left to cancel"},
    },
)
async def cancel_sweep(sweep: SweepDep, sweeps: SweepStoreDep, response: Response) -> SweepPublic:
    """Stop every queued or running job of the sweep; they end ``cancelled``."""
    if not await sweeps_service.cancel_sweep(sweep, sweeps):
        raise HTTPException(409, f"sweep {sweep.id} has no queued or running job to cancel")
    response.headers["Location"] = f"/v1/sweeps/{sweep.id}"
    return await sweep_public(sweep, sweeps)


@router.delete("/{sweep_id}", operation_id="deleteSweep", status_code=204, responses=NOT_FOUND)
async def delete_sweep(sweep: SweepDep, sweeps: SweepStoreDep) -> Response:
    """Delete every job of the sweep (cancelling active ones), then the sweep: 204, then 404."""
    await sweeps.delete(sweep, await sweeps.jobs.get_many(sweep.job_ids))
    return Response(status_code=204)
