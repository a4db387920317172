"""A job's records (README "Records"), the metrics page, and the event stream's payloads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.models.signal import SignalPublic
from store.keys import JobStatus

# top-level keys of a record (README "Records"); `fields` picks among them
RECORD_FIELDS = (
    "iteration", "epoch", "cost", "train_accuracy", "test_accuracy",
    "layers", "boundary", "predictions", "signal",
)  # fmt: skip


class Histogram(BaseModel):
    range: tuple[float | None, float | None] = Field(description="[low, high] of the bins")
    counts: list[int]


class Stat(BaseModel):
    """Summary of one array of a layer; non-finite numbers are null."""

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    histogram: Histogram | None = Field(
        None, description="only on iterations where record.histograms is due for this array"
    )


class LayerStats(BaseModel):
    layer: int = Field(description="1-based; the output layer last")
    units: int
    weights: Stat
    biases: Stat
    preactivations: Stat
    activations: Stat
    weight_grads: Stat
    activation_grads: Stat
    unit_spread: float | None = Field(
        description="largest gap between two units' incoming weights or biases (0: all equal)"
    )


class Boundary(BaseModel):
    x: tuple[float, float]
    y: tuple[float, float]
    resolution: int
    p: list[list[float | None]] = Field(
        description="resolution x resolution grid, row i at y[i]: P(class 1), or the top "
        "class's probability when there are more classes"
    )
    label: list[list[int]] | None = Field(None, description="the top class (3+ classes only)")


class Predictions(BaseModel):
    indices: list[int] = Field(description="into the MNIST split: GET /v1/datasets/mnist/images")
    labels: list[int]
    predicted: list[int]
    correct: list[bool]


class SignalLayer(BaseModel):
    layer: int = Field(description="1-based hidden layer")
    q: float | None = Field(description="mean squared pre-activation over units and inputs")
    c: float | None = Field(description="correlation of the pre-activations of input pairs")
    q_theory: float | None = Field(description="mean-field prediction (mean_field init only)")
    c_theory: float | None = Field(description="mean-field prediction (mean_field init only)")


class JacobianSpectrum(BaseModel):
    """Singular values of the hidden stack's Jacobian d a[L-1] / d a[1] at one input."""

    histogram: Histogram
    mean_squared: float | None
    largest: float | None
    smallest: float | None
    mean_squared_theory: float | None = Field(description="chi_1 to the depth")


class DepthScale(BaseModel):
    measured: float | None = Field(description="fitted to the measured c decay")
    theory: float | None


class SignalSection(BaseModel):
    """Signal propagation measured on the network's own parameters (README "Records")."""

    pairs: int = Field(description="input pairs whose correlation is followed")
    layers: list[SignalLayer]
    jacobian: JacobianSpectrum | None
    xi_c: DepthScale
    theory: SignalPublic | None = Field(description="mean-field statistics (mean_field init)")


class Record(BaseModel):
    """One recorded iteration. With ``fields``, only the keys asked for (and ``iteration``)."""

    iteration: int
    epoch: float | None = None
    cost: float | None = Field(None, description="the batch's, L2 included; null if not finite")
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    layers: list[LayerStats] | None = None
    boundary: Boundary | None = Field(None, description="2D datasets, when due")
    predictions: Predictions | None = Field(None, description="image datasets, when due")
    signal: SignalSection | None = Field(None, description="record.signal, when due")


class MetricsPublic(BaseModel):
    job_id: str
    status: JobStatus
    records: list[Record] = Field(description="records in iteration order")
    next: int | None = Field(description="`start` of the next page; null: no more records now")


class StatusEvent(BaseModel):
    """``event: status``: the job's status changed (and the stream's first event)."""

    status: JobStatus
    progress: float
    iteration: int | None


class EndEvent(BaseModel):
    """``event: end``: the job ended and every record was sent; the stream closes."""

    status: JobStatus | None = Field(description="null: the job was deleted")
    reason: Literal["deleted"] | None = None


class ErrorEvent(BaseModel):
    """``event: error``: the job store became unreachable; reconnect to resume."""

    detail: str


# the data of each event type of GET /v1/jobs/{job_id}/events (its x-events)
EVENTS: dict[str, type[BaseModel]] = {
    "record": Record,
    "status": StatusEvent,
    "end": EndEvent,
    "error": ErrorEvent,
}
