"""The variance report at its edges: a mean square past float64's range is infinite (the
report writes it as null) without a RuntimeWarning; Var(W) is the initializer's formula,
or the drawn weights' mean square for LSUV, which has none."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.spec import resolve
from engine.theory import _mean_square, variance_report
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
