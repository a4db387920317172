"""Section IV's predictions against Monte Carlo of wide random networks, built here in NumPy.

Every supported activation, with a nonzero bias: the forward recursion must carry the bias
(E[z^2] = n Var(W) E[a^2] + b^2) and the mean-field backward recursion the slope factor
E[f'(z)^2]. The networks, their forward and backward passes are this file's own, so an error
the engine shares between its network and its theory still shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from engine.activations import ACTIVATIONS
from engine.datasets import load_dataset
from engine.experiment import ExperimentSpec
from engine.spec import resolve
from engine.theory import variance_report
from engine.train import Training

Array = NDArray[np.float64]
WIDTH, DEPTH, SAMPLES, DRAWS = 512, 4, 256, 6
BIAS = 0.5


def act_and_slope(name: str, z: Array) -> tuple[Array, Array]:
    """f(z) and f'(z), written out here rather than taken from engine.activations."""
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01)
    if name == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    if name == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    assert name == "linear"
    return z, np.ones_like(z)


def monte_carlo(spec: ExperimentSpec, x: Array, y: NDArray[Any]) -> tuple[Array, Array, float]:
    """Mean over DRAWS fresh networks of E[z[l]^2] (every layer), E[(dC/da[l])^2] (hidden
    layers) and E[(dC/dlogits)^2], for N(0, scale/fan_in) weights and constant biases."""
    rng = np.random.default_rng(1234)
    sizes, bias, name = spec.sizes, spec.init.bias, spec.model.activation
    n_layers = len(sizes) - 1
    forward, backward, top = np.zeros(n_layers), np.zeros(n_layers - 1), 0.0
    for _ in range(DRAWS):
        weights = [rng.normal(0.0, np.sqrt(spec.init.scale / sizes[i]), (sizes[i + 1], sizes[i]))
                   for i in range(n_layers)]  # fmt: skip
        h, slopes = x, []
        for layer, w in enumerate(weights):
            z = h @ w.T + bias
            forward[layer] += np.mean(z * z)
            if layer < n_layers - 1:
                h, slope = act_and_slope(name, z)
                slopes.append(slope)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        dz = p.copy()
        dz[np.arange(len(y)), y] -= 1.0
        dz /= len(y)  # the mean cross-entropy's gradient
        top += np.mean(dz * dz)
        for layer in range(n_layers - 1, 0, -1):
            da = dz @ weights[layer]
            backward[layer - 1] += np.mean(da * da)
            dz = da * slopes[layer - 1]
    return forward / DRAWS, backward / DRAWS, top / DRAWS


def wide_spec(activation: str, bias: float) -> ExperimentSpec:
    return resolve({
        "dataset": {"name": "mnist", "n_samples": SAMPLES},
        "training": {"iterations": 0},
        "model": {"hidden": [WIDTH] * DEPTH, "activation": activation, "dtype": "float64"},
        "init": {"method": "variance_scaling", "distribution": "normal", "mode": "fan_in",
                 "scale": 2.0 if "relu" in activation else 1.0, "bias": bias},
    })  # fmt: skip


@pytest.fixture(scope="module", params=sorted(ACTIVATIONS))
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], Array, Array, float]:
    spec = wide_spec(request.param, BIAS)
    data = load_dataset(spec.dataset, dtype=np.float64)
    forward, backward, top = monte_carlo(spec, data.x_train[:SAMPLES], data.y_train[:SAMPLES])
    return request.param, variance_report(spec), forward, backward, top


def test_every_activation_of_the_catalog_is_covered() -> None:
    assert set(ACTIVATIONS) == {"relu", "leaky_relu", "tanh", "sigmoid", "linear"}


def test_forward_prediction_with_a_bias_matches_monte_carlo(case: Any) -> None:
    name, report, forward, _, _ = case
    for layer in report["layers"][:-1]:  # hidden layers: the 10-unit output is too narrow
        predicted = layer["preactivations"]["mean_field"]
        assert predicted == pytest.approx(forward[layer["layer"] - 1], rel=0.15), (name, layer)
        if name == "linear":  # the article's linear regime is exact for a linear network
            assert layer["preactivations"]["article"] == pytest.approx(predicted, rel=1e-9)


def test_one_step_and_measured_follow_from_the_networks_own_layers(case: Any) -> None:
    """From the engine's network at initialization, forward here: the measured E[z^2] of each
    layer, and one_step = n Var(W) E[a^2] + b^2 from the measured layer below."""
    name, report, _, _, _ = case
    spec = wide_spec(name, BIAS)
    run = Training(spec)
    h = run.data.x_train[:SAMPLES].astype(np.float64)
    for layer, (w, b) in zip(report["layers"], zip(run.net.weights, run.net.biases, strict=True),
                             strict=True):  # fmt: skip
        z = h @ w.T + b
        pre = layer["preactivations"]
        assert pre["measured"] == pytest.approx(np.mean(z * z), rel=1e-9), (name, layer)
        expected = w.shape[1] * layer["weight_variance"] * np.mean(h * h) + BIAS**2
        assert pre["one_step"] == pytest.approx(expected, rel=1e-9), (name, layer)
        h = act_and_slope(name, z)[0]


def test_backward_prediction_matches_monte_carlo(case: Any) -> None:
    """The mean-field backward chain, relative to the output gradient, against Monte Carlo:
    each layer down multiplies by n Var(W) E[f'(z)^2]."""
    name, report, _, backward, top = case
    measured_top = report["output_grad_second_moment"]
    for layer in report["layers"][:-1]:
        predicted = layer["activation_grads"]["mean_field"] / measured_top
        expected = backward[layer["layer"] - 1] / top
        assert predicted == pytest.approx(expected, rel=0.15), (name, layer)


def test_the_bias_is_large_enough_to_matter() -> None:
    """Without the bias the first hidden layer's E[z^2] would be far below the one predicted:
    what makes the tests above fail when the recursion drops b^2."""
    spec = wide_spec("linear", BIAS)
    no_bias = variance_report(wide_spec("linear", 0.0))["layers"][0]["preactivations"]
    with_bias = variance_report(spec)["layers"][0]["preactivations"]
    assert with_bias["mean_field"] - no_bias["mean_field"] == pytest.approx(BIAS**2, rel=1e-9)
    assert no_bias["mean_field"] < 2 * BIAS**2
