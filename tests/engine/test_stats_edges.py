"""Statistics at the edges test_stats.py does not reach: float32 arrays whose squares fit
one by one but not summed, or whose size is on one side only; histograms of arrays with
infinities and of ranges that cut the data. Truth is NumPy in float64 and np.histogram."""

from __future__ import annotations

import numpy as np
import pytest

from engine.stats import (
    histogram,
    histogram_counts,
    known_extremes,
    summarize,
    summarize_many,
    total,
    unit_extremes,
    unit_spread,
)


def float32_truth(x: np.ndarray) -> tuple[float, float]:
    wide = x.astype(np.float64)
    return float(wide.mean()), float(wide.std())


@pytest.mark.parametrize(
    "make",
    [
        # each square (1e36) is a float32, their sum over 30,000 is not
        lambda g: g.normal(0.0, 1.0, (100, 300)) * 1e18,
        # all the size is below zero: the largest value alone says nothing about the squares
        lambda g: -np.abs(g.normal(0.0, 1.0, (100, 300))) * 1e18,
    ],
    ids=["sum-of-squares-overflows", "negative-side-only"],
)
def test_float32_summaries_of_exploding_values_are_finite_and_right(make) -> None:
    x = make(np.random.default_rng(7)).astype(np.float32)
    mean, std = float32_truth(x)
    stat = summarize(x)
    assert stat["mean"] == pytest.approx(mean, rel=1e-5, abs=0)
    assert stat["std"] == pytest.approx(std, rel=1e-5, abs=0)
    assert stat["min"] == float(x.min()) and stat["max"] == float(x.max())


def test_known_extremes_are_a_summarys_finite_min_and_max_or_nothing() -> None:
    assert known_extremes({"min": -1.5, "max": 2.0}) == (-1.5, 2.0)
    assert known_extremes({"min": None, "max": 2.0}) is None
    assert known_extremes({"min": -1.5, "max": None}) is None


@pytest.mark.parametrize("infinity", [np.inf, -np.inf])
def test_a_histogram_of_values_with_an_infinity_spans_the_finite_ones(infinity: float) -> None:
    # an exploding layer: the summary's min or max is null, the histogram still has its range
    x = np.random.default_rng(8).normal(0.0, 1.0, 1000)
    x[10] = infinity
    finite = x[np.isfinite(x)]
    hist = histogram(x, 20, None, known_extremes(summarize(x)))
    assert hist is not None
    assert hist["range"] == [float(finite.min()), float(finite.max())]
    expected, _ = np.histogram(finite, bins=20, range=(finite.min(), finite.max()))
    np.testing.assert_array_equal(hist["counts"], expected)


@pytest.mark.parametrize(
    ("low", "high"),
    [(-1.0, 1.0), (-5.0, 0.5), (0.0, 5.0)],
    ids=["both-ends-cut", "top-cut", "bottom-cut"],
)
def test_counts_over_a_range_that_cuts_the_data_leave_the_rest_out(low: float, high: float):
    # the data's own extremes are passed, as the records do; values outside are not counted
    x = np.random.default_rng(9).normal(0.0, 1.0, 4000)
    extremes = (float(x.min()), float(x.max()))
    expected, _ = np.histogram(x, bins=16, range=(low, high))
    np.testing.assert_array_equal(histogram_counts(x, low, high, 16, extremes), expected)


def test_float32_denormals_are_binned_over_their_own_tiny_range() -> None:
    # bins / (high - low) is past float32's max here: the bins must still split the range
    x = (np.random.default_rng(10).uniform(0.0, 1.0, 2000) * 1e-40).astype(np.float32)
    hist = histogram(x, 10, None)
    assert hist is not None
    wide = x.astype(np.float64)
    expected, _ = np.histogram(wide, bins=10, range=(wide.min(), wide.max()))
    assert max(hist["counts"]) < 2000
    np.testing.assert_allclose(hist["counts"], expected, atol=2)


@pytest.mark.filterwarnings("error")
def test_float32_counts_past_float32s_span_and_nans_raise_no_warning() -> None:
    # x - low overflows to inf for the top value (it belongs in the last bin); a nan is skipped
    x = np.array([-3e38, -1e38, 3e38, np.nan], dtype=np.float32)
    np.testing.assert_array_equal(histogram_counts(x, -3e38, 3e38, 2), [2, 1])


def test_an_empty_array_has_the_same_summary_fields_all_null() -> None:
    empty = summarize(np.zeros((0, 3), dtype=np.float32))
    assert empty.keys() == summarize(np.ones(3)).keys()
    assert set(empty.values()) == {None}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(50, 40), (50, 1), (2000,)])
def test_total_sums_in_the_arrays_own_precision(dtype: type, shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(11).normal(1.0, 1.0, shape).astype(dtype)
    result = total(x)
    assert result.dtype == dtype
    assert float(result) == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-5)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("values", "mean"),
    [([1e200, -1e200, 3.0], 1.0), ([1e308, 1e308, -1.0], None),
     ([np.inf, -np.inf, 1.0], None), ([np.nan, 2.0], None)],
    ids=["squares-overflow", "sum-overflows", "both-infinities", "nan"],
)  # fmt: skip
def test_summaries_of_diverged_values_are_null_where_undefined_without_warnings(
    values: list[float], mean: float | None
) -> None:
    # a diverged run records these every iteration: no RuntimeWarning may flood the worker log
    stat = summarize(np.array(values))
    assert stat["mean"] == mean
    assert stat["std"] is None


def test_many_small_float32_summaries_of_exploding_values_are_finite_and_right() -> None:
    # a small layer of a diverging float32 run: squares of 1e25 are past float32's range
    arrays = [(np.random.default_rng(i).normal(0.0, 1.0, (6, 3)) * 1e25).astype(np.float32)
              for i in range(3)]  # fmt: skip
    for stat, x in zip(summarize_many(arrays), arrays, strict=True):
        mean, std = float32_truth(x)
        assert stat["mean"] == pytest.approx(mean, rel=1e-6, abs=0)
        assert stat["std"] == pytest.approx(std, rel=1e-6, abs=0)


def test_many_small_float32_summaries_sum_in_float64() -> None:
    # 1e8 + 1 is 1e8 in float32: a float32 sum would give these three values a mean of 0
    (stat,) = summarize_many([np.array([1e8, 1.0, -1e8], dtype=np.float32)])
    assert stat["mean"] == pytest.approx(1 / 3, rel=1e-12)


@pytest.mark.filterwarnings("error")
def test_many_small_summaries_of_diverged_values_are_null_without_warnings() -> None:
    stats = summarize_many([np.array([1e200, -1e200]), np.array([np.inf, -np.inf, 1.0])])
    assert [s["std"] for s in stats] == [None, None]
    assert [s["mean"] for s in stats] == [0.0, None]


@pytest.mark.parametrize("rows", [1, 63, 64, 67, 96, 300])
def test_unit_extremes_are_each_inputs_min_and_max_over_units(rows: int) -> None:
    # 67 is prime: no fold of the rows fits it, the plain reduction must still run
    w = np.random.default_rng(rows).normal(0.0, 1.0, (rows, 5))
    low, high = unit_extremes(w)
    np.testing.assert_array_equal(low, w.min(axis=0))
    np.testing.assert_array_equal(high, w.max(axis=0))


def test_unit_spread_of_two_units_is_their_largest_gap() -> None:
    w = np.array([[0.0, 1.0], [0.5, -1.0]])
    assert unit_spread(w, np.array([0.3, 0.3])) == 2.0
    assert unit_spread(w[:, :1], np.array([0.0, 4.0])) == 4.0  # the biases' gap wins


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "weights",
    [[[np.inf, 0.0], [np.inf, 1.0]], [[1e308, 0.0], [-1e308, 0.0]], [[np.nan, 0.0], [1.0, 0.0]]],
    ids=["inf-minus-inf", "gap-overflows", "nan"],
)
def test_a_diverged_layers_unit_spread_is_infinite_without_warnings(weights) -> None:
    assert unit_spread(np.array(weights), np.array([0.0, np.inf])) == np.inf
    assert unit_spread(np.array(weights), np.zeros(2)) == np.inf


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("dtype", "far"), [(np.float64, 1.7e308), (np.float32, 3.0e38)])
def test_a_histogram_over_a_range_wider_than_the_largest_float(dtype: type, far: float) -> None:
    x = np.array([-far, -0.5 * far, 0.0, 0.3 * far, far], dtype=dtype)
    low, high = float(x.min()), float(x.max())  # high - low overflows x's precision
    truth, _ = np.histogram(x.astype(np.float64) / 2, bins=4, range=(low / 2, high / 2))
    assert histogram_counts(x, low, high, 4).tolist() == truth.tolist() == [1, 1, 2, 1]


@pytest.mark.filterwarnings("error")
def test_a_histogram_over_a_range_of_denormals() -> None:
    tiny = 1.5e-312  # bins / tiny is past the largest float64
    x = np.array([0.0, 0.3 * tiny, 0.6 * tiny, tiny])
    truth, _ = np.histogram(x / tiny, bins=4, range=(0.0, 1.0))
    assert histogram_counts(x, 0.0, tiny, 4).tolist() == truth.tolist() == [1, 1, 1, 1]
