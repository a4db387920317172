"""``engine.lsuv.lsuv`` called directly: per-unit biases, float32 weights, dead and overflowing
layers, the strict tolerance and the defaults a direct caller gets (``InitSpec``'s)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engine.experiment import InitSpec
from engine.lsuv import lsuv


def _layers(seed: int, sizes: list[int], scale: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    weights = [
        scale * rng.standard_normal((m, n)) / math.sqrt(n) for n, m in itertools.pairwise(sizes)
    ]
    biases = [0.5 * rng.standard_normal(m) for m in sizes[1:]]  # differ from unit to unit
    return weights, biases


def test_each_layers_var_z_is_one_with_per_unit_biases_through_the_activation() -> None:
    # a weak start (scale 0.2: every Var(z) is below 1) and biases that differ per unit, so
    # z = a W^T + b is not a multiple of a W^T and the sign of b matters
    x = np.random.default_rng(1).standard_normal((400, 8)) + 0.5
    weights, biases = _layers(2, [8, 32, 32, 32, 4], 0.2)
    out = lsuv(weights, biases, x, np.tanh, tolerance=0.02, max_iter=50)
    a = x
    for layer, (w, b) in enumerate(zip(out, biases, strict=True)):
        z = a @ w.T + b
        assert abs(z.var() - 1.0) < 0.02, f"layer {layer + 1}"
        a = np.tanh(z)


def test_float32_weights_come_back_as_new_float64_arrays() -> None:
    x = np.random.default_rng(3).standard_normal((200, 6)).astype(np.float32)
    weights, biases = _layers(4, [6, 16, 3], 3.0)
    weights32 = [w.astype(np.float32) for w in weights]
    originals = [w.copy() for w in weights32]
    out = lsuv(weights32, biases, x, np.tanh, tolerance=0.01, max_iter=20)
    assert [w.dtype for w in out] == [np.float64, np.float64]
    for given, original in zip(weights32, originals, strict=True):
        np.testing.assert_array_equal(given, original)  # the caller's arrays are not touched
    z = x.astype(np.float64) @ out[0].T + biases[0]
    assert abs(z.var() - 1.0) < 0.01


@pytest.mark.filterwarnings("error")
def test_a_dead_layer_is_left_as_it_is() -> None:
    # Var(z) = 0: no rescaling can give it variance, and dividing by 0 would make nan
    x = np.random.default_rng(5).standard_normal((50, 3))
    w = np.zeros((4, 3))
    (out,) = lsuv([w], [np.zeros(4)], x, np.tanh)
    np.testing.assert_array_equal(out, w)


def test_a_layer_whose_var_z_overflows_is_left_as_it_is() -> None:
    # z = +-1e155 is finite, its variance (1e310) is not: dividing by sqrt(inf) would zero W
    x = np.array([[1.0], [-1.0]])
    w = np.array([[1e155]])
    with np.errstate(over="ignore"):
        assert np.var(x @ w.T) == math.inf
        (out,) = lsuv([w], [np.zeros(1)], x, np.tanh)
    np.testing.assert_array_equal(out, w)


def test_a_var_z_exactly_tolerance_away_from_one_is_still_rescaled() -> None:
    x = np.random.default_rng(6).standard_normal((100, 5))
    w = 2.0 * np.random.default_rng(7).standard_normal((3, 5))
    start = float(np.var(x @ w.T))
    (out,) = lsuv([w], [np.zeros(3)], x, np.tanh, tolerance=abs(start - 1.0))
    assert float(np.var(x @ out.T)) == pytest.approx(1.0, rel=1e-12)


def test_unequal_weight_and_bias_lists_are_refused() -> None:
    weights, biases = _layers(8, [4, 4, 4], 1.0)
    with pytest.raises(ValueError):
        lsuv(weights, biases[:1], np.ones((10, 4)), np.tanh)


def test_a_direct_call_gets_initspecs_tolerance_and_rescaling_count() -> None:
    # biases with Var(b) > 1 keep Var(z) above 1 + Var(b) - 1 however small W gets: it creeps
    # down by about 5 % a rescaling, so both the tolerance and the count of rescalings show
    rng = np.random.default_rng(9)
    x = rng.standard_normal((300, 10))
    w = rng.standard_normal((20, 10)) / math.sqrt(10)
    b = rng.standard_normal(20)
    b = 1.03 * (b - b.mean()) / b.std()  # Var over the batch's entries: 1.03^2 = 1.06
    spec = InitSpec()
    (given,) = lsuv([w], [b], x, np.tanh, spec.lsuv_tolerance, spec.lsuv_max_iter)
    (one_more,) = lsuv([w], [b], x, np.tanh, spec.lsuv_tolerance, spec.lsuv_max_iter + 1)
    (loose,) = lsuv([w], [b], x, np.tanh, spec.lsuv_tolerance + 1.0, spec.lsuv_max_iter)
    assert not np.allclose(given, one_more) and not np.allclose(given, loose)
    np.testing.assert_array_equal(lsuv([w], [b], x, np.tanh)[0], given)
