"""First-order optimizers with one interface: ``step(params, grads)`` updates params in place.

The params are the network's own arrays, so every update writes into them and never
rebinds them. Per-parameter state (velocities, moment estimates) is kept by the param's
index in the list, allocated on the first step with the param's shape and dtype, and the
gradients are only read (the records may still need them after the step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from engine.experiment import OptimizerSpec

Array = NDArray[np.floating[Any]]


class Optimizer(Protocol):
    def step(self, params: list[Array], grads: list[Array]) -> None:
        """Update every params[i] in place from grads[i] (same shape and order)."""
        ...


def _zeros_like_each(state: list[Array], params: list[Array]) -> list[Array]:
    """The optimizer's state list, filled with zeros shaped like params on first use."""
    if not state:
        state.extend(np.zeros_like(p) for p in params)
    return state


@dataclass
class GradientDescent:
    """w -= lr * dw (plain gradient descent; "gd" on the full set, "sgd" on mini-batches)."""

    learning_rate: float
    _scratch: list[Array] = field(default_factory=list, repr=False)

    def step(self, params: list[Array], grads: list[Array]) -> None:
        scratch = _zeros_like_each(self._scratch, params)
        for w, dw, s in zip(params, grads, scratch, strict=True):
            np.multiply(dw, self.learning_rate, out=s)
            w -= s


@dataclass
class Momentum:
    """v = mu * v - lr * dw; w += v (cs231n's sgd_momentum)."""

    learning_rate: float
    momentum: float = 0.9
    _velocity: list[Array] = field(default_factory=list, repr=False)
    _scratch: list[Array] = field(default_factory=list, repr=False)

    def step(self, params: list[Array], grads: list[Array]) -> None:
        velocity = _zeros_like_each(self._velocity, params)
        scratch = _zeros_like_each(self._scratch, params)
        for w, dw, v, s in zip(params, grads, velocity, scratch, strict=True):
            v *= self.momentum
            np.multiply(dw, self.learning_rate, out=s)
            v -= s
            w += v


@dataclass
class RMSProp:
    """cache = rho * cache + (1 - rho) * dw^2; w -= lr * dw / (sqrt(cache) + eps)."""

    learning_rate: float
    rho: float = 0.9
    eps: float = 1e-8
    _cache: list[Array] = field(default_factory=list, repr=False)
    _scratch: list[Array] = field(default_factory=list, repr=False)

    def step(self, params: list[Array], grads: list[Array]) -> None:
        caches = _zeros_like_each(self._cache, params)
        scratch = _zeros_like_each(self._scratch, params)
        for w, dw, c, s in zip(params, grads, caches, scratch, strict=True):
            c *= self.rho
            np.multiply(dw, dw, out=s)
            s *= 1 - self.rho
            c += s
            np.sqrt(c, out=s)
            s += self.eps
            np.divide(dw, s, out=s)
            s *= self.learning_rate
            w -= s


@dataclass
class Adam:
    """Adam with bias correction; t counts steps from 1.

    m = b1 m + (1 - b1) dw; v = b2 v + (1 - b2) dw^2;
    w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    """

    learning_rate: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    _m: list[Array] = field(default_factory=list, repr=False)
    _v: list[Array] = field(default_factory=list, repr=False)
    _scratch: list[Array] = field(default_factory=list, repr=False)

    def step(self, params: list[Array], grads: list[Array]) -> None:
        ms = _zeros_like_each(self._m, params)
        vs = _zeros_like_each(self._v, params)
        scratch = _zeros_like_each(self._scratch, params)
        self.t += 1
        m_correction = 1 - self.beta1**self.t
        v_correction = 1 - self.beta2**self.t
        for w, dw, m, v, s in zip(params, grads, ms, vs, scratch, strict=True):
            m *= self.beta1
            np.multiply(dw, 1 - self.beta1, out=s)
            m += s
            v *= self.beta2
            np.multiply(dw, dw, out=s)
            s *= 1 - self.beta2
            v += s
            np.divide(v, v_correction, out=s)
            np.sqrt(s, out=s)
            s += self.eps
            np.divide(m, s, out=s)
            s *= self.learning_rate / m_correction
            w -= s


def build_optimizer(spec: OptimizerSpec) -> Optimizer:
    """The optimizer a spec names, with the spec's hyperparameters."""
    lr = float(spec.learning_rate)
    match spec.name:
        case "gd" | "sgd":
            return GradientDescent(lr)
        case "momentum":
            return Momentum(lr, momentum=spec.momentum)
        case "rmsprop":
            return RMSProp(lr, rho=spec.rho, eps=spec.eps)
        case "adam":
            return Adam(lr, beta1=spec.beta1, beta2=spec.beta2, eps=spec.eps)
    raise ValueError(f"unknown optimizer {spec.name!r}")
