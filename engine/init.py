"""Weight initializers: one function per family, a network's init, a spec's weight variance.

Weights of layer l are shaped (n[l], n[l-1]) = (fan_out, fan_in); ``calc_fan`` is the one
place that reads a shape. Every family is ``f(shape, rng, dtype=np.float32, **params)``:
it draws in float64 from the explicit ``numpy.random.Generator`` and casts to ``dtype``, so
float32 and float64 runs share their draws. Formulas follow torch.nn.init and Keras. Which
family and arguments a spec's method means is ``engine.initializers``; LSUV's data-driven
rescaling is ``engine.lsuv``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.random import Generator
from numpy.typing import DTypeLike

from engine.experiment import InitSpec
from engine.initializers import DEFAULT_GAINS, family_and_params
from engine.lsuv import lsuv
from engine.propagation import sample_parameters
from engine.vocabulary import LEAKY_SLOPE

Shape = tuple[int, int]
Array = np.ndarray
Activation = Callable[[np.ndarray], np.ndarray]

# std of N(0, 1) truncated to [-2, 2]: Keras divides by it so the variance stays scale / n
TRUNCATED_NORMAL_STD = 0.87962566103423978
_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0), "selu": 0.75}
# variance_scaling in disguise: family -> (mode, distribution); scale = gain^2, and a family
# with no gain (lecun_*) has gain 1
_SCALED = {
    "xavier_uniform": ("fan_avg", "uniform"), "xavier_normal": ("fan_avg", "normal"),
    "he_uniform": ("fan_in", "uniform"), "he_normal": ("fan_in", "normal"),
    "lecun_uniform": ("fan_in", "uniform"), "lecun_normal": ("fan_in", "normal"),
}  # fmt: skip


def calc_fan(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight matrix shaped (fan_out, fan_in)."""
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"weight shape must be (fan_out, fan_in) with both >= 1, got {shape}")
    fan_out, fan_in = int(shape[0]), int(shape[1])
    return fan_in, fan_out


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch.nn.init.calculate_gain: linear/sigmoid 1, tanh 5/3, relu sqrt(2), selu 3/4,
    leaky_relu sqrt(2 / (1 + slope^2)) with slope ``param`` (default LEAKY_SLOPE, 0.01)."""
    if nonlinearity == "leaky_relu":
        slope = LEAKY_SLOPE if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    return _GAINS[nonlinearity]


def _fan_n(shape: Shape, mode: str) -> float:
    """n of scale / n: fan_in, fan_out or their mean."""
    fan_in, fan_out = calc_fan(shape)
    fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
    if mode not in fans:
        raise ValueError(f"mode must be one of {sorted(fans)}, got {mode!r}")
    return fans[mode]


def _truncated_normal(rng: Generator, std: float, shape: Shape) -> Array:
    """N(0, std^2) restricted to [-2 std, 2 std]: redraw the outliers until none is left."""
    w = rng.standard_normal(shape)
    while (outside := np.abs(w) > 2.0).any():
        w[outside] = rng.standard_normal(int(outside.sum()))
    return std * w


def zeros(shape: Shape, rng: Generator, dtype: DTypeLike = np.float32) -> Array:
    """W = 0."""
    calc_fan(shape)
    return np.zeros(shape, dtype=dtype)


def constant(
    shape: Shape, rng: Generator, dtype: DTypeLike = np.float32, value: float = 0.0
) -> Array:
    """W = value."""
    calc_fan(shape)
    return np.full(shape, value, dtype=dtype)


def uniform(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    low: float | None = None,
    high: float | None = None,
) -> Array:
    """W ~ U(low, high), Var(W) = (high - low)^2 / 12; a missing bound is -/+ 1/sqrt(fan_in):
    Glorot's "standard" init, PyTorch nn.Linear's default, the article's MNIST "Uniform"."""
    fan_in, _ = calc_fan(shape)
    bound = 1.0 / math.sqrt(fan_in)
    low = -bound if low is None else low
    high = bound if high is None else high
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return rng.uniform(low, high, shape).astype(dtype)


def normal(
    shape: Shape, rng: Generator, dtype: DTypeLike = np.float32, mean: float = 0.0, std: float = 1.0
) -> Array:
    """W ~ N(mean, std^2)."""
    calc_fan(shape)
    return (mean + std * rng.standard_normal(shape)).astype(dtype)


def variance_scaling(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "normal",
) -> Array:
    """Var(W) = scale / n, n = fan_in, fan_out or (fan_in + fan_out) / 2 by ``mode``.

    normal: W ~ N(0, scale / n), untruncated (the article's N(0, s / fan_in)).
    truncated_normal: N(0, s^2) cut at +-2 s, s = sqrt(scale / n) / 0.8796 (Keras).
    uniform: W ~ U(-sqrt(3 scale / n), sqrt(3 scale / n)).
    """
    std = math.sqrt(scale / _fan_n(shape, mode))
    if distribution == "normal":
        w = std * rng.standard_normal(shape)
    elif distribution == "truncated_normal":
        w = _truncated_normal(rng, std / TRUNCATED_NORMAL_STD, shape)
    elif distribution == "uniform":
        limit = math.sqrt(3.0) * std
        w = rng.uniform(-limit, limit, shape)
    else:
        raise ValueError(f"unknown distribution {distribution!r}")
    return w.astype(dtype)


def _scaled(family: str, shape: Shape, rng: Generator, dtype: DTypeLike, gain: float) -> Array:
    mode, distribution = _SCALED[family]
    return variance_scaling(shape, rng, dtype, gain**2, mode, distribution)


def xavier_uniform(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    gain: float = DEFAULT_GAINS["xavier_uniform"],
) -> Array:
    """W ~ U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)); Var = 2 gain^2 / (fan_in + fan_out)."""
    return _scaled("xavier_uniform", shape, rng, dtype, gain)


def xavier_normal(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    gain: float = DEFAULT_GAINS["xavier_normal"],
) -> Array:
    """W ~ N(0, 2 gain^2 / (fan_in + fan_out))."""
    return _scaled("xavier_normal", shape, rng, dtype, gain)


def he_uniform(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    gain: float = DEFAULT_GAINS["he_uniform"],
) -> Array:
    """W ~ U(-b, b), b = gain sqrt(3 / fan_in), gain sqrt(2); Var(W) = gain^2 / fan_in."""
    return _scaled("he_uniform", shape, rng, dtype, gain)


def he_normal(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    gain: float = DEFAULT_GAINS["he_normal"],
) -> Array:
    """W ~ N(0, gain^2 / fan_in) = N(0, 2 / fan_in) (torch kaiming_normal_, fan_in, relu)."""
    return _scaled("he_normal", shape, rng, dtype, gain)


def lecun_uniform(shape: Shape, rng: Generator, dtype: DTypeLike = np.float32) -> Array:
    """W ~ U(-sqrt(3 / fan_in), sqrt(3 / fan_in)); Var(W) = 1 / fan_in."""
    return _scaled("lecun_uniform", shape, rng, dtype, 1.0)


def lecun_normal(shape: Shape, rng: Generator, dtype: DTypeLike = np.float32) -> Array:
    """W ~ N(0, 1 / fan_in), untruncated (the article's "Xavier")."""
    return _scaled("lecun_normal", shape, rng, dtype, 1.0)


def orthogonal(
    shape: Shape,
    rng: Generator,
    dtype: DTypeLike = np.float32,
    gain: float = DEFAULT_GAINS["orthogonal"],
) -> Array:
    """W = gain Q, where A = QR, A ~ N(0, 1) (transposed when wide), Q's signs fixed by diag(R).

    Tall: W^T W = gain^2 I; wide: W W^T = gain^2 I; E[W_ij^2] = gain^2 min(m, n) / (m n).
    """
    fan_in, fan_out = calc_fan(shape)
    a = rng.standard_normal((fan_out, fan_in))
    wide = fan_out < fan_in
    q, r = np.linalg.qr(a.T if wide else a)
    q *= np.sign(np.diag(r))  # makes the factorization unique, so Q is Haar-distributed
    return (gain * (q.T if wide else q)).astype(dtype)


def identity(
    shape: Shape, rng: Generator, dtype: DTypeLike = np.float32, scale: float = 1.0
) -> Array:
    """W = scale I, shaped (fan_out, fan_in); ones on the main diagonal of a rectangle."""
    fan_in, fan_out = calc_fan(shape)
    return (scale * np.eye(fan_out, fan_in)).astype(dtype)


FAMILIES: dict[str, Callable[..., Array]] = {
    f.__name__: f
    for f in (zeros, constant, uniform, normal, variance_scaling, xavier_uniform, xavier_normal,
              he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal, identity)
}  # fmt: skip


def init_parameters(
    spec: InitSpec,
    sizes: list[int],
    rng: Generator,
    *,
    dtype: DTypeLike = np.float32,
    activation: Activation | None = None,
    x: Array | None = None,
) -> tuple[list[Array], list[Array]]:
    """Weights (sizes[l+1], sizes[l]) drawn in layer order from ``rng``; biases full of spec.bias
    (mean_field: spec.bias plus N(0, bias_variance) noise, drawn layer by layer with W).

    ``activation`` (hidden, z -> a) and ``x`` (a batch (N, sizes[0])) are needed for lsuv only.
    """
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes needs an input and an output layer, all >= 1, got {sizes}")
    shapes = list(zip(sizes[1:], sizes[:-1], strict=True))
    biases = [np.full(n, spec.bias, dtype=dtype) for n in sizes[1:]]
    family, params = family_and_params(spec)
    if family == "mean_field":
        ws, bs = sample_parameters(rng, sizes, **params)
        return [w.astype(dtype) for w in ws], [(spec.bias + b).astype(dtype) for b in bs]
    if family != "lsuv":
        return [FAMILIES[family](s, rng, dtype, **params) for s in shapes], biases
    if activation is None or x is None:
        raise ValueError("init.method lsuv needs the hidden activation and a data batch x")
    if np.ndim(x) != 2 or np.shape(x)[1] != sizes[0]:
        raise ValueError(f"lsuv: x must be shaped (N, {sizes[0]}), got {np.shape(x)}")
    weights = [orthogonal(s, rng, np.float64) for s in shapes]  # Mishkin & Matas's step 1
    biases64 = [b.astype(np.float64) for b in biases]
    tol, max_iter = params["lsuv_tolerance"], params["lsuv_max_iter"]
    weights = lsuv(weights, biases64, x, activation, tol, max_iter)
    return [w.astype(dtype) for w in weights], biases


def variance_of(spec: InitSpec, shape: Shape) -> float | None:
    """The theoretical mean square E[W_ij^2] of ``spec``'s weights of ``shape``: Var(W) for
    every zero-mean method; for constant, identity and a shifted normal/uniform, the mean
    square the forward recursion Var(z) ~ n E[W^2] E[a^2] uses. None for lsuv (data-made)."""
    family, p = family_and_params(spec)
    fan_in, fan_out = calc_fan(shape)
    if family in ("zeros", "constant"):
        return p.get("value", 0.0) ** 2
    if family == "uniform":
        bound = 1.0 / math.sqrt(fan_in)
        low, high = p.get("low", -bound), p.get("high", bound)
        return (low**2 + low * high + high**2) / 3.0
    if family == "normal":
        return p.get("mean", 0.0) ** 2 + p.get("std", 1.0) ** 2
    if family in ("orthogonal", "identity"):
        factor = p.get("gain", p.get("scale", 1.0))  # orthogonal reads gain, identity scale
        return factor**2 * min(fan_in, fan_out) / (fan_in * fan_out)
    if family in _SCALED:
        mode, _ = _SCALED[family]
        return p.get("gain", DEFAULT_GAINS.get(family, 1.0)) ** 2 / _fan_n(shape, mode)
    if family == "variance_scaling":
        return p["scale"] / _fan_n(shape, p["mode"])
    if family == "mean_field":  # the orthogonal draw is rescaled to the same mean square
        return float(p["weight_variance"]) / fan_in
    return None  # lsuv: made by the data


def bias_mean_square(spec: InitSpec) -> float:
    """E[b^2] of spec's biases: bias^2, plus the bias variance for mean_field."""
    noise = spec.bias_variance if family_and_params(spec)[0] == "mean_field" else 0.0
    return spec.bias**2 + noise
