"""Optimizers: their first steps against hand arithmetic, and updates made in place.

Every test runs two steps on w = [1, -2] with gradients g1 = [0.5, 1] then g2 = [0.25, -1].
"""

from __future__ import annotations

from math import sqrt

import numpy as np
import pytest

from engine.experiment import OptimizerSpec
from engine.optim import Adam, GradientDescent, Momentum, Optimizer, RMSProp, build_optimizer

G1 = [0.5, 1.0]
G2 = [0.25, -1.0]


def two_steps(optimizer: Optimizer, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """w after the first and after the second step."""
    w = np.array([1.0, -2.0], dtype=dtype)
    optimizer.step([w], [np.array(G1, dtype=dtype)])
    first = w.copy()
    optimizer.step([w], [np.array(G2, dtype=dtype)])
    return first, w


def test_gradient_descent_steps_by_lr_times_gradient() -> None:
    first, second = two_steps(GradientDescent(0.1))
    np.testing.assert_allclose(first, [0.95, -2.1], rtol=1e-12)
    np.testing.assert_allclose(second, [0.925, -2.0], rtol=1e-12)


def test_momentum_accumulates_velocity() -> None:
    first, second = two_steps(Momentum(0.1, momentum=0.9))
    # v1 = -0.1 * g1 = [-0.05, -0.1]
    np.testing.assert_allclose(first, [0.95, -2.1], rtol=1e-12)
    # v2 = 0.9 v1 - 0.1 g2 = [-0.045 - 0.025, -0.09 + 0.1] = [-0.07, 0.01]
    np.testing.assert_allclose(second, [0.88, -2.09], rtol=1e-12)


def test_rmsprop_divides_by_running_rms() -> None:
    first, second = two_steps(RMSProp(0.1, rho=0.9, eps=1e-8))
    # cache1 = 0.1 g1^2 = [0.025, 0.1]: each step is 0.1 * g / sqrt(0.1 g^2) = 0.1 / sqrt(0.1)
    step1 = 0.1 / sqrt(0.1)  # 0.316227766
    np.testing.assert_allclose(first, [1 - step1, -2 - step1], rtol=1e-7)
    # cache2 = 0.9 cache1 + 0.1 g2^2 = [0.0225 + 0.00625, 0.09 + 0.1] = [0.02875, 0.19]
    expected = [1 - step1 - 0.1 * 0.25 / sqrt(0.02875), -2 - step1 + 0.1 * 1.0 / sqrt(0.19)]
    np.testing.assert_allclose(second, expected, rtol=1e-7)


def test_adam_first_step_is_lr_times_sign_then_corrects_bias() -> None:
    adam = Adam(0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    first, second = two_steps(adam)
    assert adam.t == 2
    # t = 1: mhat = g1 and vhat = g1^2, so each weight moves by lr against its gradient's sign
    np.testing.assert_allclose(first, [0.9, -2.1], rtol=1e-7)
    # t = 2: m = 0.9 * 0.1 g1 + 0.1 g2 = [0.045 + 0.025, 0.09 - 0.1] = [0.07, -0.01]
    #        v = 0.999 * 0.001 g1^2 + 0.001 g2^2 = [0.00024975 + 0.0000625, 0.000999 + 0.001]
    #          = [0.00031225, 0.001999]; corrections 1 - 0.9^2 = 0.19, 1 - 0.999^2 = 0.001999
    step2 = [
        0.1 * (0.07 / 0.19) / sqrt(0.00031225 / 0.001999),
        0.1 * (-0.01 / 0.19) / sqrt(0.001999 / 0.001999),
    ]
    np.testing.assert_allclose(second, [0.9 - step2[0], -2.1 - step2[1]], rtol=1e-7)


CLASSES = [GradientDescent, Momentum, RMSProp, Adam]


@pytest.mark.parametrize("cls", CLASSES)
def test_step_updates_in_place_and_keeps_float32(cls: type) -> None:
    optimizer = cls(0.01)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    b = np.zeros(3, dtype=np.float32)
    params = [w, b]
    grads = [rng.normal(size=(3, 4)).astype(np.float32), np.ones(3, dtype=np.float32)]
    saved_grads = [g.copy() for g in grads]
    before = w.copy()
    for _ in range(3):
        optimizer.step(params, grads)
    assert params[0] is w and params[1] is b
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert not np.array_equal(w, before) and np.all(b < 0)
    for g, saved in zip(grads, saved_grads, strict=True):
        np.testing.assert_array_equal(g, saved)  # the records may still read the gradients


@pytest.mark.parametrize("cls", CLASSES)
def test_float32_steps_match_float64(cls: type) -> None:
    first64, second64 = two_steps(cls(0.1))
    first32, second32 = two_steps(cls(0.1), np.float32)
    assert second32.dtype == np.float32
    np.testing.assert_allclose(first32, first64, rtol=1e-6)
    np.testing.assert_allclose(second32, second64, rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "cls"),
    [("gd", GradientDescent), ("sgd", GradientDescent), ("momentum", Momentum),
     ("rmsprop", RMSProp), ("adam", Adam)],
)  # fmt: skip
def test_build_optimizer_maps_names_and_hyperparameters(name: str, cls: type) -> None:
    spec = OptimizerSpec(
        name=name, learning_rate=0.05, momentum=0.8, rho=0.7, beta1=0.6, beta2=0.5, eps=1e-4
    )
    optimizer = build_optimizer(spec)
    assert isinstance(optimizer, cls)
    assert optimizer.learning_rate == 0.05
    expected = {
        Momentum: {"momentum": 0.8},
        RMSProp: {"rho": 0.7, "eps": 1e-4},
        Adam: {"beta1": 0.6, "beta2": 0.5, "eps": 1e-4},
    }.get(cls, {})
    for attribute, value in expected.items():
        assert getattr(optimizer, attribute) == value


def test_state_is_kept_per_parameter() -> None:
    momentum = Momentum(1.0, momentum=0.5)
    a, b = np.zeros(2), np.zeros(3)
    momentum.step([a, b], [np.ones(2), np.full(3, 2.0)])
    momentum.step([a, b], [np.zeros(2), np.zeros(3)])
    # a: v = -1 then -0.5, so a = -1.5; b: v = -2 then -1, so b = -3
    np.testing.assert_allclose(a, [-1.5, -1.5])
    np.testing.assert_allclose(b, [-3.0, -3.0, -3.0])


def test_a_name_the_engine_cannot_build_is_refused_by_name() -> None:
    # validation keeps such a name out of a spec; a vocabulary entry without a branch must
    # still fail saying which name, not build something else
    spec = OptimizerSpec.model_construct(name="lbfgs", learning_rate=0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        build_optimizer(spec)
