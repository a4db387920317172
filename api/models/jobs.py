"""Jobs: JobCreate in; JobPublic, JobsPublic, ParametersPublic, DatasetPublic, SharePublic out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models.schema import refer
from api.models.specs import SpecRequest, typed_spec
from store.jobs import Job
from store.keys import JobStatus
from store.lanes import Standing


class JobCreate(SpecRequest):
    """An experiment spec; ``force`` runs it even if an identical job is stored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=typed_spec([
        {"preset": "playground", "init": {"method": "too_large"}},
        {"dataset": {"name": "moon"}, "init": {"method": "he_normal"},
         "optimizer": {"name": "adam", "learning_rate": 0.01},
         "training": {"iterations": 500}, "force": True},
    ]))  # fmt: skip

    force: bool = Field(
        False,
        description="run the spec even when a job with the same resolved spec has succeeded "
        "(by default the new job copies that job's results at once: equal specs give equal "
        "records, and `reused_from` names the job that ran)",
    )

    def overrides(self) -> dict[str, Any]:  # what engine.spec.resolve lays over the preset
        return self.model_dump(exclude={"preset", "force"}, exclude_none=True)


class JobError(BaseModel):
    type: str
    message: str


class Summary(BaseModel):
    """How a job ended, over the whole training and test split (not one batch)."""

    # lenient in (a field a stored summary lacks takes its default), every field out
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    final_cost: float | None = Field(None, description="null when the run diverged")
    train_accuracy: float | None = None
    test_accuracy: float | None = Field(None, description="null without a test split")
    diverged: bool = False
    diverged_at: int | None = Field(None, description="first iteration with a non-finite value")
    iterations_run: int | None = None
    stopped: bool = Field(False, description="cancelled before its last iteration")


class JobLinks(BaseModel):
    self: str
    metrics: str
    events: str
    parameters: str
    dataset: str


class QueuePublic(BaseModel):
    lane: Literal["interactive", "batch"] = Field(description="chosen by the estimated work")
    position: int = Field(
        ge=0, description="jobs of the lane expected to start before this one (0: next)"
    )
    estimated_start: datetime | None = Field(
        description="from the lane's mean run time and its position; null before the lane "
        "has ended a job"
    )

    @classmethod
    def of(cls, standing: Standing | None) -> QueuePublic | None:
        if standing is None:
            return None
        start = None
        if standing.wait_seconds is not None:
            start = datetime.now(UTC) + timedelta(seconds=standing.wait_seconds)
        return cls(lane=standing.lane, position=standing.position, estimated_start=start)


class JobPublic(BaseModel):
    id: str
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    iteration: int | None = Field(description="the last recorded iteration")
    spec: dict[str, Any] = Field(
        description="the resolved spec, every default filled in",
        json_schema_extra=refer("ResolvedExperimentSpec"),
    )
    spec_hash: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: Summary | None = Field(description="set once the job has ended")
    error: JobError | None
    reused_from: str | None = Field(
        description="the job whose stored results this one copied (null: it ran itself)"
    )
    queue: QueuePublic | None = Field(
        None, description="while queued (GET /v1/jobs/{id}): where it stands in its lane"
    )
    links: JobLinks

    @classmethod
    def of(cls, job: Job, standing: Standing | None = None) -> JobPublic:
        base = f"/v1/jobs/{job.id}"
        links = JobLinks(
            self=base,
            metrics=f"{base}/metrics",
            events=f"{base}/events",
            parameters=f"{base}/parameters",
            dataset=f"{base}/dataset",
        )
        return cls(
            id=job.id,
            status=job.status,  # type: ignore[arg-type]
            progress=job.progress,
            iteration=job.iteration,
            spec=job.spec,
            spec_hash=job.spec_hash,
            created_at=job.created_at,  # type: ignore[arg-type]
            started_at=job.started_at,  # type: ignore[arg-type]
            finished_at=job.finished_at,  # type: ignore[arg-type]
            summary=Summary.model_validate(job.summary) if job.summary else None,
            error=JobError(**job.error) if job.error else None,
            reused_from=job.reused_from,
            queue=QueuePublic.of(standing),
            links=links,
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int = Field(description="jobs in the listing (all pages)")
    next: str | None = Field(description="the `cursor` of the next page; null on the last")


class LayerParameters(BaseModel):
    weights: list[list[float | None]] = Field(description="shape (n[l], n[l-1])")
    biases: list[float | None]


class ParametersPublic(BaseModel):
    iteration: int
    layers: list[LayerParameters]


class Points(BaseModel):
    x: list[list[float]]
    y: list[int]


class DatasetPublic(BaseModel):
    train: Points
    test: Points


class Error(BaseModel):
    """Every refusal but a 422: what went wrong, in words a person can act on."""

    detail: str


Message = Error  # the name the routes know it by


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='where: ["body", "init", "method"], ["query", ...]')
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: every failing field, by its location."""

    detail: list[FieldError]


class SharePublic(BaseModel):
    token: str = Field(description="pass as `?share=TOKEN` or the `X-Share-Token` header")
    job_id: str
    expires_at: datetime
    urls: dict[str, str] = Field(
        description="the job's readable resources, plots and embeddable views, token included"
    )
