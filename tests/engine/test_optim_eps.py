"""The optimizers' eps where it matters: gradients so small that sqrt(cache) is near eps."""

from __future__ import annotations

import numpy as np

from engine.optim import Adam, RMSProp

TINY = 1e-8  # with rho 0.9: sqrt(0.1) * 1e-8 ~ 3.2e-9, below the default eps of 1e-8


def test_rmsprop_adds_eps_to_the_root_mean_square() -> None:
    w = np.array([1.0, -1.0])
    RMSProp(0.1, rho=0.9, eps=1e-8).step([w], [np.array([TINY, -TINY])])
    step = 0.1 * TINY / (np.sqrt(0.1) * TINY + 1e-8)
    np.testing.assert_allclose(w, [1.0 - step, -1.0 + step], rtol=1e-12)


def test_adam_adds_eps_to_the_corrected_root_mean_square() -> None:
    w = np.array([1.0, -1.0])
    Adam(0.1, beta1=0.9, beta2=0.999, eps=1e-8).step([w], [np.array([TINY, -TINY])])
    # bias-corrected m = g, v = g^2: the step is lr * g / (|g| + eps)
    step = 0.1 * TINY / (TINY + 1e-8)
    np.testing.assert_allclose(w, [1.0 - step, -1.0 + step], rtol=1e-12)
