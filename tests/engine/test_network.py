"""The network, its activations and losses: the article's facts, stability and dtypes."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from engine.activations import activation_backward, activation_forward, sigmoid
from engine.losses import sigmoid_cross_entropy, softmax_cross_entropy
from engine.network import MLP


def nine_layer_linear(scale: float) -> MLP:
    """The article's figure 2: 2 inputs, nine hidden layers of 2 linear units, W = scale * I."""
    weights = [scale * np.eye(2) for _ in range(9)] + [np.ones((1, 2))]
    biases = [np.zeros(2) for _ in range(9)] + [np.zeros(1)]
    return MLP(weights, biases, "linear")


@pytest.mark.parametrize("scale", [1.5, 0.5])
def test_nine_linear_layers_scale_the_signal_by_w_each_layer(scale: float) -> None:
    x = np.random.default_rng(0).normal(size=(10, 2))
    p = nine_layer_linear(scale).loss_and_grads(x, np.arange(10) % 2)
    previous = x
    for a in p.a[:-1]:
        np.testing.assert_allclose(a, scale * previous, rtol=1e-6)
        previous = a
    np.testing.assert_allclose(p.a[8], scale**9 * x, rtol=1e-6)  # 1.5^9 = 38.4, 0.5^9 = 0.002


def test_zero_weights_with_relu_stay_symmetric_and_dead_at_cost_ln2() -> None:
    sizes = [2, 6, 3, 1]
    weights = [np.zeros((m, n)) for n, m in pairwise(sizes)]
    biases = [np.zeros(m) for m in sizes[1:]]
    net = MLP(weights, biases, "relu")
    x = np.random.default_rng(1).uniform(-5, 5, size=(100, 2))
    p = net.loss_and_grads(x, np.repeat([0, 1], 50))
    assert p.cost == math.log(2)
    for a in p.a[:-1]:
        assert np.all(a == a[:, :1])  # every unit of a layer computes the same thing
    np.testing.assert_array_equal(p.probs, 0.5)
    for dW, db in zip(
        p.dW[:-1], p.db[:-1], strict=True
    ):  # ReLU'(0) = 0: no gradient reaches a hidden layer
        assert not dW.any() and not db.any()


def test_relu_derivative_at_zero_is_zero() -> None:
    z = np.array([-1.0, 0.0, 2.0])
    _, cache = activation_forward("relu", z)
    np.testing.assert_array_equal(activation_backward("relu", np.ones(3), cache), [0, 0, 1])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_and_exact_at_the_extremes(dtype: type) -> None:
    z = np.array([-1e30, -800.0, -2.0, 0.0, 2.0, 800.0, 1e30], dtype=dtype)
    a = sigmoid(z)
    assert a.dtype == dtype
    np.testing.assert_allclose(a[2:5], 1 / (1 + np.exp(-z[2:5].astype(np.float64))), rtol=1e-6)
    np.testing.assert_array_equal(a[[0, 1, 5, 6]], [0, 0, 1, 1])


def test_losses_match_naive_formulas_on_moderate_logits() -> None:
    rng = np.random.default_rng(2)
    logits, y = rng.normal(scale=2, size=(9, 1)), rng.integers(0, 2, size=9)
    p = 1 / (1 + np.exp(-logits[:, 0]))
    naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    cost, _, probs = sigmoid_cross_entropy(logits, y)
    assert isinstance(cost, float) and cost == pytest.approx(naive, rel=1e-12)
    np.testing.assert_allclose(probs[:, 0], p, rtol=1e-12)

    logits, y = rng.normal(scale=2, size=(9, 4)), rng.integers(0, 4, size=9)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    naive = -np.mean(np.log(p[np.arange(9), y]))
    cost, _, probs = softmax_cross_entropy(logits, y)
    assert isinstance(cost, float) and cost == pytest.approx(naive, rel=1e-12)
    np.testing.assert_allclose(probs, p, rtol=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_give_a_huge_finite_cost_on_huge_logits(dtype: type) -> None:
    logits = np.array([[1e30], [-1e30], [1e30], [-1e30]], dtype=dtype)
    cost, dlogits, probs = sigmoid_cross_entropy(logits, np.array([0, 1, 1, 0]))
    assert cost == pytest.approx(0.5e30, rel=1e-6)  # two of four wrong by 1e30 each
    assert dlogits.dtype == probs.dtype == dtype and np.all(np.isfinite(dlogits))
    np.testing.assert_array_equal(probs[:, 0], [1, 0, 1, 0])

    logits = np.array([[1e30, -1e30, 0.0], [0.0, 1e30, -1e30]], dtype=dtype)
    cost, dlogits, probs = softmax_cross_entropy(logits, np.array([1, 1]))
    assert cost == pytest.approx(1e30, rel=1e-6)  # (2e30 + 0) / 2
    assert dlogits.dtype == probs.dtype == dtype and np.all(np.isfinite(dlogits))


@pytest.mark.filterwarnings("error")
def test_binary_cost_is_infinite_only_for_infinite_logits() -> None:
    cost, _, _ = sigmoid_cross_entropy(np.array([[np.inf], [-np.inf]]), np.array([0, 0]))
    assert cost == math.inf
    cost, _, _ = sigmoid_cross_entropy(np.array([[np.inf], [-np.inf]]), np.array([1, 0]))
    assert cost == 0.0


def random_net(sizes: list[int], activation: str, std: float, dtype: type, seed: int = 0) -> MLP:
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(size=(m, n)) * std / np.sqrt(n)).astype(dtype)
               for n, m in pairwise(sizes)]  # fmt: skip
    biases = [np.zeros(m, dtype=dtype) for m in sizes[1:]]
    return MLP(weights, biases, activation)


@pytest.mark.parametrize("n_out", [1, 10])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear"])
def test_float32_stays_float32_through_a_pass(activation: str, n_out: int) -> None:
    net = random_net([784, 30, 20, n_out], activation, 1.0, np.float32)
    rng = np.random.default_rng(3)
    x = rng.random((16, 784), dtype=np.float32)
    p = net.loss_and_grads(x, rng.integers(0, max(n_out, 2), size=16))
    arrays = [p.probs, *p.z, *p.a, *p.da, *p.dW, *p.db, net.predict_proba(x)]
    assert all(arr.dtype == np.float32 for arr in arrays)
    assert isinstance(p.cost, float)


def test_pass_shapes_follow_the_article() -> None:
    sizes = [2, 6, 3, 4]
    net = random_net(sizes, "relu", 1.0, np.float64)
    p = net.loss_and_grads(np.ones((5, 2)), np.array([0, 1, 2, 3, 0]))
    assert [z.shape for z in p.z] == [a.shape for a in p.a] == [(5, 6), (5, 3), (5, 4)]
    assert [da.shape for da in p.da] == [(5, 6), (5, 3), (5, 4)]
    assert [dW.shape for dW in p.dW] == [(6, 2), (3, 6), (4, 3)]
    assert [db.shape for db in p.db] == [(6,), (3,), (4,)]
    assert p.a[-1] is p.probs and net.n_layers == 3
    np.testing.assert_allclose(p.probs.sum(axis=1), 1.0)


def test_params_are_the_networks_own_arrays_and_grads_line_up() -> None:
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=(6, 2)), rng.normal(size=(1, 6))]
    biases = [np.zeros(6), np.zeros(1)]
    net = MLP(weights, biases, "tanh")
    assert net.weights is weights and net.biases is biases
    params = net.params()
    assert [id(q) for q in params] == [
        id(q) for wb in zip(net.weights, net.biases, strict=True) for q in wb
    ]
    p = net.loss_and_grads(np.ones((4, 2)), np.array([0, 1, 0, 1]))
    assert [g.shape for g in net.grads(p)] == [q.shape for q in params]
    assert net.grads(p)[2] is p.dW[1] and net.grads(p)[3] is p.db[1]


def test_predict_proba_in_chunks_matches_the_training_forward_pass() -> None:
    net = random_net([2, 6, 3, 1], "relu", 1.0, np.float64)
    grid = np.stack(np.meshgrid(np.linspace(-5, 5, 201), np.linspace(-5, 5, 201)), -1)
    x = grid.reshape(-1, 2)
    labels = np.zeros(len(x), dtype=int)
    whole = net.predict_proba(x, chunk=len(x))
    np.testing.assert_allclose(net.predict_proba(x, chunk=1000), whole, rtol=1e-12)
    np.testing.assert_allclose(net.loss_and_grads(x, labels).probs, whole, rtol=1e-12)
    assert whole.shape == (201 * 201, 1)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_out", [1, 10])
def test_too_large_weights_overflow_without_raising(dtype: type, n_out: int) -> None:
    # a std of max**0.25 overflows to inf within the five layers, and inf - inf gives nan
    huge = float(np.finfo(dtype).max) ** 0.25
    net = random_net([2, 50, 50, 50, 50, n_out], "relu", huge, dtype)
    x = np.random.default_rng(4).uniform(-5, 5, size=(20, 2)).astype(dtype)
    p = net.loss_and_grads(x, np.arange(20) % 2)
    assert not np.all(np.isfinite(p.z[-1]))
    net.predict_proba(x)


def test_mismatched_shapes_and_unknown_activation_are_rejected() -> None:
    with pytest.raises(ValueError, match="layer 2"):
        MLP([np.zeros((3, 2)), np.zeros((1, 4))], [np.zeros(3), np.zeros(1)], "relu")
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([np.zeros((1, 2))], [np.zeros(1)], "swish")
