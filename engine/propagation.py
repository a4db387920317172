"""Signal propagation measured on one random network at initialization, beside mean field.

Layer l (1..L) has W[l] shaped (n[l], n[l-1]) and b[l] shaped (n[l],); an input x (n[0],)
gives pre-activations z[1] = W[1] x + b[1] and z[l] = W[l] f(z[l-1]) + b[l]. The statistics
are those of engine.meanfield, measured: a pre-activation's length q[l] = mean_i z[l]_i^2, the
correlation of two inputs' pre-activations c[l] = mean_i z_a z_b / sqrt(q_a q_b), and the
input-output Jacobian J = d f(z[L]) / dx = D[L] W[L] ... D[1] W[1], D[l] = diag(f'(z[l])),
whose mean squared singular value mean field predicts as the product of the layers' chi_1.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.activations import activation_forward
from engine.gaussian import f_and_slope
from engine.meanfield import correlation_map, length_map

Array = NDArray[np.floating[Any]]
Distribution = Literal["normal", "orthogonal"]


def orthogonal(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    """A random (semi-)orthogonal matrix (rows, cols): orthonormal rows if rows <= cols, else
    orthonormal columns; Haar-distributed (QR of a Gaussian, signs fixed by R's diagonal)."""
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    return q.T if rows < cols else q


def sample_parameters(rng: np.random.Generator, sizes: Sequence[int], weight_variance: float,
                      bias_variance: float, distribution: Distribution = "normal"
                      ) -> tuple[list[Array], list[Array]]:  # fmt: skip
    """Weights and biases of the mean-field parametrisation, for sizes n[0..L].

    normal: W[l] ~ N(0, s_w / n[l-1]); orthogonal: a random orthogonal matrix scaled so that
    its entries' mean square is s_w / n[l-1] too (sqrt(s_w) Q for a square layer, whose
    singular values are then all sqrt(s_w)). Biases b[l] ~ N(0, s_b) in both.
    Returns W[l] (n[l], n[l-1]) and b[l] (n[l],) for l = 1..L.
    """
    if weight_variance < 0 or bias_variance < 0:
        raise ValueError("weight and bias variances must be >= 0")
    weights, biases = [], []
    for fan_in, fan_out in itertools.pairwise(sizes):
        if distribution == "normal":
            w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(weight_variance / fan_in)
        elif distribution == "orthogonal":
            stretch = max(1.0, fan_out / fan_in)  # orthonormal columns: entries 1 / fan_out
            w = orthogonal(rng, (fan_out, fan_in)) * np.sqrt(weight_variance * stretch)
        else:
            raise ValueError(f"unknown distribution {distribution!r}: normal or orthogonal")
        weights.append(w)
        biases.append(rng.standard_normal(fan_out) * np.sqrt(bias_variance))
    return weights, biases


@dataclass(frozen=True)
class LayerStatistics:
    """q (L, N): each input's pre-activation length per layer; c (L, N // 2): the correlation
    of the pairs (x[0], x[1]), (x[2], x[3]), ... per layer."""

    q: Array
    c: Array


def layer_statistics(weights: Sequence[Array], biases: Sequence[Array], activation: str,
                     x: Array) -> LayerStatistics:  # fmt: skip
    """Forward x (N, n[0]), N even, through every layer and measure q and c per layer."""
    if x.ndim != 2 or x.shape[0] % 2:
        raise ValueError("x must be (N, n0) with N even: pairs of inputs")
    qs, cs = [], []
    a = x
    for w, b in zip(weights, biases, strict=True):
        z = a @ w.T + b  # (N, n[l])
        q = np.mean(z**2, axis=1)
        cross = np.mean(z[0::2] * z[1::2], axis=1)
        qs.append(q)
        cs.append(cross / np.sqrt(q[0::2] * q[1::2]))
        a = activation_forward(activation, z)[0]
    return LayerStatistics(np.array(qs), np.array(cs))


def theory_layers(activation: str, weight_variance: float, bias_variance: float,
                  x_pair: Array, depth: int) -> tuple[Array, Array]:  # fmt: skip
    """Mean field's q[l] and c[l], l = 1..depth, for a pair of inputs x_pair (2, n[0]).

    Returns (q (depth,), c (depth,)); see ``maps_from_inputs``.
    """
    squares = np.mean(x_pair**2, axis=1)
    cross = float(np.mean(x_pair[0] * x_pair[1]))
    return maps_from_inputs(activation, weight_variance, bias_variance, squares[0], squares[1],
                            cross, depth)  # fmt: skip


def maps_from_inputs(activation: str, weight_variance: float, bias_variance: float,
                     square_a: ArrayLike, square_b: ArrayLike, cross: ArrayLike,
                     depth: int) -> tuple[Array, Array]:  # fmt: skip
    """Mean field's q[l] and c[l], l = 1..depth, for pairs of inputs given by each input's
    mean square per coordinate and the mean product of the pair's coordinates (scalars or
    arrays (P,)). Returns (q, c), each (depth,) + that shape.

    Layer 1 is exact: q is the mean of the two inputs' lengths and c is their correlation,
    (s_w cross + s_b) / sqrt(q_a q_b). Later layers apply the length and correlation maps,
    which take both inputs at the mean length (the lengths meet within a few xi_q).
    """
    sw, sb = weight_variance, bias_variance
    qa, qb = (sw * np.asarray(s, dtype=np.float64) + sb for s in (square_a, square_b))
    q: Array = (qa + qb) / 2
    c: Array = (sw * np.asarray(cross, dtype=np.float64) + sb) / np.sqrt(qa * qb)
    qs, cs = [q], [c]
    for _ in range(depth - 1):
        q, c = length_map(activation, sw, sb, q), correlation_map(activation, sw, sb, q, c)
        qs.append(q)
        cs.append(c)
    return np.array(qs), np.array(cs)


def input_output_jacobian(weights: Sequence[Array], biases: Sequence[Array], activation: str,
                          x: Array) -> Array:  # fmt: skip
    """J = d f(z[L]) / dx at x (n[0],): the product of D[l] W[l]; shape (n[L], n[0])."""
    a, jac = x, np.eye(x.shape[0])
    for w, b in zip(weights, biases, strict=True):
        a, slope = f_and_slope(activation, w @ a + b)
        jac = slope[:, None] * (w @ jac)
    return jac


@dataclass(frozen=True)
class JacobianSpectrum:
    """The singular values of a Jacobian (k,), k = min(n[L], n[0]), and their histogram."""

    singular_values: Array
    counts: NDArray[np.int64]  # (bins,)
    edges: Array  # (bins + 1,)
    mean_squared: float
    largest: float
    smallest: float


def jacobian_spectrum(
    jacobian: Array, bins: int = 50, value_range: tuple[float, float] | None = None
) -> JacobianSpectrum:
    """Singular values of jacobian (n_out, n_in), a histogram of them (over value_range, by
    default [0, largest]), their mean square, largest and smallest."""
    s = np.linalg.svd(jacobian, compute_uv=False)
    top = float(s.max()) if s.size else 0.0
    counts, edges = np.histogram(s, bins=bins, range=value_range or (0.0, top or 1.0))
    return JacobianSpectrum(s, counts, edges, float(np.mean(s**2)), top, float(s.min()))


def fit_depth_scale(c: Array, c_star: float, floor: float = 1e-3) -> float:
    """xi_c fitted to c (L,) of layers 1..L: least squares of ln|c[l] - c*| against l over
    the layers before the gap first falls below floor (where noise takes over); -1 / slope.

    nan when fewer than three layers qualify or the gap does not shrink.
    """
    gap = np.abs(np.asarray(c, dtype=np.float64) - c_star)
    below = np.flatnonzero(gap < floor)
    used = gap[: below[0] if below.size else gap.size]
    if used.size < 3 or not np.isfinite(used).all():  # too few layers, or a c[l] undefined
        return float("nan")
    slope = np.polyfit(np.arange(1, used.size + 1), np.log(used), 1)[0]
    return float(-1 / slope) if slope < 0 else float("nan")
