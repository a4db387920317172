"""The variance report's assumption checks, each at the inputs that make it hold or fail.

``assumptions`` takes the data sample and the predicted Var(z) per layer as arguments, so
every check is driven here by inputs whose column means, stds and peaks are known exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.spec import resolve
from engine.theory import assumptions

NAMES = ["zero_mean_independent_weights", "odd_activation_linear_at_zero", "linear_regime",
         "equal_widths", "zero_mean_inputs"]  # fmt: skip
NO_DATA = np.zeros((0, 2))


def _checks(
    init: dict[str, Any] | None = None,
    activation: str = "tanh",
    hidden: list[int] | None = None,
    x: np.ndarray = NO_DATA,
    q: list[float] | None = None,
) -> dict[str, dict[str, Any]]:
    spec = resolve({"dataset": {"name": "circle", "n_samples": 60},
                    "model": {"hidden": [64, 32] if hidden is None else hidden,
                              "activation": activation},
                    "init": init or {"method": "he_normal"}})  # fmt: skip
    report = assumptions(spec, x, [0.5, 0.5, 0.5] if q is None else q)
    assert [item["name"] for item in report] == NAMES
    for item in report:
        assert set(item) == {"name", "holds", "detail"} and isinstance(item["holds"], bool)
    return {item["name"]: item for item in report}


@pytest.mark.parametrize(
    ("init", "holds"),
    [({"method": "he_normal"}, True), ({"method": "constant", "value": 0.0}, True),
     ({"method": "constant", "value": 0.3}, False), ({"method": "normal", "mean": 0.5}, False),
     ({"method": "normal", "mean": 1.0}, False)],
)  # fmt: skip
def test_weights_are_zero_mean_iid_unless_shifted(init: dict[str, Any], holds: bool) -> None:
    check = _checks(init)["zero_mean_independent_weights"]
    assert check["holds"] is holds
    assert "i.i.d." in check["detail"] and check["detail"].startswith(init["method"])


@pytest.mark.parametrize("method", ["orthogonal", "identity", "lsuv"])
def test_correlated_initializers_break_independence(method: str) -> None:
    check = _checks({"method": method})["zero_mean_independent_weights"]
    assert check["holds"] is False
    assert check["detail"] == f"{method}: the entries of W are not independent"


@pytest.mark.parametrize(
    ("activation", "odd"), [("linear", True), ("tanh", True), ("relu", False), ("sigmoid", False)]
)
def test_only_linear_and_tanh_are_odd_with_slope_one(activation: str, odd: bool) -> None:
    check = _checks(activation=activation)["odd_activation_linear_at_zero"]
    assert check["holds"] is odd
    assert check["detail"].startswith(f"{activation} is {'odd' if odd else 'not odd'}")


@pytest.mark.parametrize(
    ("activation", "q", "holds", "peak"),
    [("tanh", [0.5, 1.0, 50.0], True, "1"),  # the output layer's Var(z) is not a hidden one
     ("tanh", [0.5, 1.5, 50.0], False, "1.5"), ("sigmoid", [3.0, 0.5, 50.0], False, "3"),
     ("tanh", [50.0], True, "0"),  # no hidden layer: nothing can saturate
     ("relu", [5.0, 0.5, 0.5], True, "5"), ("linear", [7.0, 0.5, 0.5], True, "7")],
)  # fmt: skip
def test_only_saturating_activations_need_var_z_at_most_one(
    activation: str, q: list[float], holds: bool, peak: str
) -> None:
    hidden = [64, 32] if len(q) == 3 else []
    check = _checks(activation=activation, hidden=hidden, q=q)["linear_regime"]
    assert check["holds"] is holds
    base = f"largest predicted Var(z) is {peak}"
    saturating = activation in ("tanh", "sigmoid")
    assert check["detail"] == (base + "; tanh/sigmoid saturate beyond about 1" if saturating
                               else base)  # fmt: skip


def test_equal_widths_from_the_input_through_every_hidden_layer() -> None:
    same = _checks(hidden=[2, 2])["equal_widths"]  # circle has 2 inputs
    assert same["holds"] is True
    assert same["detail"] == "every layer has the same width, so 1/fan_in and 1/fan_out agree"
    two = _checks(hidden=[64, 64])["equal_widths"]
    assert two["holds"] is False
    assert two["detail"].startswith("widths [2, 64, 64] differ")
    assert two["detail"].endswith("signal (Xavier's 2/(fan_in+fan_out) is the compromise)")


def _columns(*columns: list[float]) -> np.ndarray:
    return np.array(columns, dtype=np.float64).T


@pytest.mark.parametrize(
    ("x", "holds", "mean", "std"),
    [  # (column means, column stds), std without Bessel's correction as numpy's default
        (_columns([-9, 11], [-10, 10]), True, "1", "10"),  # (1, 0), (10, 10): at the bound
        (_columns([-5, 15], [-15, 5]), False, "5", "10"),  # (5, -5): the overall mean is 0
        (_columns([1.2, 1.2], [-20, 20]), False, "1.2", "10"),  # stds (0, 20), overall 14
        (_columns([0.04, 0.06], [-0.01, 0.01]), False, "0.05", "0.01"),  # a std below 1
        (_columns([0.0, 0.0], [0.0, 0.0]), True, "0", "0"),  # constant zeros hold
        (NO_DATA, True, "0", "0"),  # no sample: nothing measured, nothing to blame
    ],
)  # fmt: skip
def test_input_means_within_a_tenth_of_the_mean_column_std(
    x: np.ndarray, holds: bool, mean: str, std: str
) -> None:
    with np.errstate(all="raise"):
        check = _checks(x=x)["zero_mean_inputs"]
    assert check["holds"] is holds
    assert check["detail"] == f"largest input mean {mean} against mean input std {std}"
