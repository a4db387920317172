"""Gaussian expectations of an activation, by quadrature: the integrals of mean field.

For x ~ N(0, 1) and u = sqrt(q) x, ``single_moments`` gives E[f(u)^2], E[f'(u)^2] and the
derivative of E[f(u)^2] in q; ``pair_moments`` gives, for a pair (u1, u2) ~ N(0, q [[1, c],
[c, 1]]), one layer's correlation map and its slope in c. Whole arrays of q (and c, s_w, s_b)
are evaluated at once, the nodes along an added last axis.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.activations import activation_backward, activation_forward

Array = NDArray[np.floating[Any]]
SCALE_FREE = ("relu", "leaky_relu", "linear")  # f(k u) = k f(u) for k > 0: piecewise linear


def gauss_hermite(n: int) -> tuple[Array, Array]:
    """Nodes and weights for E[g(x)], x ~ N(0, 1); n even, so no node sits on relu's kink.

    Golub-Welsch: the nodes are the eigenvalues of the Jacobi matrix of the probabilists'
    Hermite polynomials (off-diagonal sqrt(k)), the weights the squared first components of
    its eigenvectors (numpy's hermegauss overflows beyond n = 352).
    """
    jacobi = np.diag(np.sqrt(np.arange(1.0, n)), 1)
    nodes, vectors = np.linalg.eigh(jacobi + jacobi.T)
    weights = vectors[0] ** 2
    return nodes, weights / weights.sum()


def _graded_rule(per_panel: int = 8, finest: float = 1e-3, reach: float = 10.0
                 ) -> tuple[Array, Array]:  # fmt: skip
    """Nodes and weights for E[g(x)], x ~ N(0, 1): Gauss-Legendre on panels that double in
    width away from 0 (finest, 2 finest, ... up to 1), then of width 1 up to reach, mirrored.

    g(x) = f(sqrt(q) x) has its features at |x| ~ 1 / sqrt(q), which Gauss-Hermite's fixed
    nodes miss once q is large (tanh' at q = 20: 24 % off with 80 nodes); a panel as wide as
    the feature sits there for any q in about [1e-6, 1e6], and 0 is an edge, so relu's kink
    is integrated exactly.
    """
    graded = finest * 2.0 ** np.arange(int(np.log2(1 / finest)) + 1)  # up to 1
    edges = [0.0, *graded, *np.arange(np.ceil(graded[-1]) + 1, reach + 1)]  # then width 1
    t, w = np.polynomial.legendre.leggauss(per_panel)
    left, right = np.array(edges[:-1]), np.array(edges[1:])
    half = ((right - left) / 2)[:, None]
    x = ((left + right) / 2)[:, None] + half * t
    weight = half * w * np.exp(-(x**2) / 2)
    nodes, weights = np.concatenate([-x.ravel()[::-1], x.ravel()]), np.tile(weight.ravel(), 2)
    weights[: x.size] = weight.ravel()[::-1]
    return nodes, weights / weights.sum()


X1, W1 = _graded_rule()  # 1D integrals: 304 nodes, accurate for any q
MAX_NODES_2D = 512
_CHUNK = 1 << 21  # cells x n x n values per block of the 2D rule: about 16 MB an array


@functools.cache
def _rule_2d(n: int) -> tuple[Array, Array]:
    return gauss_hermite(n)


def nodes_2d(q: Array) -> Array:
    """Gauss-Hermite nodes per axis for the correlation map at length q: f(sqrt(q) x) narrows
    as q grows, so n ~ 48 sqrt(q), in steps of 16 from 32 to MAX_NODES_2D (q ~ 110; the error
    grows beyond). Tests check the slope to 5e-5 against a 304 x 304 graded rule at q <= 4."""
    return np.clip(np.ceil(48 * np.sqrt(q) / 16) * 16, 32, MAX_NODES_2D).astype(int)


def f_and_slope(activation: str, u: Array) -> tuple[Array, Array]:
    """f(u) and f'(u), both shaped like u."""
    a, cache = activation_forward(activation, u)
    return a, activation_backward(activation, np.broadcast_to(1.0, u.shape), cache)


def single_moments(activation: str, q: Array) -> tuple[Array, Array, Array]:
    """(E[f(u)^2], E[f'(u)^2], d E[f(u)^2] / dq) at u = sqrt(q) x, each shaped like q; the
    last, E[f(u) f'(u) x] / sqrt(q), needs q > 0."""
    root = np.sqrt(q)
    f, df = f_and_slope(activation, root[..., None] * X1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return f**2 @ W1, df**2 @ W1, ((f * df * X1) @ W1) / root


def _pair_moments_n(activation: str, sw: Array, sb: Array, q: Array, c: Array, n: int
                    ) -> tuple[Array, Array]:  # fmt: skip
    """The correlation map and its slope d/dc at (q, c) on n x n nodes: 1D arrays in and out.

    The normaliser is the length map on the same nodes, so that c = 1 maps to 1 exactly.
    """
    x, w = _rule_2d(n)
    root = np.sqrt(q)[:, None]
    f1, df1 = f_and_slope(activation, root * x)  # (cells, n): u1 = sqrt(q) x1
    s = np.sqrt(np.clip(1 - c**2, 0, None))[:, None, None]
    u2 = root[:, :, None] * (c[:, None, None] * x[:, None] + s * x)  # (cells, n, n)
    f2, df2 = f_and_slope(activation, u2)
    norm = sw * ((f1**2) @ w) + sb
    cross = sw * (((f2 @ w) * f1) @ w) + sb
    slope = sw * q * (((df2 @ w) * df1) @ w)
    return cross / norm, slope / norm


_T, _WT = np.polynomial.legendre.leggauss(12)


def _pair_moments_polar(activation: str, sw: Array, sb: Array, q: Array, c: Array
                        ) -> tuple[Array, Array]:  # fmt: skip
    """_pair_moments_n for a scale-free f, exactly: in polar coordinates x = r (cos t, sin t)
    the pair is sqrt(q) r (cos t, cos(t - a)), cos a = c, so E[f(u1) f(u2)] = q E[r^2]
    E_t[f(cos t) f(cos(t - a))] with E[r^2] = 2, and E[f' f'] needs t alone. The angle's
    integrand is smooth between the kinks (cos t = 0 or cos(t - a) = 0): Gauss-Legendre on
    each of those panels is exact to rounding."""
    angle = np.arccos(np.clip(c, -1, 1))[:, None]
    # the kinks: t = pi/2, 3 pi/2 (cos t = 0) and a + pi/2, a + 3 pi/2 (cos(t - a) = 0)
    kinks = np.mod(
        np.array([0, 0, 1, 1]) * angle + np.array([0.5, 1.5, 0.5, 1.5]) * np.pi, 2 * np.pi
    )
    edges = np.sort(np.concatenate([np.zeros_like(angle), kinks, np.full_like(angle, 2 * np.pi)],
                                   axis=1), axis=1)  # (cells, 6)  # fmt: skip
    half = (edges[:, 1:] - edges[:, :-1])[..., None] / 2
    t = (edges[:, 1:] + edges[:, :-1])[..., None] / 2 + half * _T  # (cells, 5, 12)
    w = half * _WT / (2 * np.pi)
    f1, df1 = f_and_slope(activation, np.cos(t))
    f2, df2 = f_and_slope(activation, np.cos(t - angle[..., None]))
    norm = sw * q * 2 * np.sum(w * f1**2, axis=(1, 2)) + sb
    cross = sw * q * 2 * np.sum(w * f1 * f2, axis=(1, 2)) + sb
    return cross / norm, sw * q * np.sum(w * df1 * df2, axis=(1, 2)) / norm


def pair_moments(activation: str, sw: Array, sb: Array, q: Array, c: Array,
                  n: Array | None = None) -> tuple[Array, Array]:  # fmt: skip
    """_pair_moments_n for 1D arrays, grouping cells by their node count (nodes_2d if None);
    exact polar quadrature for scale-free activations."""
    if activation in SCALE_FREE:
        return _pair_moments_polar(activation, sw, sb, q, c)
    n = nodes_2d(q) if n is None else n
    mapped, slope = np.empty_like(q), np.empty_like(q)
    for count in np.unique(n):
        cells = np.flatnonzero(n == count)
        for i in np.array_split(cells, -(-cells.size * int(count) ** 2 // _CHUNK)):
            mapped[i], slope[i] = _pair_moments_n(activation, sw[i], sb[i], q[i], c[i], int(count))
    return mapped, slope
