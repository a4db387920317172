"""A job's figures as SVG (matplotlib), rendered from its stored records, for ``<img>`` tags."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api import caching
from api.auth import AUTH_RESPONSES
from api.deps import JobDep, ReaderDep, StoreDep
from api.models import Message
from api.numbers import Count
from store.async_store import AsyncJobStore
from store.codec import loads
from store.jobs import Job

router = APIRouter(prefix="/v1/jobs", tags=["plots"], responses=AUTH_RESPONSES)

PLOTS = ("cost", "boundary", "histograms", "decay", "spectrum")
MAX_COST_POINTS = 2000  # the cost curve is downsampled to about this many points
PAGE = 5000
SVG = "image/svg+xml"
HistogramField = Literal[
    "weights", "biases", "preactivations", "activations", "weight_grads", "activation_grads"
]


def svg_responses(missing: str, unchanged: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of a plot route: the image, a 404 saying ``missing``, a 304."""
    return {
        200: {"content": {SVG: {"schema": {"type": "string"}}}, "description": "an SVG image"},
        404: {"model": Message, "description": missing},
        304: {"description": unchanged},
    }


def _title(job: Job, iteration: int | None = None) -> str:
    spec = job.spec
    parts = [spec["init"]["method"], spec["dataset"]["name"], spec["model"]["activation"]]
    if iteration is not None:
        parts.append(f"iteration {iteration}")
    return " · ".join(parts)


async def _records(
    store: AsyncJobStore, job_id: str, start: int, stop: int | None, every: int = 1
) -> list[dict[str, Any]]:
    """Every stored record of iterations start..stop (every ``every``-th), parsed."""
    records: list[dict[str, Any]] = []
    next_start: int | None = start
    while next_start is not None:
        status, raw, next_start = await store.records(job_id, next_start, stop, every, PAGE)
        if status is None:
            raise HTTPException(404, f"job {job_id} not found (deleted)")
        records.extend(loads(r) for r in raw)
    return records


async def _latest_with(
    store: AsyncJobStore, job: Job, has: Callable[[dict[str, Any]], bool], every: int, at: int
) -> dict[str, Any] | None:
    """The last record at or before iteration ``at`` for which ``has`` holds."""
    span = math.lcm(max(every, 1), job.spec["record"]["every"])
    for start in (max(0, at - span), 0):  # the recent window first, then everything
        found = [r for r in await _records(store, job.id, start, at) if has(r)]
        if found:
            return found[-1]
    return None


def _last_iteration(job: Job, iteration: int | None) -> int:
    if job.iteration is None:
        raise HTTPException(404, f"job {job.id} has no records yet (status {job.status})")
    if iteration is not None and iteration > job.iteration:
        reason = f"job {job.id} has recorded up to iteration {job.iteration}, not {iteration}"
        raise HTTPException(404, reason)
    return job.iteration if iteration is None else iteration


async def _cost(job: Job, store: AsyncJobStore, iteration: int | None) -> bytes:
    from api.svg_plots import cost_svg

    stop = _last_iteration(job, iteration)
    every = max(1, math.ceil(stop / job.spec["record"]["every"] / MAX_COST_POINTS))
    records = await _records(store, job.id, 0, stop, every)
    if every > 1 and records and records[-1]["iteration"] < stop:  # the curve ends where it ends
        records += (await _records(store, job.id, stop, stop))[-1:]
    return await run_in_threadpool(cost_svg, records, _title(job))


async def _boundary(job: Job, store: AsyncJobStore, iteration: int | None) -> bytes:
    from api.svg_plots import boundary_svg

    spec = job.spec
    if spec["dataset"]["name"] == "mnist" or not spec["record"]["boundary"]["every"]:
        reason = f"job {job.id} records no decision boundary (2D datasets with boundary.every > 0)"
        raise HTTPException(404, reason)
    at = _last_iteration(job, iteration)
    every = spec["record"]["boundary"]["every"]
    record = await _latest_with(store, job, lambda r: "boundary" in r, every, at)
    if record is None:
        raise HTTPException(404, f"job {job.id} has no boundary at or before iteration {at}")
    raw = await store.dataset(job.id)
    points = loads(raw)["train"] if raw else None
    return await run_in_threadpool(boundary_svg, record, points, _title(job, record["iteration"]))


async def _histograms(job: Job, store: AsyncJobStore, iteration: int | None, field: str) -> bytes:
    from api.svg_plots import histograms_svg

    hist = job.spec["record"]["histograms"]
    if not hist["every"] or field not in hist["fields"]:
        reason = (
            f"job {job.id} records no histograms of {field} "
            f"(record.histograms: every {hist['every']}, fields {hist['fields']})"
        )
        raise HTTPException(404, reason)
    at = _last_iteration(job, iteration)

    def has(record: dict[str, Any]) -> bool:
        return any((layer.get(field) or {}).get("histogram") for layer in record["layers"])

    record = await _latest_with(store, job, has, hist["every"], at)
    if record is None:
        raise HTTPException(404, f"job {job.id} has no histogram at or before iteration {at}")
    title = f"{field.replace('_', ' ')} · {_title(job, record['iteration'])}"
    return await run_in_threadpool(histograms_svg, record, field, title)


async def _signal(job: Job, store: AsyncJobStore, iteration: int | None, name: str) -> bytes:
    """The record's signal section: c_l against theory (decay), or the Jacobian's spectrum."""
    from api.svg_signal import decay_svg, spectrum_svg

    every = job.spec["record"].get("signal", {}).get("every", 0)
    if not every:
        reason = f"job {job.id} records no signal section (record.signal.every > 0)"
        raise HTTPException(404, reason)
    at = _last_iteration(job, iteration)
    record = await _latest_with(store, job, lambda r: "signal" in r, every, at)
    if record is None:
        raise HTTPException(404, f"job {job.id} has no signal section at or before iteration {at}")
    signal, title = record["signal"], _title(job, record["iteration"])
    if name == "decay":
        if not signal["layers"]:
            raise HTTPException(404, f"job {job.id} has no hidden layer to measure")
        return await run_in_threadpool(decay_svg, signal, f"correlation · {title}")
    if signal["jacobian"] is None:
        reason = f"job {job.id} has no Jacobian spectrum (two hidden layers or more, finite)"
        raise HTTPException(404, reason)
    return await run_in_threadpool(spectrum_svg, signal["jacobian"], f"Jacobian · {title}")


@router.get(
    "/{job_id}/plots/{name}.svg",
    operation_id="getJobPlot",
    response_class=Response,
    responses=svg_responses(
        missing="no such job, plot, or nothing to draw yet",
        unchanged="a finished job's plot, unchanged since the ETag given",
    ),
)
async def read_plot(
    request: Request,
    job: JobDep,
    store: StoreDep,
    caller: ReaderDep,
    name: Literal[PLOTS],  # type: ignore[valid-type]
    iteration: Annotated[
        Count | None, Query(ge=0, description="draw the state at this iteration; default the last")
    ] = None,
    field: Annotated[HistogramField, Query(description="histograms: which statistic")] = (
        "activations"
    ),
) -> Response:
    """The job's cost curve, decision boundary, per-layer histograms, or from its signal
    section the correlation decay against theory or the Jacobian spectrum, as an SVG image."""
    if (unchanged := caching.not_modified(job, request, caller.anonymous)) is not None:
        return unchanged
    if name == "cost":
        body = await _cost(job, store, iteration)
    elif name == "boundary":
        body = await _boundary(job, store, iteration)
    elif name == "histograms":
        body = await _histograms(job, store, iteration, field)
    elif name in ("decay", "spectrum"):
        body = await _signal(job, store, iteration, name)
    else:
        raise HTTPException(404, f"unknown plot {name!r}; known: {', '.join(PLOTS)}")
    # with auth on, no shared cache may keep a private job's plot
    return Response(body, media_type=SVG, headers=caching.headers(job, request, caller.anonymous))
