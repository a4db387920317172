"""The record's signal section: measured on the job's own parameters exactly as
engine.propagation measures them, present only when due, and near mean field for a wide net."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.meanfield import signal_propagation
from engine.propagation import input_output_jacobian, jacobian_spectrum, layer_statistics
from engine.spec import resolve
from engine.train import Training


def job(hidden: list[int], init: dict[str, Any], iterations: int = 0, every: int = 1,
        pairs: int = 8) -> Training:  # fmt: skip
    spec = resolve({
        "dataset": {"name": "circle", "n_samples": 100},
        "model": {"hidden": hidden, "activation": "tanh", "dtype": "float64"},
        "init": init,
        "training": {"iterations": iterations},
        "record": {"signal": {"every": every, "pairs": pairs, "bins": 20},
                   "boundary": {"every": 0}, "histograms": {"every": 0}},
    })  # fmt: skip
    return Training(spec)


MEAN_FIELD = {"method": "mean_field", "weight_variance": 2.0, "bias_variance": 0.05, "seed": 3}


def test_the_section_is_what_engine_propagation_measures_on_the_jobs_parameters():
    run = job([40, 30, 30, 30], MEAN_FIELD)
    [record] = run.records()
    signal = record["signal"]
    weights, biases = run.net.weights[:-1], run.net.biases[:-1]  # the hidden layers
    x = run.data.x_train[:16]
    expected = layer_statistics(weights, biases, "tanh", x)
    assert [layer["layer"] for layer in signal["layers"]] == [1, 2, 3, 4]
    np.testing.assert_allclose([la["q"] for la in signal["layers"]], expected.q.mean(axis=1))
    np.testing.assert_allclose([la["c"] for la in signal["layers"]], expected.c.mean(axis=1))
    # the hidden stack's Jacobian, d a[4] / d a[1], by hand: D W for layers 2..4
    a1 = a = np.tanh(weights[0] @ x[0] + biases[0])
    jac = np.eye(40)
    for w, b in zip(weights[1:], biases[1:], strict=True):
        z = w @ a + b
        a, jac = np.tanh(z), (1 - np.tanh(z) ** 2)[:, None] * (w @ jac)
    s = np.linalg.svd(jac, compute_uv=False)
    assert signal["jacobian"]["mean_squared"] == pytest.approx(np.mean(s**2), rel=1e-10)
    assert signal["jacobian"]["largest"] == pytest.approx(s.max(), rel=1e-10)
    assert signal["jacobian"]["smallest"] == pytest.approx(s.min(), rel=1e-8)
    spectrum = jacobian_spectrum(input_output_jacobian(weights[1:], biases[1:], "tanh", a1), 20)
    assert signal["jacobian"]["histogram"]["counts"] == spectrum.counts.tolist()
    assert sum(signal["jacobian"]["histogram"]["counts"]) == 30
    theory = signal_propagation("tanh", 2.0, 0.05)
    assert signal["theory"]["c_star"] == pytest.approx(theory.c_star)
    assert signal["xi_c"]["theory"] == pytest.approx(theory.xi_c)
    assert signal["jacobian"]["mean_squared_theory"] == pytest.approx(theory.chi_1**3)


def test_the_section_is_recorded_only_when_due_and_only_when_asked_for():
    records = job([8, 8], MEAN_FIELD, iterations=5, every=2).records()
    assert [r["iteration"] for r in records if "signal" in r] == [0, 2, 4, 5]  # 5: the last
    assert all("signal" not in r for r in job([8, 8], MEAN_FIELD, iterations=2, every=0).records())


def test_other_initializers_are_measured_without_theory():
    [record] = job([8], {"method": "xavier_normal"}).records()
    signal = record["signal"]
    assert signal["theory"] is None and signal["xi_c"]["theory"] is None
    assert signal["jacobian"] is None  # one hidden layer: no hidden stack
    assert signal["layers"][0]["q"] > 0 and signal["layers"][0]["q_theory"] is None


@pytest.mark.parametrize(("sw", "sb"), [(1.0, 0.1), (2.5, 0.05)])
def test_a_wide_network_follows_mean_field_layer_by_layer(sw, sb):
    """Width 1000, 10 tanh layers (the memory budget allows 10 M parameters), 16 pairs of the
    circle's points, one network. Seen over init seeds 0-3 (12 layers): |c[l] - theory| at
    most 0.046, |q[l] / theory - 1| at most 0.095 (the shared biases move a layer's q
    together), the last six layers' q within 1.1 %."""
    init = {"method": "mean_field", "weight_variance": sw, "bias_variance": sb}
    [record] = job([1000] * 10, init, pairs=16).records()
    layers = record["signal"]["layers"]
    q, q_theory = (np.array([la[k] for la in layers]) for k in ("q", "q_theory"))
    c, c_theory = (np.array([la[k] for la in layers]) for k in ("c", "c_theory"))
    assert np.abs(c - c_theory).max() < 0.06
    np.testing.assert_allclose(q, q_theory, rtol=0.12)
    assert q[-6:].mean() == pytest.approx(q_theory[-6:].mean(), rel=0.03)
    assert q_theory[-1] == pytest.approx(record["signal"]["theory"]["q_star"], rel=0.01)
