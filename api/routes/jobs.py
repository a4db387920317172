"""Jobs: submit, read, list, metrics, parameters, dataset, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api import caching
from api.auth import AUTH_RESPONSES, Principal
from api.compact import EncodingQuery, compact
from api.deps import (
    CallerDep,
    CeleryDep,
    JobDep,
    OwnedJobDep,
    ReaderDep,
    SettingsDep,
    StoreDep,
    resolve_spec,
)
from api.errors import invalid
from api.limits import SUBMISSION, QuotaDep, accepted
from api.models import (
    RECORD_FIELDS,
    DatasetPublic,
    JobCreate,
    JobPublic,
    JobsPublic,
    Message,
    MetricsPublic,
    ParametersPublic,
)
from api.numbers import Count
from api.services.submission import submit
from engine.vocabulary import DATASETS_IMAGE
from store.async_lanes import standing
from store.codec import dumps, record_fields
from store.ids import JOB_ID
from store.jobs import Job
from store.keys import FINAL, JobStatus

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=AUTH_RESPONSES)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Message, "description": "no such job"}}
CACHED: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    304: {"description": "a finished job's answer, unchanged since the ETag given"},
}
JSON = "application/json"
FIELDS_PATTERN = "^({0})(,({0}))*$".format("|".join(RECORD_FIELDS))


def _answer(body: bytes, job: Job, request: Request, caller: Principal, encoding: str) -> Response:
    """A stored JSON document about ``job``, in ``encoding``, with its caching headers."""
    body = compact(body) if encoding == "compact" else body
    return Response(body, media_type=JSON, headers=caching.headers(job, request, caller.anonymous))


@router.post("", operation_id="createJob", **SUBMISSION)
async def create_job(
    body: JobCreate,
    response: Response,
    store: StoreDep,
    celery: CeleryDep,
    settings: SettingsDep,
    quota: QuotaDep,
) -> JobPublic:
    """Submit an experiment: 202 with ``Location``; it runs on a worker.

    When a job of the same resolved spec has succeeded (and ``force`` is not set), the new job
    is answered at once with a copy of that job's results, naming it in ``reused_from``.
    """
    spec = resolve_spec(body)
    job = await submit(
        spec, force=body.force, store=store, celery=celery, settings=settings, quota=quota
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobPublic.of(job)


@router.get("", operation_id="listJobs")
async def list_jobs(
    store: StoreDep,
    settings: SettingsDep,
    caller: CallerDep,
    status: JobStatus | None = None,
    limit: Annotated[Count | None, Query(ge=1, description="page size")] = None,
    cursor: Annotated[str | None, Query(pattern=JOB_ID.pattern, description="`next`")] = None,
) -> JobsPublic:
    """Jobs, newest first, one page at a time; filter by ``status``. With auth on, the
    caller's own jobs only."""
    limit = page_size(limit, settings.jobs_page_default, settings.jobs_page_max, "jobs")
    jobs, count, next_cursor = await store.list_jobs(status, limit, cursor, caller.owner)
    return JobsPublic(data=[JobPublic.of(job) for job in jobs], count=count, next=next_cursor)


@router.get("/{job_id}", operation_id="getJob", responses=NOT_FOUND)
async def read_job(job: JobDep, store: StoreDep, settings: SettingsDep) -> JobPublic:
    """A job: status, progress, resolved spec, summary or error; while queued, its lane,
    position and estimated start."""
    return JobPublic.of(job, await standing(store.redis, settings, job))


@router.get(
    "/{job_id}/metrics",
    operation_id="listJobMetrics",
    response_model=MetricsPublic,
    responses=CACHED,
)
async def read_metrics(
    request: Request,
    job: JobDep,
    caller: ReaderDep,
    store: StoreDep,
    settings: SettingsDep,
    start: Annotated[Count, Query(ge=0, description="first iteration")] = 0,
    stop: Annotated[Count | None, Query(ge=0, description="last iteration (inclusive)")] = None,
    every: Annotated[Count, Query(ge=1, description="keep every k-th record")] = 1,
    fields: Annotated[
        str | None,
        Query(
            description=f"comma list of record keys: {', '.join(RECORD_FIELDS)}",
            json_schema_extra={"pattern": FIELDS_PATTERN},  # the server also takes spaces
        ),
    ] = None,
    limit: Annotated[Count | None, Query(ge=1, description="records per page")] = None,
    encoding: EncodingQuery = "json",
) -> Response:
    """Recorded statistics by iteration range, downsampled and trimmed to some keys.

    ``every`` keeps the 1st, (k+1)-th, ... record from ``start`` on, counting records (not
    iterations). ``next`` is where the following page starts, null when none is stored yet:
    to follow a running job in step with ``every``, ask again from the last iteration
    returned plus ``every`` times the spec's ``record.every``.
    """
    if (unchanged := caching.not_modified(job, request, caller.anonymous)) is not None:
        return unchanged
    if stop is not None and stop < start:
        raise invalid(("query", "stop"), f"stop ({stop}) is below start ({start})")
    limit = page_size(limit, settings.metrics_page_default, settings.metrics_page_max, "records")
    keep = _record_fields(fields)
    status, records, next_start = await store.records(job.id, start, stop, every, limit)
    if status is None:
        raise HTTPException(404, f"job {job.id} not found (deleted)")
    if keep is not None:
        records = [record_fields(r, keep) for r in records]
    parts = (dumps(job.id), dumps(status), b",".join(records), dumps(next_start))
    body = b'{"job_id":%b,"status":%b,"records":[%b],"next":%b}' % parts
    return _answer(body, job, request, caller, encoding)


def page_size(limit: int | None, default: int, most: int, what: str) -> int:
    """``limit``, else the default; a 422 on ``limit`` above ``most``."""
    limit = limit or default
    if limit > most:
        raise invalid(("query", "limit"), f"at most {most} {what} per page")
    return limit


def _record_fields(fields: str | None) -> set[str] | None:
    if fields is None:
        return None
    names = {name.strip() for name in fields.split(",") if name.strip()}
    unknown = sorted(names.difference(RECORD_FIELDS))
    if unknown:
        known = ", ".join(RECORD_FIELDS)
        raise invalid(("query", "fields"), f"unknown record keys {unknown}; known: {known}")
    return names | {"iteration"}


@router.get(
    "/{job_id}/parameters",
    operation_id="getJobParameters",
    response_model=ParametersPublic,
    responses=CACHED,
)
async def read_parameters(
    request: Request,
    job: JobDep,
    caller: ReaderDep,
    store: StoreDep,
    iteration: Annotated[Count | None, Query(ge=0, description="default: the last")] = None,
    encoding: EncodingQuery = "json",
) -> Response:
    """Weights and biases at a snapshot: iteration 0, the last, and every record.parameters."""
    if (unchanged := caching.not_modified(job, request, caller.anonymous)) is not None:
        return unchanged
    snapshot, available = await store.parameters(job.id, iteration)
    if snapshot is None:
        if not available:
            raise HTTPException(404, f"job {job.id} has no snapshot yet (status {job.status})")
        reason = f"no snapshot at iteration {iteration}; there are at {_shorten(available)}"
        raise HTTPException(404, reason)
    return _answer(snapshot, job, request, caller, encoding)


def _shorten(values: list[int], most: int = 20) -> str:
    if len(values) <= most:
        return ", ".join(map(str, values))
    head, tail = values[: most // 2], values[-most // 2 :]
    return f"{', '.join(map(str, head))}, ..., {', '.join(map(str, tail))} ({len(values)} in all)"


@router.get(
    "/{job_id}/dataset",
    operation_id="getJobDataset",
    response_model=DatasetPublic,
    responses=CACHED,
)
async def read_dataset(
    request: Request, job: JobDep, caller: ReaderDep, store: StoreDep
) -> Response:
    """The exact points a 2D job trained and tested on."""
    if (unchanged := caching.not_modified(job, request, caller.anonymous)) is not None:
        return unchanged
    name = job.spec.get("dataset", {}).get("name")
    if name in DATASETS_IMAGE:
        reason = f"job {job.id} trained on {name}, an image dataset: no data is stored per job"
        raise HTTPException(404, reason)
    raw = await store.dataset(job.id)
    if raw is None:
        reason = f"job {job.id} has no dataset yet (status {job.status}); it is stored at start"
        raise HTTPException(404, reason)
    return _answer(raw, job, request, caller, "json")


@router.post(
    "/{job_id}/cancel",
    operation_id="cancelJob",
    status_code=202,
    responses={
        202: accepted("accepted: the job ends cancelled (at once when queued)"),
        **NOT_FOUND,
        409: {"model": Message, "description": "already finished"},
    },
)
async def cancel_job(job: OwnedJobDep, store: StoreDep, response: Response) -> JobPublic:
    """Stop a queued or running job; it ends ``cancelled`` and keeps its records."""
    before = job.status if job.status in FINAL else await store.cancel(job.id, job.expire_at)
    if before is None:
        raise HTTPException(404, f"job {job.id} not found (deleted)")
    if before in FINAL:
        raise HTTPException(409, f"job {job.id} already {before}; nothing to cancel")
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobPublic.of(await store.get(job.id) or job)


@router.delete("/{job_id}", operation_id="deleteJob", status_code=204, responses=NOT_FOUND)
async def delete_job(job: OwnedJobDep, store: StoreDep) -> Response:
    """Cancel the job if active and delete everything stored for it."""
    await store.delete(job)
    return Response(status_code=204)
