"""Section IV's variance recursion against measurement and closed forms."""

import math

import pytest

from engine.spec import resolve
from engine.theory import gaussian_moments, variance_report


def test_gaussian_moments_closed_forms() -> None:
    assert gaussian_moments("linear", 2.0) == pytest.approx((2.0, 1.0))
    assert gaussian_moments("relu", 2.0) == pytest.approx((1.0, 0.5), rel=1e-3)
    # E[sigmoid(z)^2] at q -> 0 is 1/4, and E[tanh'(z)^2] is 1
    assert gaussian_moments("sigmoid", 1e-12)[0] == pytest.approx(0.25)
    assert gaussian_moments("tanh", 1e-12)[1] == pytest.approx(1.0)


@pytest.mark.parametrize(("method", "seed"), [("lecun_normal", 0), ("xavier_normal", 1),
                                              ("too_small", 2), ("lecun_uniform", 3)])  # fmt: skip
def test_linear_wide_network_matches_theory_within_ten_percent(method: str, seed: int) -> None:
    spec = resolve({"dataset": {"name": "mnist", "n_samples": 1000},
                    "training": {"iterations": 0},
                    "model": {"hidden": [256, 512, 256, 256], "activation": "linear",
                              "dtype": "float64"},
                    "init": {"method": method, "seed": seed}})  # fmt: skip
    report = variance_report(spec)
    for layer in report["layers"][:-1]:  # hidden layers: the 10-unit output is too narrow
        pre, grads = layer["preactivations"], layer["activation_grads"]
        assert pre["measured"] == pytest.approx(pre["one_step"], rel=0.10)
        assert pre["measured"] == pytest.approx(pre["article"], rel=0.2)  # errors compound
        if layer["layer"] < len(report["layers"]) - 1:  # its gradient sums over >= 256 units
            assert grads["measured"] == pytest.approx(grads["one_step"], rel=0.10)
            assert grads["measured"] == pytest.approx(grads["article"], rel=0.2)


def test_relu_breaks_the_article_but_not_the_mean_field_closure() -> None:
    spec = resolve({"dataset": {"name": "mnist", "n_samples": 1000},
                    "training": {"iterations": 0},
                    "model": {"hidden": [512] * 6, "activation": "relu", "dtype": "float64"},
                    "init": {"method": "xavier"}})  # fmt: skip
    report = variance_report(spec)
    last = report["layers"][5]["preactivations"]
    assert last["measured"] == pytest.approx(last["mean_field"], rel=0.15)
    assert last["article"] > 10 * last["measured"]  # halving per layer: 2^5 = 32x
    holds = {a["name"]: a["holds"] for a in report["assumptions"]}
    assert holds["odd_activation_linear_at_zero"] is False and holds["equal_widths"] is False


def test_he_keeps_relu_variance_level() -> None:
    spec = resolve({"dataset": {"name": "mnist", "n_samples": 1000},
                    "training": {"iterations": 0},
                    "model": {"hidden": [512] * 6, "activation": "relu", "dtype": "float64"},
                    "init": {"method": "he_normal"}})  # fmt: skip
    layers = variance_report(spec)["layers"]
    second, last = layers[1]["preactivations"]["measured"], layers[5]["preactivations"]["measured"]
    assert math.isclose(second, last, rel_tol=0.3)
