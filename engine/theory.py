"""Section IV's variance argument, predicted layer by layer and measured at initialization.

With zero-mean independent weights, a pre-activation's second moment is exactly
``E[z[l]^2] = n[l-1] Var(W[l]) E[a[l-1]^2] + b^2`` (in expectation over the weights), and the
back-propagated ``E[(dC/da[l-1])^2] = n[l] Var(W[l]) E[(dC/dz[l])^2]``. Two closures of that
recursion are reported, chained from the input (or the output gradient): the article's linear
regime (f(z) = z, f' = 1) and the mean-field one
(z Gaussian, so E[f(z)^2] and E[f'(z)^2] are exact Gaussian integrals); ``one_step`` predicts
each layer from the measured layer next to it. Measured values are
second moments about zero on a data sample, the quantity the recursion predicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.activations import activation_backward, activation_forward
from engine.experiment import ExperimentSpec
from engine.init import bias_mean_square, variance_of
from engine.stats import finite_or_none
from engine.train import Training

MAX_SAMPLES = 1000
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()  # expectation under N(0, 1)


def gaussian_moments(activation: str, q: float, mean: float = 0.0) -> tuple[float, float]:
    """(E[f(z)^2], E[f'(z)^2]) for z Gaussian with mean ``mean`` and second moment ``q``
    (z ~ N(mean, q - mean^2): a constant bias is the mean of every unit's z), by
    Gauss-Hermite quadrature."""
    if not np.isfinite(q):
        return q, q
    z = mean + np.sqrt(max(q - mean**2, 0.0)) * _NODES
    a, cache = activation_forward(activation, z)
    slope = activation_backward(activation, np.ones_like(z), cache)
    return float(_WEIGHTS @ a**2), float(_WEIGHTS @ slope**2)


def _mean_square(x: NDArray[Any]) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.square(x, dtype=np.float64)))


def variance_report(spec: ExperimentSpec) -> dict[str, Any]:
    """Predicted and measured per-layer variances of a spec's network at initialization."""
    run = Training(spec)
    x = run.data.x_train[:MAX_SAMPLES]
    y = run.data.y_train[:MAX_SAMPLES]
    step = run.net.loss_and_grads(x, y)
    sizes, act = spec.sizes, spec.model.activation
    n_layers = len(sizes) - 1
    var_w = []
    for w in run.net.weights:
        theory = variance_of(spec.init, w.shape)
        var_w.append(theory if theory is not None else _mean_square(w))
    bias2 = bias_mean_square(spec.init)

    q_article, q_field = [], []
    m_article = m_field = _mean_square(x)
    for layer in range(n_layers):
        q_a = sizes[layer] * var_w[layer] * m_article + bias2
        q_f = sizes[layer] * var_w[layer] * m_field + bias2
        q_article.append(q_a)
        q_field.append(q_f)
        m_article, m_field = q_a, gaussian_moments(act, q_f, spec.init.bias)[0]

    # backward from the measured output gradient, through every hidden layer
    g_article = [0.0] * n_layers
    g_field = [0.0] * n_layers
    top = _mean_square(step.da[-1])  # dC/dz at the output (the logits)
    dz_article = dz_field = top
    for layer in range(n_layers - 1, 0, -1):
        fan_out = sizes[layer + 1]
        g_article[layer - 1] = fan_out * var_w[layer] * dz_article
        g_field[layer - 1] = fan_out * var_w[layer] * dz_field
        dz_article = g_article[layer - 1]
        dz_field = g_field[layer - 1] * gaussian_moments(act, q_field[layer - 1], spec.init.bias)[1]

    # one step: each layer predicted from the measured layer next to it, so errors don't compound
    measured_a = [_mean_square(x)] + [_mean_square(a) for a in step.a]
    measured_dz = [
        _mean_square(activation_backward(act, da, activation_forward(act, z)[1]))
        for z, da in zip(step.z[:-1], step.da[:-1], strict=True)
    ] + [top]

    layers = []
    for layer in range(n_layers):
        hidden = layer < n_layers - 1
        layers.append({
            "layer": layer + 1,
            "fan_in": sizes[layer],
            "fan_out": sizes[layer + 1],
            "weight_variance": finite_or_none(var_w[layer]),
            "preactivations": {
                "article": finite_or_none(q_article[layer]),
                "mean_field": finite_or_none(q_field[layer]),
                "one_step": finite_or_none(sizes[layer] * var_w[layer] * measured_a[layer] + bias2),
                "measured": finite_or_none(_mean_square(step.z[layer])),
            },
            "activation_grads": {
                "article": finite_or_none(g_article[layer]) if hidden else None,
                "mean_field": finite_or_none(g_field[layer]) if hidden else None,
                "one_step": finite_or_none(
                    sizes[layer + 2] * var_w[layer + 1] * measured_dz[layer + 1]
                ) if hidden else None,
                "measured": finite_or_none(_mean_square(step.da[layer])) if hidden else None,
            },
        })  # fmt: skip
    return {
        "activation": act,
        "init": spec.init.method,
        "samples": len(y),
        "input_second_moment": finite_or_none(_mean_square(x)),
        "output_grad_second_moment": finite_or_none(top),
        "layers": layers,
        "assumptions": assumptions(spec, x, q_field),
    }


_ODD_LINEAR = {"linear", "tanh"}
_SATURATING = {"tanh", "sigmoid"}
_CORRELATED = {"orthogonal", "identity", "lsuv"}


def assumptions(spec: ExperimentSpec, x: NDArray[Any], q: list[float]) -> list[dict[str, Any]]:
    """Which of the derivation's assumptions hold for this network, and why not."""
    act, method, hidden = spec.model.activation, spec.init.method, spec.model.hidden
    widths = [spec.n_inputs, *hidden]
    peak = max(q[:-1], default=0.0)
    input_mean = float(np.abs(x.mean(axis=0)).max()) if len(x) else 0.0
    input_std = float(x.std(axis=0).mean()) if len(x) else 0.0
    checks = [
        ("zero_mean_independent_weights", method not in _CORRELATED and spec.init.mean == 0.0
         and not (method == "constant" and spec.init.value != 0.0),
         f"{method}: weights are drawn i.i.d. with mean zero"
         if method not in _CORRELATED else f"{method}: the entries of W are not independent"),
        ("odd_activation_linear_at_zero", act in _ODD_LINEAR,
         f"{act} is odd and has slope 1 at 0" if act in _ODD_LINEAR
         else f"{act} is not odd: it changes the second moment (ReLU halves it; He's factor 2)"),
        ("linear_regime", act not in _SATURATING or peak <= 1.0,
         f"largest predicted Var(z) is {peak:.3g}"
         + ("; tanh/sigmoid saturate beyond about 1" if act in _SATURATING else "")),
        ("equal_widths", len(set(widths)) <= 1,
         "every layer has the same width, so 1/fan_in and 1/fan_out agree" if len(set(widths)) <= 1
         else f"widths {widths} differ: no single variance keeps both the forward and backward "
              "signal (Xavier's 2/(fan_in+fan_out) is the compromise)"),
        ("zero_mean_inputs", input_mean <= 0.1 * max(input_std, 1e-12),
         f"largest input mean {input_mean:.3g} against mean input std {input_std:.3g}"),
    ]  # fmt: skip
    return [{"name": name, "holds": bool(ok), "detail": detail} for name, ok, detail in checks]
