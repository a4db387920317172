"""The quadrature rules of ``engine.gaussian`` against the standard normal's known integrals.

E[x^(2k)] = (2k - 1)!!, odd moments vanish, P(x > 0) = 1/2, P(|x| < a) = erf(a / sqrt 2),
and for large q, E[sech(sqrt(q) x)^4] -> phi(0) (4/3) / sqrt(q) (Laplace: the integrand is
a spike of width 1/sqrt(q) at 0, where the density is phi(0) = 1/sqrt(2 pi)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.gaussian import W1, X1, gauss_hermite, single_moments


def _double_factorial(k: int) -> int:
    return math.prod(range(k, 0, -2)) if k > 0 else 1


def test_the_graded_rule_is_a_symmetric_probability_rule_of_304_nodes() -> None:
    assert X1.shape == W1.shape == (304,)  # 8 Gauss-Legendre nodes on 2 x 19 panels
    assert np.all(np.diff(X1) > 0) and np.all(W1 > 0)
    np.testing.assert_array_equal(X1, -X1[::-1])
    np.testing.assert_array_equal(W1, W1[::-1])
    assert W1.sum() == pytest.approx(1.0, rel=1e-15)
    assert 9.9 < X1[-1] < 10.0  # the last panel ends at 10 standard deviations


@pytest.mark.parametrize("power", range(11))
def test_the_graded_rule_integrates_normal_moments(power: int) -> None:
    expected = _double_factorial(power - 1) if power % 2 == 0 else 0.0
    assert W1 @ X1**power == pytest.approx(expected, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("a", [1e-3, 3e-3, 0.1, 0.7, 2.0, 5.0])
def test_the_graded_rule_puts_panel_edges_where_indicators_jump(a: float) -> None:
    # 1{|x| < a} jumps at +-a; exact only if a is an edge (0.001 * 2^k up to 1, then 2, 3, ...)
    on_edge = a in (1e-3, 2.0, 5.0)
    inside = W1 @ (np.abs(X1) < a)
    if on_edge:
        assert inside == pytest.approx(math.erf(a / math.sqrt(2)), rel=1e-12)
    assert W1 @ (X1 > 0) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize("q", [1e4, 1e6])
def test_the_graded_rule_resolves_a_feature_of_width_one_over_sqrt_q(q: float) -> None:
    with np.errstate(over="ignore"):  # cosh overflows to inf far out: sech^4 is 0 there
        sech4 = np.cosh(math.sqrt(q) * X1) ** -4.0
    laplace = (4 / 3) / math.sqrt(2 * math.pi * q)
    assert W1 @ sech4 == pytest.approx(laplace, rel=1e-3)


@pytest.mark.parametrize("n", [2, 8, 32, 100])
def test_gauss_hermite_is_exact_below_degree_2n(n: int) -> None:
    nodes, weights = gauss_hermite(n)
    assert nodes.shape == weights.shape == (n,)
    assert np.all(np.diff(nodes) > 0) and np.all(weights > 0)
    assert weights.sum() == pytest.approx(1.0, rel=1e-14)
    for power in range(0, min(2 * n, 24)):
        expected = _double_factorial(power - 1) if power % 2 == 0 else 0.0
        scale = _double_factorial(power if power % 2 else power - 1)  # E[|x|^power]'s size
        assert weights @ nodes**power == pytest.approx(expected, abs=1e-9 * scale), power


@pytest.mark.filterwarnings("error")
def test_single_moments_at_q_zero_are_f0_and_slope0_squared_without_warnings() -> None:
    # at q = 0 the derivative in q divides by sqrt(q) = 0 (documented: it needs q > 0), which
    # must not warn; the two moments are f(0)^2 and f'(0)^2
    q = np.array([0.0, 2.0])
    expected = {"relu": (0.0, 0.0), "linear": (0.0, 1.0), "tanh": (0.0, 1.0),
                "sigmoid": (0.25, 1 / 16)}  # fmt: skip
    for activation, (square, slope) in expected.items():
        squares, slopes, _ = single_moments(activation, q)
        assert (squares[0], slopes[0]) == pytest.approx((square, slope), abs=1e-15)
    # and at q = 2 the closed forms: relu (q/2, 1/2, 1/2), linear (q, 1, 1)
    assert [m[1] for m in single_moments("relu", q)] == pytest.approx([1.0, 0.5, 0.5], rel=1e-12)
    assert [m[1] for m in single_moments("linear", q)] == pytest.approx([2.0, 1.0, 1.0], rel=1e-12)
