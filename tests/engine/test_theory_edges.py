"""The variance report at its edges: a mean square past float64's range is infinite (the
report writes it as null) without a RuntimeWarning; Var(W) is the initializer's formula,
or the drawn weights' mean square for LSUV, which has none."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.spec import resolve
from engine.theory import _mean_square, assumptions, gaussian_moments, variance_report
from engine.train import Training


@pytest.mark.filterwarnings("error")
def test_a_mean_square_past_float64s_range_is_infinite_without_warnings() -> None:
    assert _mean_square(np.array([1e200, 3.0], dtype=np.float64)) == math.inf
    assert _mean_square(np.array([3e38, 1.0], dtype=np.float32)) == pytest.approx(4.5e76)
    assert math.isnan(_mean_square(np.array([np.nan, 1.0])))


SMALL_NET = {"dataset": {"name": "circle", "n_samples": 60},
             "model": {"hidden": [64, 32], "activation": "tanh", "dtype": "float64"}}  # fmt: skip


def test_the_reported_weight_variance_is_the_formula_not_the_draw() -> None:
    # He's Var(W) = 2 / fan_in exactly; a 64 x 32 draw misses it by a few percent
    report = variance_report(resolve({**SMALL_NET, "init": {"method": "he_normal"}}))
    fan_ins = [layer["fan_in"] for layer in report["layers"]]
    assert fan_ins == [2, 64, 32]
    assert [layer["fan_out"] for layer in report["layers"]] == [64, 32, 1]
    reported = [layer["weight_variance"] for layer in report["layers"]]
    assert reported == [pytest.approx(2 / n, rel=1e-12) for n in fan_ins]


def test_lsuvs_reported_weight_variance_is_the_drawn_weights_mean_square() -> None:
    # LSUV has no formula (variance_of is None): the report measures the network it made
    spec = resolve({**SMALL_NET, "init": {"method": "lsuv"}})
    weights = Training(spec).net.weights
    report = variance_report(spec)
    reported = [layer["weight_variance"] for layer in report["layers"]]
    assert reported == [pytest.approx(float(np.mean(w**2)), rel=1e-12) for w in weights]


def test_only_hidden_layers_get_backward_predictions() -> None:
    # the output's gradient is where the backward recursion starts: nothing to predict there
    report = variance_report(resolve({**SMALL_NET, "init": {"method": "he_normal"}}))
    *hidden, output = [layer["activation_grads"] for layer in report["layers"]]
    assert set(output.values()) == {None}
    for grads in hidden:
        assert all(isinstance(value, float) and value > 0 for value in grads.values()), grads


def _relu_moments(mean: float, var: float) -> tuple[float, float]:
    # z ~ N(m, s^2): E[relu(z)^2] = (m^2 + s^2) Phi(m/s) + m s phi(m/s), E[relu'(z)^2] = Phi(m/s)
    s = math.sqrt(var)
    phi = math.exp(-0.5 * (mean / s) ** 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(mean / (s * math.sqrt(2))))
    return (mean**2 + var) * cdf + mean * s * phi, cdf


@pytest.mark.parametrize(("mean", "q"), [(0.5, 2.0), (-0.7, 0.9), (0.3, 0.5), (0.0, 0.25)])
def test_gaussian_moments_with_a_bias_mean_against_closed_forms(mean: float, q: float) -> None:
    # q is the second moment about zero: z ~ N(mean, q - mean^2)
    assert gaussian_moments("linear", q, mean) == pytest.approx((q, 1.0), rel=1e-12)
    (square, slope), (square_truth, slope_truth) = (
        gaussian_moments("relu", q, mean),
        _relu_moments(mean, q - mean**2),
    )
    assert square == pytest.approx(square_truth, rel=2e-3)
    # relu' is a step: 80 Gauss-Hermite nodes give P(z > 0) only to the weight of one node
    assert slope == pytest.approx(slope_truth, abs=0.05)


def test_gaussian_moments_of_a_constant_z_and_of_sigmoids_slope_at_zero() -> None:
    # q = mean^2 leaves no variance: z is the bias itself
    assert gaussian_moments("relu", 0.25, 0.5) == pytest.approx((0.25, 1.0), rel=1e-12)
    assert gaussian_moments("relu", 0.25, -0.5) == pytest.approx((0.0, 0.0), abs=1e-12)
    # sigmoid'(0) = 1/4, so E[sigmoid'(z)^2] -> 1/16 as q -> 0
    assert gaussian_moments("sigmoid", 1e-12)[1] == pytest.approx(1 / 16, rel=1e-9)
    assert gaussian_moments("tanh", math.inf) == (math.inf, math.inf)


def test_the_reports_header_is_the_spec_the_sample_and_the_output_gradient() -> None:
    # the output gradient recomputed by hand: a tanh forward pass, sigmoid, (p - y) / N
    spec = resolve({**SMALL_NET, "init": {"method": "he_normal", "seed": 3}})
    run = Training(spec)
    x, y = run.data.x_train, run.data.y_train
    h = x
    for w, b in zip(run.net.weights[:-1], run.net.biases[:-1], strict=True):
        h = np.tanh(h @ w.T + b)
    logits = (h @ run.net.weights[-1].T + run.net.biases[-1])[:, 0]
    dlogits = (1 / (1 + np.exp(-logits)) - y) / len(y)
    report = variance_report(spec)
    assert (report["activation"], report["init"], report["samples"]) == ("tanh", "he_normal", 60)
    assert report["input_second_moment"] == pytest.approx(float(np.mean(x**2)), rel=1e-12)
    assert report["output_grad_second_moment"] == pytest.approx(
        float(np.mean(dlogits**2)), rel=1e-9
    )
    q = [layer["preactivations"]["mean_field"] for layer in report["layers"]]
    assert report["assumptions"] == assumptions(spec, x, q)
