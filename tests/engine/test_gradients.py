"""Every analytic gradient against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, activation_backward, activation_forward
from engine.losses import sigmoid_cross_entropy, softmax_cross_entropy
from engine.network import MLP, affine_backward, affine_forward

STEP = 1e-5  # balances truncation error (~STEP**2) against rounding error (~1e-16 / STEP)
TOLERANCE = 1e-6


def numeric_gradient(f: Callable[[], float], x: np.ndarray) -> np.ndarray:
    """d f() / d x by central differences, perturbing x in place (f must read x)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + STEP
        up = f()
        x[i] = saved - STEP
        down = f()
        x[i] = saved
        grad[i] = (up - down) / (2 * STEP)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """The largest error relative to the array's largest entry: finite differences carry an
    absolute error, so entries far below the largest are as noisy as zeros."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max(), 1e-12)
    return float(np.abs(analytic - numeric).max() / scale)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal draws with |x| >= 0.1, so no ReLU kink sits within a finite-difference step."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < 0.1, np.sign(x) * 0.1 + x, x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name: str) -> None:
    rng = np.random.default_rng(0)
    z = away_from_zero(rng, (5, 4)) * 2
    weights = rng.normal(size=z.shape)  # a random linear read-out makes every dz distinct

    def f() -> float:
        return float(np.sum(activation_forward(name, z)[0] * weights))

    _, cache = activation_forward(name, z.copy())
    dz = activation_backward(name, weights, cache)
    assert relative_error(dz, numeric_gradient(f, z)) < TOLERANCE


@pytest.mark.parametrize(
    ("loss", "classes", "seed"),
    [(sigmoid_cross_entropy, 1, 1), (softmax_cross_entropy, 5, 2)],
    ids=["sigmoid", "softmax"],
)
def test_cross_entropy_dlogits_matches_finite_differences(
    loss: Callable[..., tuple], classes: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3, size=(7, classes))
    y = rng.integers(0, max(classes, 2), size=7)
    _, dlogits, _ = loss(logits, y)
    numeric = numeric_gradient(lambda: loss(logits, y)[0], logits)
    assert relative_error(dlogits, numeric) < TOLERANCE


def test_affine_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(3, 5)), rng.normal(size=3)
    dout = rng.normal(size=(4, 3))

    def f() -> float:
        return float(np.sum(affine_forward(x, w, b)[0] * dout))

    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("nd,md->nm", x, w) + b, rtol=1e-12)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    for analytic, param in ((dx, x), (dw, w), (db, b)):
        assert relative_error(analytic, numeric_gradient(f, param)) < TOLERANCE


def make_net(rng: np.random.Generator, sizes: list[int], activation: str, l2: float = 0.0) -> MLP:
    weights = [rng.normal(size=(m, n)) / np.sqrt(n) for n, m in pairwise(sizes)]
    biases = [rng.normal(scale=0.5, size=m) for m in sizes[1:]]
    return MLP(weights, biases, activation, l2=l2)


@pytest.mark.parametrize("n_out", [1, 4], ids=["binary", "softmax"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu", "sigmoid", "linear"])
def test_deep_net_gradients_match_finite_differences(activation: str, n_out: int) -> None:
    rng = np.random.default_rng(4)
    sizes = [3, 5, 2, 6, 4, n_out]
    net = make_net(rng, sizes, activation, l2=0.05)
    x = rng.normal(size=(8, 3))
    y = rng.integers(0, max(n_out, 2), size=8)
    p = net.loss_and_grads(x, y)
    if activation in ("relu", "leaky_relu"):
        assert min(np.abs(z).min() for z in p.z[:-1]) > 1e-3, "a pre-activation sits on the kink"

    def cost() -> float:
        return net.loss_and_grads(x, y).cost

    for W, b, dW, db in zip(net.weights, net.biases, p.dW, p.db, strict=True):
        assert relative_error(dW, numeric_gradient(cost, W)) < TOLERANCE
        assert relative_error(db, numeric_gradient(cost, b)) < TOLERANCE

    # dCost/da of a hidden layer: the layers above it, fed its activations as their input
    for i in range(net.n_layers - 1):
        a_i = p.a[i].copy()
        head = MLP(net.weights[i + 1 :], net.biases[i + 1 :], activation)
        numeric = numeric_gradient(lambda head=head, a_i=a_i: head.loss_and_grads(a_i, y).cost, a_i)
        assert relative_error(p.da[i], numeric) < TOLERANCE

    logits = p.z[-1].copy()
    loss = sigmoid_cross_entropy if n_out == 1 else softmax_cross_entropy
    numeric = numeric_gradient(lambda: loss(logits, y)[0], logits)
    assert relative_error(p.da[-1], numeric) < TOLERANCE


def test_l2_term_adds_half_l2_squared_weights_and_its_gradient() -> None:
    rng = np.random.default_rng(5)
    plain = make_net(rng, [2, 3, 1], "tanh")
    decayed = MLP(plain.weights, plain.biases, "tanh", l2=0.3)
    x, y = rng.normal(size=(6, 2)), rng.integers(0, 2, size=6)
    p, q = plain.loss_and_grads(x, y), decayed.loss_and_grads(x, y)
    squares = sum(float(np.sum(w**2)) for w in plain.weights)
    assert q.cost == pytest.approx(p.cost + 0.5 * 0.3 * squares, rel=1e-12)
    for w, dw_plain, dw_decayed in zip(plain.weights, p.dW, q.dW, strict=True):
        np.testing.assert_allclose(dw_decayed, dw_plain + 0.3 * w, rtol=1e-12)
    for db_plain, db_decayed in zip(p.db, q.db, strict=True):
        np.testing.assert_array_equal(db_decayed, db_plain)
    numeric = numeric_gradient(lambda: decayed.loss_and_grads(x, y).cost, decayed.weights[0])
    assert relative_error(q.dW[0], numeric) < TOLERANCE


@pytest.mark.parametrize("n_out", [1, 4], ids=["binary", "softmax"])
def test_cost_and_probs_equal_loss_and_grads_bit_for_bit(n_out: int) -> None:
    rng = np.random.default_rng(6)
    net = make_net(rng, [3, 5, 4, n_out], "tanh", l2=0.05)
    x, y = rng.normal(size=(9, 3)).astype(np.float32), rng.integers(0, max(n_out, 2), size=9)
    p = net.loss_and_grads(x, y)
    cost, probs = net.cost_and_probs(x, y)
    assert cost == p.cost
    np.testing.assert_array_equal(probs, p.probs)
