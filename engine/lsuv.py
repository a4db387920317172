"""LSUV, layer-sequential unit-variance init (Mishkin & Matas 2016): weights rescaled on data.

Unlike the families of ``engine.init``, which draw from a formula, LSUV starts from
orthogonal weights and divides each layer's weights by the std of its pre-activations on a
data batch, input to output, until every layer's pre-activation variance is about 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Array = np.ndarray
Activation = Callable[[np.ndarray], np.ndarray]


def lsuv(
    weights: list[Array],
    biases: list[Array],
    x: Array,
    activation: Activation,
    tolerance: float = 0.1,
    max_iter: int = 10,
) -> list[Array]:
    """Mishkin & Matas 2016, input to output: W[l] <- W[l] / std(z[l]) until |Var(z[l]) - 1|
    < tolerance or ``max_iter`` rescalings; z[l] = a[l-1] W[l]^T + b[l] on the batch ``x``
    (N, n[0]), a[l] = activation(z[l]) between hidden layers. Returns new float64 weights."""
    a = np.asarray(x, dtype=np.float64)
    scaled = []
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        w = np.array(w, dtype=np.float64)
        for _ in range(max_iter):
            var = float(np.var(a @ w.T + b))
            if abs(var - 1.0) < tolerance or not 0.0 < var < math.inf:
                break  # done, or dead/overflowing: rescaling cannot help
            w /= math.sqrt(var)
        scaled.append(w)
        z = a @ w.T + b
        a = activation(z) if layer < len(weights) - 1 else z
    return scaled
