"""The menus (catalog), the article's presets, and the variance theory's report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models.schema import refer
from store.keys import JobStatus


class InitParameter(BaseModel):
    name: str
    default: float | int | str | None
    minimum: float | None
    maximum: float | None
    description: str
    choices: list[str]


class Initializer(BaseModel):
    name: str = Field(description="an `init.method`")
    family: str
    formula: str
    variance: str = Field(description="Var(W) as text")
    parameters: list[InitParameter] = Field(description="the `init` fields it reads")
    reference: str
    note: str


class Activation(BaseModel):
    name: str
    formula: str
    gain: float = Field(description="the gain torch.nn.init.calculate_gain gives it")


class OptimizerParameter(BaseModel):
    name: str
    default: float | int | bool | None


class Optimizer(BaseModel):
    name: str
    update: str
    parameters: list[OptimizerParameter]


class DatasetInfo(BaseModel):
    name: str
    kind: Literal["2d", "image"]
    classes: int
    inputs: int
    description: str


class PresetInfo(BaseModel):
    name: str
    title: str
    figure: str
    variants: dict[str, list[Any]] = Field(json_schema_extra=refer("SweepVary"))


class JobStatuses(BaseModel):
    all: list[JobStatus]
    active: list[JobStatus]
    final: list[JobStatus]


class Catalog(BaseModel):
    """Everything a frontend needs for its menus."""

    initializers: list[Initializer]
    activations: list[Activation]
    optimizers: list[Optimizer]
    datasets: list[DatasetInfo]
    presets: list[PresetInfo]
    job_statuses: JobStatuses


class Preset(BaseModel):
    name: str
    title: str
    figure: str
    description: str
    spec: dict[str, Any] = Field(
        description="fully resolved", json_schema_extra=refer("ResolvedExperimentSpec")
    )
    variants: dict[str, list[Any]] = Field(
        description="what the figure compares: a sweep's `vary`",
        json_schema_extra=refer("SweepVary"),
    )


class PresetsPublic(BaseModel):
    data: list[Preset]
    count: int


class Variances(BaseModel):
    """One quantity's second moment: three predictions beside the measurement."""

    article: float | None = Field(description="the article's linear recursion")
    mean_field: float | None = Field(description="with exact Gaussian moments of the activation")
    one_step: float | None = Field(description="one step from the measured neighbouring layer")
    measured: float | None


class LayerVariance(BaseModel):
    layer: int
    fan_in: int
    fan_out: int
    weight_variance: float | None
    preactivations: Variances
    activation_grads: Variances = Field(description="null numbers on the output layer")


class Assumption(BaseModel):
    name: str
    holds: bool
    detail: str


class StoreUsage(BaseModel):
    """The job store's memory: what new jobs are admitted against (README "A full store")."""

    used_bytes: int = Field(description="Redis's used_memory")
    limit_bytes: int = Field(description="Redis's maxmemory; 0: no limit")
    reserved_bytes: int = Field(description="what queued and running jobs may still write")
    margin_bytes: int = Field(description="kept free below the limit")


class Health(BaseModel):
    """``/healthz`` and ``/readyz``: ``ok``, and what was checked."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok"]
    redis: Literal["ok"] | None = Field(None, description="readyz: Redis answered")
    store: StoreUsage | None = Field(None, description="readyz: the job store's bytes")


class VarianceReport(BaseModel):
    """Section IV: per layer, predicted and measured variance at initialization."""

    activation: str
    init: str
    samples: int
    input_second_moment: float | None
    output_grad_second_moment: float | None
    layers: list[LayerVariance]
    assumptions: list[Assumption]
