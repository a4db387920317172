"""Mean-field signal propagation's bodies: one point of the (s_w, s_b) plane, or a grid of
them with the critical line (api/services/signal.py computes them)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from engine.vocabulary import ActivationName

# 50 x 50 = 2500 cells: the grid issue 15 asks to answer within 1 s (bench/meanfield.py)
MAX_GRID_SIDE = 50
# sigmoid's chaotic cells (s_w past ~100) need hundreds of quadrature nodes per axis: about
# 0.07 s a cell on this machine, so its grids stay small enough to answer within ~10 s
MAX_SIGMOID_CELLS = 100
# A tanh or sigmoid cell's work grows with its length q*: the correlation map's 2D rule has
# engine.gaussian.nodes_2d(q*)^2 nodes (512^2 from q* ~ 110), and |f| <= 1 bounds q* by
# s_w + s_b. A grid's nodes, so bounded, may add up to this: the 50 x 50 example over s_w in
# [0.5, 4] needs 1.7e7; 95 cells at s_w >= 110 fill it (a 50 x 50 grid there took 7 minutes)
MAX_GRID_NODES = 2.5e7
BOUNDED = ("tanh", "sigmoid")  # the activations whose cells cost quadrature
Variance = Annotated[float, Field(ge=0.0, le=1e3, allow_inf_nan=False)]
Phase = Literal["ordered", "critical", "chaotic"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalCreate(_Body):
    """One point: an activation and the variances of the weights (times fan_in) and biases."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"activation": "tanh", "weight_variance": 1.76, "bias_variance": 0.05}]
    })  # fmt: skip

    activation: ActivationName = "tanh"
    weight_variance: Variance = 1.0
    bias_variance: Variance = 0.0


class SignalPublic(BaseModel):
    """Mean field's fixed points, slopes and depth scales at one point; null where a number
    is not finite (q* diverges, c* is undefined, a depth scale is infinite)."""

    activation: ActivationName
    weight_variance: float
    bias_variance: float
    q_star: float | None = Field(description="fixed point of the pre-activation length")
    c_star: float | None = Field(description="fixed point of two inputs' correlation")
    chi_1: float | None = Field(description="mean squared singular value of a layer's Jacobian")
    chi_c: float | None = Field(description="slope of the correlation map at c*")
    xi_q: float | None = Field(description="depth over which the length settles")
    xi_c: float | None = Field(description="depth over which the correlation settles")
    phase: Phase


class Span(_Body):
    """num values evenly spaced from start to stop, both included (stop below start gives a
    falling axis: every cell is computed on its own, so any order is answered)."""

    start: Variance
    stop: Variance
    num: Annotated[int, Field(ge=1, le=MAX_GRID_SIDE)]


Axis = Annotated[list[Variance], Field(min_length=1, max_length=MAX_GRID_SIDE)] | Span


class PhaseDiagramCreate(_Body):
    """A grid of the plane: each axis a list of values or a {start, stop, num} span."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"activation": "tanh",
                      "weight_variances": {"start": 0.5, "stop": 4, "num": 50},
                      "bias_variances": {"start": 0, "stop": 0.3, "num": 50}}]
    })  # fmt: skip

    activation: ActivationName = "tanh"
    weight_variances: Axis
    bias_variances: Axis

    @field_validator("bias_variances")
    @classmethod
    def _cells_within_reach(cls, axis: list[float] | Span, info: ValidationInfo
                            ) -> list[float] | Span:  # fmt: skip
        weights, activation = info.data.get("weight_variances"), info.data.get("activation")
        if activation == "sigmoid" and weights is not None:
            cells = len(axis_values(weights)) * len(axis_values(axis))
            if cells > MAX_SIGMOID_CELLS:
                raise ValueError(f"{cells} cells; a sigmoid grid has at most {MAX_SIGMOID_CELLS}")
        if activation in BOUNDED and weights is not None:
            nodes = quadrature_nodes(axis_values(weights), axis_values(axis))
            if nodes > MAX_GRID_NODES:
                raise ValueError(
                    f"a {activation} grid over these variances needs up to {nodes:.3g} quadrature "
                    f"nodes, over the grid's budget of {MAX_GRID_NODES:.3g}: large variances "
                    "cost the most; ask fewer values there"
                )
        return axis


Grid = list[list[float | None]]


class PhaseDiagramPublic(BaseModel):
    """Every statistic on the grid, shaped (len(bias_variances), len(weight_variances)):
    row i is bias_variances[i]; and the critical weight variance for each bias variance."""

    activation: ActivationName
    weight_variances: list[float]
    bias_variances: list[float]
    q_star: Grid
    c_star: Grid
    chi_1: Grid
    chi_c: Grid
    xi_q: Grid
    xi_c: Grid
    phase: list[list[Phase]]
    critical_weight_variance: list[float | None]


def quadrature_nodes(weights: np.ndarray, biases: np.ndarray) -> float:
    """An upper bound of the 2D rule's nodes over every cell (q* <= s_w + s_b)."""
    from engine.gaussian import nodes_2d

    bound = weights[None, :] + biases[:, None]
    return float((nodes_2d(bound).astype(np.float64) ** 2).sum())


def axis_values(axis: list[float] | Span) -> np.ndarray:
    if isinstance(axis, Span):
        return np.linspace(axis.start, axis.stop, axis.num)
    return np.asarray(axis, dtype=np.float64)
