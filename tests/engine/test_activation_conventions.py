"""Activations at their kinks and their error: what finite differences cannot see.

Finite differences (test_gradients.py) never land on z = 0 exactly, so the derivative a
kinked activation takes there is checked here against an identity that holds everywhere:
leaky_relu(z) = (1 - s) relu(z) + s z, so its derivative is (1 - s) relu'(z) + s, with
relu'(0) = 0 (test_network.py) giving s at zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, activation_backward, activation_forward
from engine.vocabulary import LEAKY_SLOPE

# exact zeros of both signs among ordinary values
Z = np.array([-3.0, -1e-300, -0.0, 0.0, 1e-300, 2.5])


def test_leaky_relu_is_a_mix_of_relu_and_the_identity_at_every_point_including_zero() -> None:
    relu, relu_cache = activation_forward("relu", Z)
    leaky, leaky_cache = activation_forward("leaky_relu", Z)
    np.testing.assert_array_equal(leaky, (1 - LEAKY_SLOPE) * relu + LEAKY_SLOPE * Z)

    da = np.linspace(0.5, 3.0, Z.size)  # distinct upstream gradients, none zero
    relu_dz = activation_backward("relu", da, relu_cache)
    leaky_dz = activation_backward("leaky_relu", da, leaky_cache)
    np.testing.assert_allclose(leaky_dz, (1 - LEAKY_SLOPE) * relu_dz + LEAKY_SLOPE * da)


def test_leaky_relus_derivative_at_zero_is_the_left_slope_like_relus() -> None:
    _, cache = activation_forward("leaky_relu", np.zeros(4))
    np.testing.assert_array_equal(activation_backward("leaky_relu", np.ones(4), cache), LEAKY_SLOPE)


def test_sigmoid_at_zero_is_one_half_and_its_slope_one_quarter() -> None:
    a, cache = activation_forward("sigmoid", np.array([-0.0, 0.0]))
    np.testing.assert_array_equal(a, 0.5)
    np.testing.assert_array_equal(activation_backward("sigmoid", np.ones(2), cache), 0.25)


def test_an_unknown_activation_is_refused_with_the_list_of_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'") as raised:
        activation_forward("swish", Z)
    listed = str(raised.value).split("known: ", 1)[1].split(", ")
    assert listed == ["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
    assert set(listed) == set(ACTIVATIONS)
