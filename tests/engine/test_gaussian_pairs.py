"""``pair_moments``' slope d c' / d c for the scale-free activations, against the arc-cosine
kernel's closed form (relu) and central differences of the map itself (leaky_relu, linear),
several cells in one call; and correlations a rounding step outside [-1, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from engine.gaussian import MAX_NODES_2D, _pair_moments_n, nodes_2d, pair_moments

SW = np.array([1.5, 0.7, 2.0, 1.0])
SB = np.array([0.1, 0.0, 0.4, 0.05])
Q = np.array([0.3, 1.0, 5.0, 2.0])
C = np.array([-0.5, 0.2, 0.9, 0.999])


def test_relus_map_and_slope_are_the_arc_cosine_kernels() -> None:
    # E[relu(u1) relu(u2)] = q (sin t + (pi - t) cos t) / (2 pi), E[relu' relu'] = (pi - t) / (2 pi)
    t = np.arccos(C)
    norm = SW * Q / 2 + SB
    mapped = (SW * Q * (np.sin(t) + (np.pi - t) * C) / (2 * np.pi) + SB) / norm
    slope = SW * Q * (np.pi - t) / (2 * np.pi) / norm
    got_map, got_slope = pair_moments("relu", SW, SB, Q, C)
    np.testing.assert_allclose(got_map, mapped, rtol=1e-12)
    np.testing.assert_allclose(got_slope, slope, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "linear"])
def test_the_slope_is_the_maps_derivative_in_c(activation: str) -> None:
    h = 1e-5
    up, _ = pair_moments(activation, SW, SB, Q, C + h)
    down, _ = pair_moments(activation, SW, SB, Q, C - h)
    _, slope = pair_moments(activation, SW, SB, Q, C)
    np.testing.assert_allclose(slope, (up - down) / (2 * h), rtol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_correlations_a_rounding_step_past_one_are_one(activation: str) -> None:
    ones = np.array([1.0, -1.0])
    past = np.array([np.nextafter(1.0, 2.0), np.nextafter(-1.0, -2.0)])
    args = (np.array([1.2, 1.2]), np.array([0.1, 0.1]), np.array([1.0, 1.0]))
    with np.errstate(invalid="raise"):
        got = pair_moments(activation, *args, past)
    for value, at_one in zip(got, pair_moments(activation, *args, ones), strict=True):
        np.testing.assert_allclose(value, at_one, rtol=1e-14)  # tanh: a 2D rule, rounding


def test_the_2d_rule_grows_with_sqrt_q_in_steps_of_16_from_32_to_512() -> None:
    q = np.array([0.0, 1e-6, 0.5, 1.0, 4.0, 20.0, 100.0, 1e6])
    n = nodes_2d(q)
    assert n.dtype.kind == "i"
    assert np.all(n % 16 == 0) and np.all(np.diff(n) >= 0)
    assert n[0] == n[1] == 32 and n[-1] == MAX_NODES_2D == 512
    assert np.all(n[2:-1] >= 48 * np.sqrt(q[2:-1]))  # at least the stated 48 sqrt(q)
    assert np.all(n[2:-1] < 48 * np.sqrt(q[2:-1]) + 16)  # and the next step of 16 up


def test_a_given_node_count_is_used_for_every_cell() -> None:
    # a 2D rule of 32 nodes where nodes_2d would take 512 (q = 200): the map moves measurably
    sw, sb, q, c = np.full(2, 1.5), np.full(2, 0.1), np.full(2, 200.0), np.array([0.3, 0.6])
    n = np.array([32, 32])
    default = pair_moments("tanh", sw, sb, q, c)
    given = pair_moments("tanh", sw, sb, q, c, n)
    coarse = [_pair_moments_n("tanh", sw[i:i + 1], sb[i:i + 1], q[i:i + 1], c[i:i + 1], 32)
              for i in range(2)]  # fmt: skip
    np.testing.assert_allclose(given[0], [m[0][0] for m in coarse], rtol=1e-13)
    np.testing.assert_allclose(given[1], [m[1][0] for m in coarse], rtol=1e-13)
    assert not np.allclose(given[1], default[1], rtol=1e-6, atol=0)
