"""Mean-field signal propagation through a deep random network (Poole et al. 2016; Schoenholz
et al. 2017), by Gaussian integrals computed by quadrature (engine.gaussian), not sampling.

A layer is z[l] = W[l] f(z[l-1]) + b[l] with W[l] entries N(0, s_w / fan_in) and b N(0, s_b),
s_w = ``weight_variance`` and s_b = ``bias_variance``. For a wide layer, z is Gaussian and
two maps carry the statistics of pre-activations from layer to layer:

- length map: q -> s_w E[f(sqrt(q) x)^2] + s_b, x ~ N(0, 1), with stable fixed point q*;
- correlation map, two inputs both at length q and with correlation c:
  c -> (s_w E[f(u1) f(u2)] + s_b) / q', (u1, u2) ~ N(0, q [[1, c], [c, 1]]), with q' the
  length map at q, and stable fixed point c*.

chi_1 = s_w E[f'(sqrt(q*) x)^2] is the mean squared singular value of one layer's Jacobian and
the slope of the correlation map at c = 1. A network is ordered when chi_1 < 1 (c* = 1: inputs
become alike, gradients vanish), chaotic when chi_1 > 1 (c* < 1: inputs decorrelate, gradients
explode) and critical between (|chi_1 - 1| <= CRITICAL_TOLERANCE). Deviations from the fixed
points decay as exp(-l / xi): xi_q = -1 / ln(slope of the length map at q*), xi_c = -1 /
ln(chi_c), chi_c the correlation map's slope at c*; both are infinite where the slope is 1.

Every function is vectorised: the variances broadcast, and a phase diagram solves every cell
of the grid at once. Degenerate cases are reported, not hidden:

- q* = inf when the length map has no finite fixed point (linear with s_w > 1, or s_w = 1
  and s_b > 0; relu with s_w > 2, or s_w = 2 and s_b > 0): every statistic but chi_1 and
  the phase is then nan;
- q* = 0 when s_b = 0 and f(0) = 0 with the length map's slope at 0 at most 1 (tanh with
  s_w <= 1, relu with s_w <= 2): the signal dies out and the network tends to a linear (or,
  for relu, scale-free) one whose correlations do not converge at an exponential rate, so
  c* is nan (undefined), chi_c is 1 and xi_c is inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from engine.gaussian import f_and_slope, nodes_2d, pair_moments, single_moments
from engine.stats import finite_or_none, json_array

Array = NDArray[np.floating[Any]]

CRITICAL_TOLERANCE = 1e-3  # |chi_1 - 1| at most this is called critical
Q_MAX = 1e15  # a length map with no fixed point below this diverges (q* = inf)
Q_LINE = 1e6  # the critical line is looked for below this q (the 1D rule's accurate range)
Q_TINY = 1e-12  # the length map's slope as q -> 0 is taken here
_TOL = 1e-13  # relative step at which Newton's iteration has converged
_MAX_STEPS = 200


def _vanishes_at_0(activation: str) -> bool:
    return bool(f_and_slope(activation, np.zeros(1))[0][0] == 0)


def _as_float(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def length_map(activation: str, weight_variance: ArrayLike, bias_variance: ArrayLike,
               q: ArrayLike) -> Array:  # fmt: skip
    """q[l] -> q[l+1]; every argument broadcasts, the result has the broadcast shape."""
    q = _as_float(q)
    return _as_float(weight_variance) * single_moments(activation, q)[0] + _as_float(bias_variance)


def correlation_map(activation: str, weight_variance: ArrayLike, bias_variance: ArrayLike,
                    q: ArrayLike, c: ArrayLike) -> Array:  # fmt: skip
    """c[l] -> c[l+1] for two inputs both at length q; arguments broadcast."""
    arrays = np.broadcast_arrays(*map(_as_float, (weight_variance, bias_variance, q, c)))
    sw, sb, q, c = (a.ravel() for a in arrays)
    return pair_moments(activation, sw, sb, q, c)[0].reshape(arrays[0].shape)


def _newton(gap_and_slope: Any, x: Array, lo: Array, hi: Array, tol: float) -> Array:
    """A root of gap in [lo, hi] for every cell, Newton's steps kept inside the bracket (else
    bisection); gap_and_slope(x, index) -> (gap, d gap / dx) at the cells index. Only cells
    that have not converged are evaluated again."""
    x, lo, hi = x.copy(), lo.copy(), hi.copy()
    active = np.arange(x.size)
    for _ in range(_MAX_STEPS):
        xa = x[active]
        gap, slope = gap_and_slope(xa, active)
        hi[active] = np.where(gap < 0, xa, hi[active])
        lo[active] = np.where(gap >= 0, xa, lo[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = xa - gap / slope
        inside = (step >= lo[active]) & (step <= hi[active]) & np.isfinite(step)
        step = np.where(inside, step, (lo[active] + hi[active]) / 2)
        step = np.where(gap == 0, xa, step)
        x[active] = step
        active = active[(np.abs(step - xa) > tol * np.maximum(np.abs(xa), Q_TINY)) & (gap != 0)]
        if active.size == 0:
            break
    return x


def _q_star(activation: str, sw: Array, sb: Array) -> tuple[Array, Array]:
    """(q*, the length map's slope there) for 1D arrays of variances. q* = 0 where the
    signal dies out; else Newton's method from a q above which the map stays below the
    diagonal, kept inside the bracket: for a map concave in q, as for these activations,
    the iterates fall monotonically to the largest root, the one reached from large q."""
    slope0 = sw * single_moments(activation, np.full(sw.shape, Q_TINY))[2]
    dies = (sb == 0) & _vanishes_at_0(activation) & (slope0 <= 1)
    hi = np.maximum(1.0, sw + sb)
    grow = np.flatnonzero(~dies)
    while grow.size:  # raise hi until the map falls below the diagonal there
        grow = grow[(length_map(activation, sw[grow], sb[grow], hi[grow]) >= hi[grow])]
        grow = grow[hi[grow] < Q_MAX]
        hi[grow] *= 16
    diverges = ~dies & (length_map(activation, sw, sb, hi) >= hi)
    solve = np.flatnonzero(~dies & ~diverges)

    def gap(q: Array, cells: Array) -> tuple[Array, Array]:
        i = solve[cells]
        f2, _, df2_dq = single_moments(activation, q)
        with np.errstate(invalid="ignore"):  # 0 * inf at q = 0: a bisection step instead
            return sw[i] * f2 + sb[i] - q, sw[i] * df2_dq - 1

    q = np.where(dies, 0.0, np.where(diverges, np.inf, hi))
    if solve.size:
        q[solve] = _newton(gap, hi[solve], np.zeros(solve.size), hi[solve], _TOL)
    slope = np.where(dies, slope0, sw * single_moments(activation, np.where(q > 0, q, 1.0))[2])
    return q, np.where(diverges, np.nan, slope)


def _c_star(activation: str, sw: Array, sb: Array, q: Array, chi_1: Array
            ) -> tuple[Array, Array]:  # fmt: skip
    """(c*, chi_c) for 1D arrays, q* > 0 finite. c* = 1 where chi_1 <= 1 (then chi_c = chi_1);
    else the root below 1 by Newton's method from c = 0: the map is convex in c on [0, 1] (a
    power series in c with non-negative coefficients), so the iterates rise to the root. They
    run on 24 x 24 nodes first, then from there on the full rule."""
    c, chi_c = np.ones_like(q), chi_1.copy()
    chaotic = np.flatnonzero(chi_1 > 1)
    if chaotic.size == 0:
        return c, chi_c
    sw, sb, q = sw[chaotic], sb[chaotic], q[chaotic]
    nodes = nodes_2d(q)
    zeros, ones, slopes = np.zeros(q.size), np.ones(q.size), np.empty(q.size)

    def gap_on(n: Array) -> Any:
        def gap(c: Array, cells: Array) -> tuple[Array, Array]:
            mapped, slopes[cells] = pair_moments(activation, sw[cells], sb[cells], q[cells], c,
                                                  n[cells])  # fmt: skip
            return mapped - c, slopes[cells] - 1

        return gap

    guess = _newton(gap_on(np.full(q.size, 24)), zeros, zeros, ones, 1e-6)
    root = _newton(gap_on(nodes), guess, zeros, ones, 1e-12)
    # the slope where each cell's last step began, within 1e-12 of the root: chi_c
    c[chaotic], chi_c[chaotic] = root, slopes
    return c, chi_c


def _depth_scale(slope: Array) -> Array:
    """-1 / ln(slope): inf where slope >= 1, 0 where slope is 0."""
    with np.errstate(divide="ignore"):
        return np.where(slope < 1, -1 / np.log(np.clip(slope, 0, 1)), np.inf)


def _phase(chi_1: Array) -> NDArray[np.str_]:
    return np.where(chi_1 > 1 + CRITICAL_TOLERANCE, "chaotic",
                    np.where(chi_1 < 1 - CRITICAL_TOLERANCE, "ordered", "critical"))  # fmt: skip


def _solve(activation: str, weight_variance: ArrayLike, bias_variance: ArrayLike
           ) -> dict[str, Any]:  # fmt: skip
    """Every statistic for broadcast variances, as arrays of the broadcast shape."""
    sw, sb = np.broadcast_arrays(_as_float(weight_variance), _as_float(bias_variance))
    shape, sw, sb = sw.shape, sw.ravel(), sb.ravel()
    if not ((sw >= 0).all() and (sb >= 0).all() and np.isfinite(sw + sb).all()):
        raise ValueError("weight and bias variances must be finite and >= 0")
    q, q_slope = _q_star(activation, sw, sb)
    # chi_1 at q* (for relu and linear, chi_1 does not depend on q, so a diverging q* keeps it)
    chi_1 = sw * single_moments(activation, np.clip(q, Q_TINY, Q_MAX))[1]
    regular = (q > 0) & np.isfinite(q)
    c, chi_c = np.full(q.shape, np.nan), np.where(q == 0, 1.0, np.nan)
    if regular.any():
        c[regular], chi_c[regular] = _c_star(
            activation, sw[regular], sb[regular], q[regular], chi_1[regular]
        )
    finite = np.isfinite(q)
    solved = {
        "q_star": q,
        "c_star": c,
        "chi_1": chi_1,
        "chi_c": chi_c,
        "xi_q": np.where(finite, _depth_scale(q_slope), np.nan),
        "xi_c": np.where(finite, _depth_scale(chi_c), np.nan),
        "phase": _phase(chi_1),
    }
    return {k: v.reshape(shape) for k, v in solved.items()}


@dataclass(frozen=True)
class SignalPropagation:
    """The mean-field statistics of one (activation, s_w, s_b); floats may be inf or nan."""

    activation: str
    weight_variance: float
    bias_variance: float
    q_star: float
    c_star: float
    chi_1: float
    chi_c: float
    xi_q: float
    xi_c: float
    phase: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: non-finite numbers become None."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value if isinstance(value, str) else finite_or_none(value)
        return out


def signal_propagation(activation: str, weight_variance: float, bias_variance: float
                       ) -> SignalPropagation:  # fmt: skip
    """q*, c*, chi_1, chi_c, xi_q, xi_c and the phase at one point of the plane."""
    solved = _solve(activation, weight_variance, bias_variance)
    numbers = {k: float(v) for k, v in solved.items() if k != "phase"}
    return SignalPropagation(activation, float(weight_variance), float(bias_variance),
                             phase=str(solved["phase"]), **numbers)  # fmt: skip


def critical_weight_variance(activation: str, bias_variance: ArrayLike) -> Array:
    """The s_w where chi_1 = 1 at q*, for each bias variance (the shape is kept).

    On the critical line s_w = 1 / E[f'(sqrt(q) x)^2] and q = s_w E[f(sqrt(q) x)^2] + s_b, so
    q solves E[f^2] / E[f'^2] + s_b = q: bisection in log q for all bias variances at once.
    Where that has no root below Q_LINE (relu, linear: the line is where q* diverges), the
    ratio at Q_LINE is taken, exact for those scale-free activations.
    """
    sb = _as_float(bias_variance)

    def moments(q: Array) -> tuple[Array, Array]:
        return single_moments(activation, q)[:2]

    def gap(q: Array) -> Array:
        f2, df2 = moments(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            return f2 / df2 + sb - q

    lo, hi = np.full(sb.shape, Q_TINY), np.full(sb.shape, Q_LINE)
    has_root = gap(hi) < 0
    for _ in range(100):  # 2^-100 of the log-width: beyond float precision
        mid = np.sqrt(lo * hi)
        above = gap(mid) < 0
        lo, hi = np.where(above, lo, mid), np.where(above, mid, hi)
    q = np.where(has_root, np.sqrt(lo * hi), Q_LINE)
    q = np.where(
        (sb == 0) & _vanishes_at_0(activation), Q_TINY, q
    )  # the line starts where q* leaves 0
    with np.errstate(divide="ignore"):
        return 1 / moments(q)[1]


@dataclass(frozen=True)
class PhaseDiagram:
    """A grid over the plane: every statistic shaped (n_b, n_w), rows along bias variance."""

    activation: str
    weight_variances: Array  # (n_w,)
    bias_variances: Array  # (n_b,)
    statistics: dict[str, Any]  # name -> (n_b, n_w): the fields of SignalPropagation
    critical_weight_variance: Array  # (n_b,)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: arrays as nested lists, non-finite numbers as None."""
        stats = {k: v.tolist() if k == "phase" else json_array(v)
                 for k, v in self.statistics.items()}  # fmt: skip
        return {"activation": self.activation,
                "weight_variances": json_array(self.weight_variances),
                "bias_variances": json_array(self.bias_variances), **stats,
                "critical_weight_variance": json_array(self.critical_weight_variance)}  # fmt: skip


def phase_diagram(activation: str, weight_variances: ArrayLike, bias_variances: ArrayLike
                  ) -> PhaseDiagram:  # fmt: skip
    """Every statistic on the grid weight_variances (n_w,) x bias_variances (n_b,)."""
    sw, sb = _as_float(weight_variances).ravel(), _as_float(bias_variances).ravel()
    statistics = _solve(activation, sw[None, :], sb[:, None])
    return PhaseDiagram(activation, sw, sb, statistics, critical_weight_variance(activation, sb))
