"""Hidden-layer activations as forward/backward pairs (cs231n style).

Every ``*_forward(z)`` takes pre-activations ``z`` of any shape, usually (N, n_l), and
returns ``(a, cache)`` with ``a`` shaped like ``z``; every ``*_backward(da, cache)`` returns
``dz`` shaped like ``da``. Outputs keep the input's dtype (float32 stays float32).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.vocabulary import LEAKY_SLOPE

Array = NDArray[np.floating[Any]]
Forward = Callable[[Array], tuple[Array, Any]]
Backward = Callable[[Array, Any], Array]


def relu_forward(z: Array) -> tuple[Array, Array]:
    """a = max(z, 0); the cache is z."""
    return np.maximum(z, 0), z


def relu_backward(da: Array, cache: Array) -> Array:
    """dz = da where z > 0, else 0 (the derivative at exactly 0 is 0, so zero init stays dead)."""
    return da * (cache > 0)


def leaky_relu_forward(z: Array) -> tuple[Array, Array]:
    """a = z where z > 0, else LEAKY_SLOPE z; the cache is z."""
    return np.where(z > 0, z, LEAKY_SLOPE * z), z


def leaky_relu_backward(da: Array, cache: Array) -> Array:
    """dz = da where z > 0, else LEAKY_SLOPE da."""
    return np.where(cache > 0, da, LEAKY_SLOPE * da)


def tanh_forward(z: Array) -> tuple[Array, Array]:
    """a = tanh(z); the cache is a."""
    a = np.tanh(z)
    return a, a


def tanh_backward(da: Array, cache: Array) -> Array:
    """dz = da (1 - a^2), in one buffer."""
    dz = np.multiply(cache, cache)
    np.subtract(1, dz, out=dz)
    dz *= da
    return dz


def sigmoid(z: Array) -> Array:
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z| <= 0."""
    e = np.exp(-np.abs(z))
    positive = np.add(e, 1)
    np.reciprocal(positive, out=positive)
    # for z < 0, 1 / (1 + exp(-z)) = exp(z) / (1 + exp(z)) = e * positive
    return np.where(z >= 0, positive, e * positive)


def sigmoid_forward(z: Array) -> tuple[Array, Array]:
    """a = sigmoid(z); the cache is a."""
    a = sigmoid(z)
    return a, a


def sigmoid_backward(da: Array, cache: Array) -> Array:
    """dz = da a (1 - a), in one buffer."""
    dz = np.subtract(1, cache)
    dz *= cache
    dz *= da
    return dz


def linear_forward(z: Array) -> tuple[Array, None]:
    """a = z (the same array: nothing downstream writes into activations)."""
    return z, None


def linear_backward(da: Array, cache: None) -> Array:
    """dz = da."""
    return da


ACTIVATIONS: dict[str, tuple[Forward, Backward]] = {
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "linear": (linear_forward, linear_backward),
}


def _pair(name: str) -> tuple[Forward, Backward]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


def activation_forward(name: str, z: Array) -> tuple[Array, Any]:
    """The named activation's forward: z (N, n) -> (a (N, n), cache)."""
    return _pair(name)[0](z)


def activation_backward(name: str, da: Array, cache: Any) -> Array:
    """The named activation's backward: da (N, n), cache -> dz (N, n)."""
    return _pair(name)[1](da, cache)
