"""What the API answers, as typed models (the server's OpenAPI components, written for people).

Unknown fields are kept (``extra="allow"``), so a newer server does not break an older client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Summary(Model):
    final_cost: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    diverged: bool = False
    diverged_at: int | None = None
    iterations_run: int | None = None
    stopped: bool = False


class JobError(Model):
    type: str
    message: str


class Job(Model):
    id: str
    status: JobStatus
    progress: float
    iteration: int | None = None
    spec: dict[str, Any]
    spec_hash: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    summary: Summary | None = None
    error: JobError | None = None
    reused_from: str | None = None

    @property
    def final(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")


class Histogram(Model):
    range: tuple[float | None, float | None]
    counts: list[int]


class Stat(Model):
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    histogram: Histogram | None = None


class LayerStats(Model):
    layer: int
    units: int
    weights: Stat
    biases: Stat
    preactivations: Stat
    activations: Stat
    weight_grads: Stat
    activation_grads: Stat
    unit_spread: float | None = None


class Boundary(Model):
    x: tuple[float, float]
    y: tuple[float, float]
    resolution: int
    p: list[list[float | None]]
    label: list[list[int]] | None = None


class Predictions(Model):
    indices: list[int]
    labels: list[int]
    predicted: list[int]
    correct: list[bool]


class Record(Model):
    iteration: int
    epoch: float | None = None
    cost: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    layers: list[LayerStats] | None = None
    boundary: Boundary | None = None
    predictions: Predictions | None = None


class MetricsPage(Model):
    job_id: str
    status: JobStatus
    records: list[Record]
    next: int | None = None


class LayerParameters(Model):
    weights: list[list[float | None]]
    biases: list[float | None]


class Parameters(Model):
    iteration: int
    layers: list[LayerParameters]


class Variation(Model):
    values: dict[str, Any]
    job_id: str
    status: JobStatus | Literal["deleted"]
    progress: float
    summary: Summary | None = None
    init_activation_std: list[float | None] | None = None
    iterations_to_target: int | None = None
    final_cost: float | None = None


class Sweep(Model):
    id: str
    status: JobStatus | Literal["mixed"]
    created_at: datetime
    base: dict[str, Any]
    vary: dict[str, list[Any]]
    target_cost: float
    variations: list[Variation]
    ranking: list[str]

    @property
    def final(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled", "mixed")


class Initializer(Model):
    name: str
    family: str
    formula: str
    variance: str
    reference: str
    note: str = ""


class Named(Model):
    name: str


class Catalog(Model):
    initializers: list[Initializer]
    activations: list[Named]
    optimizers: list[Named]
    datasets: list[Named]
    presets: list[Named]


class Preset(Model):
    name: str
    title: str
    figure: str
    description: str
    spec: dict[str, Any]
    variants: dict[str, list[Any]]


class Variances(Model):
    article: float | None = None
    mean_field: float | None = None
    one_step: float | None = None
    measured: float | None = None


class LayerVariance(Model):
    layer: int
    fan_in: int
    fan_out: int
    weight_variance: float | None = None
    preactivations: Variances
    activation_grads: Variances


class Assumption(Model):
    name: str
    holds: bool
    detail: str


class VarianceReport(Model):
    activation: str
    init: str
    samples: int
    layers: list[LayerVariance]
    assumptions: list[Assumption]
