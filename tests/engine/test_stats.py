"""Statistics checked against NumPy's own reductions and histogram."""

import math

import numpy as np
import pytest

from engine.stats import (
    data_range,
    finite_or_none,
    histogram,
    histogram_counts,
    json_array,
    summarize,
    summarize_many,
    unit_spread,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_summary_matches_numpy(dtype: type) -> None:
    x = np.random.default_rng(0).normal(3.0, 0.01, size=(300, 200)).astype(dtype)
    stat = summarize(x)
    assert stat["mean"] == pytest.approx(float(x.astype(np.float64).mean()), rel=1e-6)
    # an offset of 300 std would wreck a one-pass E[x^2] - E[x]^2 in float32
    assert stat["std"] == pytest.approx(float(x.astype(np.float64).std()), rel=1e-3)
    assert stat["min"] == float(x.min()) and stat["max"] == float(x.max())


@pytest.mark.parametrize(
    ("scale", "offset"),
    [(1e-37, 0.0), (1e-30, 0.0), (1e25, 0.0), (1e35, 2.0)],
    ids=["vanished", "vanishing", "exploding", "exploded-positive"],
)
def test_summary_of_float32_keeps_vanishing_and_exploding_values(
    scale: float, offset: float
) -> None:
    # float32 holds these values, but not their squares (or sums): they must not read as 0 or null
    x = (np.random.default_rng(2).normal(offset, 1.0, size=(100, 300)) * scale).astype(np.float32)
    truth = x.astype(np.float64)
    stat = summarize(x)
    # abs=0: pytest.approx would otherwise take any value within 1e-12 of these tiny ones
    assert stat["mean"] == pytest.approx(float(truth.mean()), rel=1e-5, abs=0)
    assert stat["std"] == pytest.approx(float(truth.std()), rel=1e-5, abs=0)


def test_summary_of_non_finite_is_null() -> None:
    stat = summarize(np.array([1.0, np.inf, 2.0]))
    assert stat["max"] is None and stat["mean"] is None and stat["min"] == 1.0


@pytest.mark.parametrize("bins", [1, 7, 200])
def test_histogram_counts_equal_numpy(bins: int) -> None:
    x = np.random.default_rng(1).normal(0, 1, size=5000).astype(np.float32)
    x[:3] = [-1.2, 1.2, np.nan]  # both edges and a nan
    expected, _ = np.histogram(x[np.isfinite(x)], bins=bins, range=(-1.2, 1.2))
    np.testing.assert_array_equal(histogram_counts(x, -1.2, 1.2, bins), expected)


def test_histogram_uses_data_range_by_default() -> None:
    x = np.array([2.0, 3.0, 5.0])
    hist = histogram(x, 3, None)
    assert hist == {"range": [2.0, 5.0], "counts": [1, 1, 1]}
    assert data_range(np.array([4.0, 4.0])) == (3.5, 4.5)
    low, high = data_range(np.array([1e20, 1e20]))  # type: ignore[misc]
    assert low < 1e20 < high
    assert histogram(np.array([np.nan]), 3, None) is None


def test_unit_spread_is_zero_exactly_for_identical_units() -> None:
    w = np.tile(np.array([[0.1, -0.3, 0.7]]), (5, 1))
    b = np.full(5, 0.2)
    assert unit_spread(w, b) == 0.0
    w[3, 1] += 1e-7
    assert unit_spread(w, b) > 0.0
    assert unit_spread(np.zeros((4, 2)), np.array([0.0, 0.0, 0.0, 1e-9])) > 0.0


def test_json_safety() -> None:
    assert finite_or_none(math.nan) is None and finite_or_none(np.float32(2.5)) == 2.5
    assert json_array(np.array([[1.0, np.inf], [-np.inf, np.nan]])) == [[1.0, None], [None, None]]
    assert json_array(np.array([0.12345]), 3) == [0.123]


def test_summarize_many_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    arrays = [
        rng.normal(5, 2, size=(7, 3)),
        rng.uniform(-1, 1, size=11),
        np.array([4.0]),
        np.array([1.0, np.inf]),
        np.array([np.nan, 2.0]),
        np.float32([0.5, 0.25]),
    ]
    for many, one in zip(summarize_many(arrays), map(summarize, arrays), strict=True):
        assert many.keys() == one.keys()
        for key, value in one.items():
            assert many[key] == (None if value is None else pytest.approx(value, rel=1e-6))
