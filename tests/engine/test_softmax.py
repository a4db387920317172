"""The forward-only softmax (predict_proba, test accuracy, multi-class boundaries) by value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.losses import softmax, softmax_cross_entropy


def reference(z: np.ndarray) -> np.ndarray:
    e = np.exp(z.astype(np.float64) - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_each_rows_normalized_exponential(dtype: type) -> None:
    z = np.random.default_rng(0).normal(0, 3, (6, 4)).astype(dtype)
    probs = softmax(z.copy())
    assert probs.dtype == dtype
    assert np.allclose(probs, reference(z), rtol=1e-5, atol=0)
    assert np.allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_softmax_shifts_each_row_by_its_own_max() -> None:
    """Rows far apart in scale: a shared shift would underflow the low row to 0 / 0."""
    z = np.array([[-1000.0, -1001.0, -1003.0], [0.0, 1.0, 3.0], [800.0, 801.0, 799.0]])
    probs = softmax(z.copy())
    assert np.all(np.isfinite(probs))
    assert np.allclose(probs, reference(z))


def test_softmax_matches_the_losss_probabilities() -> None:
    z = np.random.default_rng(1).normal(0, 5, (5, 10))
    _, _, probs = softmax_cross_entropy(z.copy(), np.arange(5))
    assert np.allclose(softmax(z.copy()), probs, rtol=1e-12)


def test_cross_entropy_shifts_each_row_by_its_own_max() -> None:
    # rows 1000 apart: one shift for all would underflow the second row's exponentials to 0
    logits = np.array([[1000.0, 0.0, 999.0], [0.0, 2.0, 1.0]])
    y = np.array([2, 0])
    row_costs = [
        math.log1p(math.exp(1) + math.exp(-999)),  # -log p of 999 in row 1
        math.log(1 + math.exp(2) + math.exp(1)),  # -log p of 0 in row 2
    ]
    cost, dlogits, probs = softmax_cross_entropy(logits.copy(), y)
    assert cost == pytest.approx(sum(row_costs) / 2, rel=1e-12)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(dlogits, (reference(logits) - np.eye(3)[y]) / 2, rtol=1e-12)
