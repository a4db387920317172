"""Request and response models: JobCreate in, JobPublic / JobsPublic / ... out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.spec import SpecRequest
from store.jobs import Job
from store.keys import JobStatus
from store.lanes import Standing

# top-level keys of a record (README "Records"); `fields` picks among them
RECORD_FIELDS = (
    "iteration", "epoch", "cost", "train_accuracy", "test_accuracy",
    "layers", "boundary", "predictions", "signal",
)  # fmt: skip


class JobCreate(SpecRequest):
    """An experiment spec; ``force`` runs it even if an identical job is stored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [
            {"preset": "playground", "init": {"method": "too_large"}},
            {"dataset": {"name": "moon"}, "init": {"method": "he_normal"},
             "optimizer": {"name": "adam", "learning_rate": 0.01},
             "training": {"iterations": 500}, "force": True},
        ]
    })  # fmt: skip

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
    spec: dict[str, Any] = Field(description="the resolved spec, every default filled in")
    spec_hash: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    summary: dict[str, Any] | None
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
            summary=job.summary,
            error=JobError(**job.error) if job.error else None,
            reused_from=job.reused_from,
            queue=QueuePublic.of(standing),
            links=links,
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int = Field(description="jobs in the listing (all pages)")
    next: str | None = Field(description="the `cursor` of the next page; null on the last")


class MetricsPublic(BaseModel):
    job_id: str
    status: JobStatus
    records: list[dict[str, Any]] = Field(
        description="records in iteration order (the README's 'Records')"
    )
    next: int | None = Field(description="`start` of the next page; null: no more records now")


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


class PresetsPublic(BaseModel):
    data: list[dict[str, Any]]
    count: int


SweepStatus = JobStatus | Literal["mixed"]


class VariationPublic(BaseModel):
    values: dict[str, Any] = Field(description="the varied fields' values (path -> value)")
    job_id: str
    status: JobStatus | Literal["deleted"] = Field(description="deleted: the job is gone")
    progress: float
    summary: dict[str, Any] | None
    init_activation_std: list[float | None] | None = Field(
        description="std of each layer's activations at iteration 0 (output layer last)"
    )
    iterations_to_target: int | None = Field(
        description="first recorded iteration with cost <= target_cost; null if never or "
        "while the job has not ended"
    )
    final_cost: float | None = Field(description="the summary's final cost, once succeeded")


class SweepPublic(BaseModel):
    id: str
    status: SweepStatus = Field(
        description="queued: every job queued; running: some job queued or running; once all "
        "ended, their common status, or mixed when they differ (deleted jobs are left out)"
    )
    created_at: datetime
    base: dict[str, Any]
    vary: dict[str, list[Any]]
    target_cost: float
    variations: list[VariationPublic]
    ranking: list[str] = Field(
        description="job ids, best first: by final cost, then iterations to the target cost"
    )


class SweepsPublic(BaseModel):
    data: list[SweepPublic]
    count: int
    next: str | None


class Message(BaseModel):
    detail: str


class SharePublic(BaseModel):
    token: str = Field(description="pass as `?share=TOKEN` or the `X-Share-Token` header")
    job_id: str
    expires_at: datetime
    urls: dict[str, str] = Field(
        description="the job's readable resources, plots and embeddable views, token included"
    )
