"""Mean-field theory against closed forms, an independent quadrature and its own grid form."""

import json
import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS
from engine.gaussian import W1, X1, pair_moments
from engine.meanfield import (
    CRITICAL_TOLERANCE,
    correlation_map,
    critical_weight_variance,
    length_map,
    phase_diagram,
    signal_propagation,
)


@pytest.mark.parametrize("sw", [0.5, 1.0, 1.9, 2.5, 4.0])
def test_relu_without_bias_has_chi_1_half_the_weight_variance(sw: float) -> None:
    point = signal_propagation("relu", sw, 0.0)
    assert point.chi_1 == pytest.approx(sw / 2, rel=1e-12)
    assert point.phase == ("ordered" if sw < 2 else "chaotic")


def test_relu_critical_point_is_two_at_any_bias() -> None:
    line = critical_weight_variance("relu", np.array([0.0, 0.05, 1.0]))
    np.testing.assert_allclose(line, 2.0, rtol=1e-9)
    assert signal_propagation("relu", 2.0, 0.0).phase == "critical"


@pytest.mark.parametrize(("sw", "sb"), [(0.5, 0.3), (0.9, 0.01), (0.2, 2.0)])
def test_linear_network_closed_forms(sw: float, sb: float) -> None:
    point = signal_propagation("linear", sw, sb)
    assert point.q_star == pytest.approx(sb / (1 - sw), rel=1e-10)
    assert point.chi_1 == pytest.approx(sw, rel=1e-12)
    assert point.c_star == 1.0  # c -> sw c + (1 - sw): every pair ends up aligned
    assert point.xi_q == pytest.approx(-1 / math.log(sw), rel=1e-9)
    assert point.xi_c == pytest.approx(-1 / math.log(sw), rel=1e-9)


def test_linear_network_above_one_diverges_and_says_so_in_json() -> None:
    point = signal_propagation("linear", 1.5, 0.3)
    assert point.q_star == math.inf and math.isnan(point.c_star)
    assert point.chi_1 == pytest.approx(1.5) and point.phase == "chaotic"
    body = point.to_json()
    assert body["q_star"] is None and body["xi_c"] is None
    json.dumps(body, allow_nan=False)


def test_relu_correlation_map_is_the_arc_cosine_kernel() -> None:
    sw, sb, q = 1.5, 0.1, np.array([0.3, 1.0, 5.0])[:, None]
    c = np.array([-1.0, -0.5, 0.2, 0.9, 0.999, 1.0])
    kernel = (np.sqrt(1 - c**2) + (np.pi - np.arccos(c)) * c) / (2 * np.pi)  # E relu relu / q
    expected = (sw * q * kernel + sb) / (sw * q / 2 + sb)
    np.testing.assert_allclose(correlation_map("relu", sw, sb, q, c), expected, atol=1e-12)


@pytest.mark.parametrize(("q", "c"), [(0.5, 0.3), (2.5, 0.575), (2.5, 0.95), (4.0, -0.4)])
def test_tanh_correlation_map_matches_a_finer_tensor_rule(q: float, c: float) -> None:
    # reference: the 1D rule's 304 x 304 tensor product, a different quadrature altogether
    s = math.sqrt(1 - c * c)
    u1, u2 = math.sqrt(q) * X1[:, None], math.sqrt(q) * (c * X1[:, None] + s * X1)
    w = W1[:, None] * W1
    sw, sb = 3.0, 0.2
    norm = sw * np.sum(w * np.tanh(u1) ** 2) + sb
    mapped = (sw * np.sum(w * np.tanh(u1) * np.tanh(u2)) + sb) / norm
    slope = sw * q * np.sum(w / np.cosh(u1) ** 2 / np.cosh(u2) ** 2) / norm
    got = pair_moments("tanh", *(np.array([v]) for v in (sw, sb, q, c)))
    assert got[0][0] == pytest.approx(mapped, abs=2e-6)
    assert got[1][0] == pytest.approx(slope, rel=5e-5)


def test_tanh_without_bias_is_critical_at_one() -> None:
    assert critical_weight_variance("tanh", 0.0) == pytest.approx(1.0, abs=1e-6)
    assert signal_propagation("tanh", 0.8, 0.0).q_star == 0.0  # the signal dies out
    assert signal_propagation("tanh", 0.8, 0.0).chi_1 == pytest.approx(0.8, rel=1e-9)
    point = signal_propagation("tanh", 2.0, 0.0)  # odd f, no bias: c* = 0 in the chaotic phase
    assert point.phase == "chaotic" and point.c_star == pytest.approx(0.0, abs=1e-12)


POINTS = [("tanh", 0.5, 0.1), ("tanh", 1.5, 0.05), ("tanh", 4.0, 0.3), ("tanh", 2.0, 0.0),
          ("sigmoid", 4.0, 0.1), ("sigmoid", 200.0, 0.5), ("relu", 1.5, 0.1),
          ("leaky_relu", 1.0, 0.2)]  # fmt: skip


@pytest.mark.parametrize(("activation", "sw", "sb"), POINTS)
def test_fixed_points_are_fixed_and_slopes_are_derivatives(
    activation: str, sw: float, sb: float
) -> None:
    p = signal_propagation(activation, sw, sb)
    assert float(length_map(activation, sw, sb, p.q_star)) == pytest.approx(p.q_star, rel=1e-10)
    assert float(correlation_map(activation, sw, sb, p.q_star, p.c_star)) == pytest.approx(
        p.c_star, abs=1e-9
    )
    assert p.chi_c <= 1 + 1e-9  # c* is the stable fixed point
    h = 1e-5  # the slopes by central differences (one-sided below c* = 1, where relu's map
    # has a (1 - c)^(3/2) term: hence so small a step there)
    c_lo, c_hi = (p.c_star - h, p.c_star + h) if p.c_star < 1 else (1 - 1e-8, 1.0)
    rise = correlation_map(activation, sw, sb, p.q_star, np.array([c_lo, c_hi]))
    assert p.chi_c == pytest.approx(float(np.diff(rise)[0]) / (c_hi - c_lo), rel=1e-3)
    rise = length_map(activation, sw, sb, p.q_star * np.array([1 - h, 1 + h]))
    slope_q = float(np.diff(rise)[0]) / (2 * h * p.q_star)
    assert p.xi_q == pytest.approx(-1 / math.log(slope_q), rel=1e-4)
    assert p.xi_c == pytest.approx(-1 / math.log(p.chi_c), rel=1e-9)
    if p.c_star == 1:  # chi_c at c* = 1 is chi_1
        assert p.chi_c == pytest.approx(p.chi_1, rel=1e-9)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_critical_line_has_chi_1_one(activation: str) -> None:
    biases = np.array([0.0, 0.01, 0.05, 0.3, 1.0])
    line = critical_weight_variance(activation, biases)
    assert np.isfinite(line).all()
    for sw, sb in zip(line, biases, strict=True):
        point = signal_propagation(activation, float(sw), float(sb))
        assert point.chi_1 == pytest.approx(1.0, abs=1e-9)
        assert point.phase == "critical"
        assert signal_propagation(activation, sw * 0.9, float(sb)).phase == "ordered"
        assert signal_propagation(activation, sw * 1.1, float(sb)).phase == "chaotic"


def test_known_tanh_critical_point() -> None:
    # Pennington et al. 2017 use (s_w, s_b) = (1.76, 0.05) as a critical tanh network
    assert critical_weight_variance("tanh", 0.05) == pytest.approx(1.76, abs=0.01)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_phase_diagram_agrees_cell_by_cell_with_the_point_function(activation: str) -> None:
    sws = np.array([0.0, 0.7, 1.0, 1.76095464, 2.0, 3.5]) * (30 if activation == "sigmoid" else 1)
    sbs = np.array([0.0, 0.05, 0.4])
    grid = phase_diagram(activation, sws, sbs)
    for i, sb in enumerate(sbs):
        for j, sw in enumerate(sws):
            point = signal_propagation(activation, float(sw), float(sb))
            # on the critical line c* is a near-double root: it is found to about 1e-7 only
            rtol = 1e-6 if point.phase == "critical" else 1e-9
            for name in ("q_star", "c_star", "chi_1", "chi_c"):
                np.testing.assert_allclose(
                    grid.statistics[name][i, j], getattr(point, name), rtol=rtol, atol=1e-12
                )
            for name in ("xi_q", "xi_c"):  # -1 / ln(slope) magnifies rounding near slope 1,
                # so the slopes exp(-1 / xi) are compared
                with np.errstate(divide="ignore"):
                    slopes = np.exp(
                        -1 / np.array([grid.statistics[name][i, j], getattr(point, name)])
                    )
                np.testing.assert_allclose(slopes[0], slopes[1], rtol=rtol, atol=1e-12)
            assert grid.statistics["phase"][i, j] == point.phase
    np.testing.assert_array_equal(
        grid.critical_weight_variance, critical_weight_variance(activation, sbs)
    )
    json.dumps(grid.to_json(), allow_nan=False)


def test_phase_is_critical_within_the_documented_tolerance() -> None:
    crit = float(critical_weight_variance("tanh", 0.05))
    near = signal_propagation("tanh", crit * (1 + CRITICAL_TOLERANCE / 10), 0.05)
    assert near.phase == "critical" and near.xi_c > 100


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="variances"):
        signal_propagation("tanh", -1.0, 0.0)
    with pytest.raises(ValueError, match="unknown activation"):
        signal_propagation("softsign", 1.0, 0.0)
