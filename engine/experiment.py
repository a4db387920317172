"""The resolved experiment: ``ExperimentSpec`` and its sections, every default filled in.

The defaults are the article's playground (figure 1, "appropriate"); the limits keep one
job within a worker's means. What a client sends, and how it is resolved into this, is
``engine.spec``.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import Annotated, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from engine import budget
from engine.vocabulary import (
    DATASETS,
    DATASETS_IMAGE,
    ActivationName,
    OptimizerName,
    dataset_facts,
    max_samples,
)

InitMethod = Literal[
    "zeros", "constant", "uniform", "normal", "variance_scaling",
    "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", "identity", "lsuv", "mean_field",
    # the article's names, which engine.initializers maps to the families above
    "zero", "too_small", "appropriate", "too_large", "xavier", "standard_normal",
]  # fmt: skip

MAX_HIDDEN_LAYERS = 128  # dynamical_isometry goes 100 deep
MAX_WIDTH = 4096
MAX_ITERATIONS = 100_000
# ~ a few minutes of one worker core; keeps one job from holding a worker for hours
MAX_WORK_FLOPS = 2e12


class Section(BaseModel):
    """A spec section. A check that spans fields sits on the later one (validated after the
    fields it reads, which ``info.data`` holds when they were valid), so a 422 names it."""

    model_config = ConfigDict(extra="forbid")


# a plotting range: finite, wide enough for any data a spec can make, low < high
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]


def _ordered(value: tuple[float, float]) -> tuple[float, float]:
    if not value[0] < value[1]:
        raise ValueError("must be [low, high] with low < high")
    return value


class DatasetSpec(Section):
    name: Literal[tuple(DATASETS)] = "circle"  # type: ignore[valid-type]
    split: Literal["test", "train"] = "test"  # which MNIST split the samples come from
    n_samples: Annotated[int, Field(ge=2, le=70_000)] = 100
    noise: Annotated[float, Field(ge=0.0, le=5.0)] = 0.0
    test_fraction: Annotated[float, Field(ge=0.0, le=0.9)] = 0.0
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0

    @property
    def is_image(self) -> bool:
        return self.name in DATASETS_IMAGE

    @field_validator("n_samples")
    @classmethod
    def _fits_source(cls, n_samples: int, info: ValidationInfo) -> int:
        name, split = info.data.get("name", "circle"), info.data.get("split", "test")
        limit = max_samples(name, split)
        if n_samples > limit:
            raise ValueError(f"{name} ({split}) has at most {limit} samples")
        return n_samples


class ModelSpec(Section):
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]],
                      Field(max_length=MAX_HIDDEN_LAYERS)] = [6, 3]  # fmt: skip
    activation: ActivationName = "relu"
    l2: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0
    dtype: Literal["float32", "float64"] = "float32"


class InitSpec(Section):
    method: InitMethod = "appropriate"
    scale: Annotated[float, Field(ge=0.0, le=1e6)] = 1.0  # variance_scaling, identity
    mode: Literal["fan_in", "fan_out", "fan_avg"] = "fan_in"
    # orthogonal: mean_field only (the other families draw orthogonal weights as "orthogonal")
    distribution: Literal["normal", "uniform", "truncated_normal", "orthogonal"] = "normal"
    weight_variance: Annotated[float, Field(ge=0.0, le=1e3)] = 1.0  # mean_field: s_w
    bias_variance: Annotated[float, Field(ge=0.0, le=1e3)] = 0.0  # mean_field: s_b
    gain: Annotated[float, Field(gt=0.0, le=1e3)] | None = None  # None: the method's own
    mean: Annotated[float, Field(ge=-1e3, le=1e3)] = 0.0  # normal
    std: Annotated[float, Field(ge=0.0, le=1e3)] = 1.0  # normal
    low: Annotated[float, Field(ge=-1e3, le=1e3)] | None = None  # uniform; None: -1/sqrt(fan_in)
    high: Annotated[float, Field(ge=-1e3, le=1e3)] | None = None  # uniform; None: 1/sqrt(fan_in)
    value: Annotated[float, Field(ge=-1e3, le=1e3)] = 0.0  # constant
    bias: Annotated[float, Field(ge=-1e3, le=1e3)] = 0.0
    lsuv_tolerance: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1
    lsuv_max_iter: Annotated[int, Field(ge=1, le=100)] = 10
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0

    @field_validator("distribution")
    @classmethod
    def _drawable(cls, distribution: str, info: ValidationInfo) -> str:
        mean_field = info.data.get("method") == "mean_field"
        if mean_field and distribution not in ("normal", "orthogonal"):
            raise ValueError("mean_field draws normal or orthogonal weights")
        if not mean_field and distribution == "orthogonal":
            raise ValueError("orthogonal is for method mean_field; else use method orthogonal")
        return distribution

    @field_validator("high")
    @classmethod
    def _above_low(cls, high: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("low")
        if low is not None and high is not None and low >= high:
            raise ValueError(f"high must be above low ({low:g})")
        return high


class OptimizerSpec(Section):
    name: OptimizerName = "gd"
    learning_rate: Annotated[float, Field(gt=0.0, le=100.0)] = 0.1
    batch_size: Annotated[int, Field(ge=1, le=70_000)] | None = None  # None: the whole set
    shuffle: bool = False  # off keeps the article's in-order batches
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    beta1: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    beta2: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.999
    rho: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9  # rmsprop decay
    eps: Annotated[float, Field(gt=0.0, le=1.0)] = 1e-8

    @field_validator("batch_size")
    @classmethod
    def _gd_is_full_batch(cls, batch_size: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("name") == "gd" and batch_size is not None:
            raise ValueError("gd is full-batch; use sgd for mini-batches")
        return batch_size


class TrainingSpec(Section):
    iterations: Annotated[int, Field(ge=0, le=MAX_ITERATIONS)] = 1000
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0


Every = Annotated[int, Field(ge=0, le=MAX_ITERATIONS)]  # 0: never


StatName = Literal[
    "weights", "biases", "preactivations", "activations", "weight_grads", "activation_grads"
]


class HistogramSpec(Section):
    bins: Annotated[int, Field(ge=1, le=1000)] = 30
    every: Every = 10
    fields: list[StatName] = ["weights", "activations", "activation_grads"]
    range: tuple[Coordinate, Coordinate] | None = None  # None: each array's own min..max

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if value is None else _ordered(value)


class BoundarySpec(Section):
    resolution: Annotated[int, Field(ge=2, le=201)] = 101
    every: Every = 10
    extent: tuple[Coordinate, Coordinate] = (-5.0, 5.0)

    @field_validator("extent")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        return _ordered(value)


class ParametersSpec(Section):
    every: Every = 0  # iteration 0 and the last are always kept


class PredictionsSpec(Section):
    every: Every = 1
    count: Annotated[int, Field(ge=1, le=1000)] = 100


class SignalSpec(Section):
    """Signal propagation measured on the network (engine.signal_record); off by default."""

    every: Every = 0
    pairs: Annotated[int, Field(ge=1, le=64)] = 8  # pairs of training inputs for q[l], c[l]
    bins: Annotated[int, Field(ge=1, le=200)] = 30  # of the Jacobian's singular values


class RecordSpec(Section):
    every: Annotated[int, Field(ge=1, le=MAX_ITERATIONS)] = 1
    histograms: HistogramSpec = HistogramSpec()
    boundary: BoundarySpec = BoundarySpec()
    parameters: ParametersSpec = ParametersSpec()
    predictions: PredictionsSpec = PredictionsSpec()
    signal: SignalSpec = SignalSpec()


class ExperimentSpec(Section):
    """A fully resolved experiment: every default filled in."""

    dataset: DatasetSpec = DatasetSpec()
    model: ModelSpec = ModelSpec()
    init: InitSpec = InitSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    training: TrainingSpec = TrainingSpec()
    record: RecordSpec = RecordSpec()

    @property
    def n_inputs(self) -> int:
        return dataset_facts(self.dataset.name).inputs

    @property
    def n_classes(self) -> int:
        return dataset_facts(self.dataset.name).classes

    @property
    def sizes(self) -> list[int]:
        """Units per layer, input first: [n0, n1, ..., nL]."""
        n_out = 1 if self.n_classes == 2 else self.n_classes
        return [self.n_inputs, *self.model.hidden, n_out]

    @property
    def n_train(self) -> int:
        return self.dataset.n_samples - round(self.dataset.n_samples * self.dataset.test_fraction)

    @property
    def batch_size(self) -> int:
        return min(self.optimizer.batch_size or self.n_train, self.n_train)

    def work_flops(self) -> float:
        """Estimated floating-point operations of the whole run (forward + backward)."""
        sizes = self.sizes
        per_example = sum(a * b for a, b in itertools.pairwise(sizes))
        steps = self.training.iterations + 1
        train = 6.0 * per_example * self.batch_size * steps
        grid = 0.0
        if not self.dataset.is_image and self.record.boundary.every:
            n_grids = steps / self.record.boundary.every + 1
            grid = 2.0 * per_example * self.record.boundary.resolution**2 * n_grids
        return train + grid + self._signal_flops(steps)

    def _signal_flops(self, steps: int) -> float:
        """The signal section: its forward passes, the hidden stack's Jacobian and its SVD."""
        signal, hidden = self.record.signal, self.model.hidden
        if not signal.every or not hidden:
            return 0.0
        per_example = sum(a * b for a, b in itertools.pairwise(self.sizes[:-1]))
        jacobian = 2.0 * hidden[0] * sum(a * b for a, b in itertools.pairwise(hidden))
        per_record = 4.0 * signal.pairs * per_example + jacobian + 10.0 * hidden[0] ** 3
        return per_record * (steps / signal.every + 1)

    @model_validator(mode="after")
    def _within_budget(self) -> ExperimentSpec:
        if self.n_train < 1:
            raise ValueError("dataset.test_fraction leaves no training samples")
        over = budget.over_budget(self)
        if over is not None:  # a 422 located at the field to change
            error = InitErrorDetails(
                type=PydanticCustomError("memory_budget", over[1]), loc=over[0], input=None
            )
            raise ValidationError.from_exception_data(type(self).__name__, [error])
        flops = self.work_flops()
        if flops > MAX_WORK_FLOPS:
            raise ValueError(
                f"training: this run needs about {flops:.2g} floating-point operations, over "
                f"the per-job budget of {MAX_WORK_FLOPS:.2g}; use fewer iterations, smaller "
                "layers or smaller batches"
            )
        return self

    def canonical_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)

    def spec_hash(self) -> str:
        """A stable hash of the resolved spec: equal specs give equal records."""
        return hashlib.sha256(self.canonical_json()).hexdigest()[:32]
