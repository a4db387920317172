"""Sweeps: SweepPublic (with its variations) and the sweep listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.models.jobs import Summary
from api.models.schema import refer
from store.keys import JobStatus

SweepStatus = JobStatus | Literal["mixed"]


class VariationPublic(BaseModel):
    values: dict[str, Any] = Field(
        description="the varied fields' values (path -> value)",
        json_schema_extra=refer("SweepValues"),
    )
    job_id: str
    status: JobStatus | Literal["deleted"] = Field(description="deleted: the job is gone")
    progress: float
    summary: Summary | None = Field(description="set once the job has ended")
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
    base: dict[str, Any] = Field(json_schema_extra=refer("SpecRequest"))
    vary: dict[str, list[Any]] = Field(json_schema_extra=refer("SweepVary"))
    target_cost: float
    variations: list[VariationPublic]
    ranking: list[str] = Field(
        description="job ids, best first: by final cost, then iterations to the target cost"
    )


class SweepsPublic(BaseModel):
    data: list[SweepPublic]
    count: int
    next: str | None
