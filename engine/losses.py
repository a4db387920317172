"""Output losses computed from logits, each returning (cost, dlogits, probs).

The cost is the mean over the N examples, returned as a Python float; dlogits is the
gradient of that mean. Both work in log space, so logits as large as +-1e30 give a huge
finite cost rather than inf, nan or a warning; only infinite logits give an infinite cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.activations import sigmoid

Array = NDArray[np.floating[Any]]
Labels = NDArray[np.integer[Any]]


def softplus(x: Array) -> Array:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), which never overflows."""
    out = np.exp(-np.abs(x))
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def sigmoid_cross_entropy(logits: Array, y: Labels) -> tuple[float, Array, Array]:
    """Mean binary cross-entropy of sigmoid(logits) against 0/1 labels.

    logits (N, 1), y (N,) in {0, 1} -> (cost, dlogits (N, 1), probs (N, 1)).
    """
    n = logits.shape[0]
    target = np.asarray(y).reshape(n, 1).astype(logits.dtype, copy=False)
    # -log sigmoid(z) = softplus(-z) for y = 1 and -log(1 - sigmoid(z)) = softplus(z) for y = 0;
    # flipping the sign (rather than softplus(z) - y z) keeps inf logits from giving inf - inf
    signed = logits * (1 - 2 * target)
    cost = float(np.mean(softplus(signed)))
    probs = sigmoid(logits)
    dlogits = probs - target
    dlogits /= n
    return cost, dlogits, probs


def softmax(logits: Array) -> Array:
    """Row-wise softmax of logits (N, C) -> probs (N, C), shifted by each row's max."""
    probs = logits - logits.max(axis=1, keepdims=True)
    np.exp(probs, out=probs)
    probs /= probs.sum(axis=1, keepdims=True)
    return probs


def softmax_cross_entropy(logits: Array, y: Labels) -> tuple[float, Array, Array]:
    """Mean cross-entropy of softmax(logits) against integer class labels.

    logits (N, C), y (N,) in [0, C) -> (cost, dlogits (N, C), probs (N, C)).
    """
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    target_shifted = shifted[rows, y]
    probs = np.exp(shifted, out=shifted)
    sums = probs.sum(axis=1, keepdims=True)
    # -log p_y = log(sum_j exp(s_j)) - s_y with s = z - max(z), so the log's argument is >= 1
    cost = float(np.mean(np.log(sums[:, 0]) - target_shifted))
    probs /= sums
    dlogits = probs.copy()
    dlogits[rows, y] -= 1
    dlogits /= n
    return cost, dlogits, probs
