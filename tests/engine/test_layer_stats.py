"""A record's layers computed together (engine/layer_stats.py) against the same statistics
one array at a time (engine/stats.py's public functions), bit for bit, and against plain
NumPy; on random passes with constant, non-finite, one-unit and large arrays."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from engine.experiment import HistogramSpec
from engine.layer_stats import NAMES, LayerStatistics, layer_arrays
from engine.network import Pass
from engine.records import accuracy
from engine.stats import SMALL_ARRAY, histogram, summarize, summarize_many, unit_spread

Array = NDArray[Any]
ALL_FIELDS = list(NAMES)


def random_pass(
    sizes: list[int], batch: int, dtype: type, rng: np.random.Generator, scale: float = 1.0
) -> tuple[list[Array], list[Array], Pass]:
    """Parameters and a Pass of the right shapes, filled with random numbers (the statistics
    do not care where the numbers came from)."""

    def draw(*shape: int) -> Array:
        return (rng.normal(0.3, scale, size=shape)).astype(dtype)

    pairs = list(itertools.pairwise(sizes))
    weights = [draw(n, m) for m, n in pairs]
    biases = [draw(n) for _, n in pairs]
    step = Pass(
        cost=0.5,
        probs=draw(batch, sizes[-1]),
        z=[draw(batch, n) for _, n in pairs],
        a=[draw(batch, n) for _, n in pairs],
        da=[draw(batch, n) for _, n in pairs],
        dW=[draw(n, m) for m, n in pairs],
        db=[draw(n) for _, n in pairs],
    )
    return weights, biases, step


def one_at_a_time(
    weights: list[Array], biases: list[Array], step: Pass, hist: HistogramSpec
) -> list[dict[str, Any]]:
    """The layers as engine/stats.py's functions give them, each array on its own."""
    layers = []
    for i, arrays in enumerate(layer_arrays(weights, biases, step)):
        layer: dict[str, Any] = {"layer": i + 1, "units": weights[i].shape[0]}
        for name, array in zip(NAMES, arrays, strict=True):
            small = 0 < array.size <= SMALL_ARRAY
            stat = summarize_many([array])[0] if small else summarize(array)
            if name in hist.fields:
                stat["histogram"] = histogram(array, hist.bins, hist.range)
            layer[name] = stat
        spread = unit_spread(weights[i], biases[i])
        layer["unit_spread"] = spread if math.isfinite(spread) else None
        layers.append(layer)
    return layers


def spoil(step: Pass, weights: list[Array], biases: list[Array], case: str) -> None:
    """Edge cases written into the arrays in place."""
    if case == "constant":
        weights[0][:] = 0.25
        step.a[0][:] = 0.0
        step.z[1][:] = -3.0
    elif case == "non-finite":
        step.z[0].reshape(-1)[3] = np.nan  # views: the arrays are contiguous
        step.a[1].reshape(-1)[0] = np.inf
        step.da[0].reshape(-1)[2] = -np.inf
        weights[1].reshape(-1)[0] = np.nan
    elif case == "nan-bias":  # unit_spread passes a nan bias gap over (Python's max)
        biases[-2][-1] = np.nan
    elif case == "huge":
        weights[0] *= np.asarray(1e36, weights[0].dtype)
    elif case == "vanished":  # float32 denormals: a range too narrow for float32 bins
        step.a[0] *= np.asarray(1e-40, step.a[0].dtype)


@pytest.mark.parametrize(
    "case", ["random", "constant", "non-finite", "nan-bias", "huge", "vanished"]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("sizes", "batch"),
    [([2, 6, 3, 1], 100), ([2, 1, 5, 1], 7), ([3, 80, 70, 4], 60), ([784, 6, 2], 3)],
    ids=["playground", "one-unit", "large-arrays", "large-weights"],
)
@pytest.mark.parametrize(
    "value_range", [None, (-1.0, 1.5), (-50.0, 60.0)], ids=["own", "narrow", "wide"]
)
def test_layers_equal_the_statistics_one_array_at_a_time(
    case: str, dtype: type, sizes: list[int], batch: int, value_range: tuple[float, float] | None
) -> None:
    rng = np.random.default_rng(len(case) + batch)
    hist = HistogramSpec(bins=13, fields=ALL_FIELDS, range=value_range)
    layer_stats = LayerStatistics(hist)
    for _ in range(2):  # the second call reuses the plan and its buffers
        weights, biases, step = random_pass(sizes, batch, dtype, rng)
        spoil(step, weights, biases, case)
        got = layer_stats(weights, biases, step, with_histograms=True)
        assert repr(got) == repr(one_at_a_time(weights, biases, step, hist))
    without = layer_stats(weights, biases, step, with_histograms=False)
    assert all("histogram" not in layer[name] for layer in without for name in NAMES)


def test_a_new_batch_size_gets_its_own_plan() -> None:
    rng = np.random.default_rng(5)
    hist = HistogramSpec(bins=5)
    layer_stats = LayerStatistics(hist)
    for batch in (32, 32, 6, 32):  # mini-batches with a ragged last one
        weights, biases, step = random_pass([2, 6, 3, 1], batch, np.float32, rng)
        got = layer_stats(weights, biases, step, with_histograms=True)
        assert repr(got) == repr(one_at_a_time(weights, biases, step, hist))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_match_plain_numpy(dtype: type) -> None:
    rng = np.random.default_rng(11)
    weights, biases, step = random_pass([2, 6, 3, 1], 100, dtype, rng, scale=2.0)
    hist = HistogramSpec(bins=30, fields=ALL_FIELDS)
    layers = LayerStatistics(hist)(weights, biases, step, with_histograms=True)
    for layer, arrays in zip(layers, layer_arrays(weights, biases, step), strict=True):
        for name, array in zip(NAMES, arrays, strict=True):
            stat, truth = layer[name], array.astype(np.float64)
            assert stat["mean"] == pytest.approx(truth.mean(), rel=1e-12, abs=1e-15)
            assert stat["std"] == pytest.approx(truth.std(), rel=1e-12)
            assert (stat["min"], stat["max"]) == (truth.min(), truth.max())
            low, high = stat["histogram"]["range"]
            if array.size > 1:  # one number gets a padded range
                assert (low, high) == (truth.min(), truth.max())
            counts, _ = np.histogram(array, bins=30, range=(low, high))
            assert stat["histogram"]["counts"] == counts.tolist()
        w, b = arrays[0], arrays[1]
        gap = max(np.ptp(w, axis=0).max(), np.ptp(b)) if w.shape[0] > 1 else 0.0
        assert layer["unit_spread"] == gap


def test_bins_are_computed_in_the_arrays_precision() -> None:
    # float32 values whose bin over [0, 1] in 200 bins differs between float32 and float64
    # arithmetic ((x - 0) * 200 rounds up to the next integer in float32 only)
    draws = np.random.default_rng(8).uniform(0, 1, 1_000_000).astype(np.float32)
    in_float32 = (draws * np.float32(200)).astype(np.int32)
    in_float64 = (draws.astype(np.float64) * 200).astype(np.int32)
    tricky = draws[in_float32 != in_float64][:100]
    assert tricky.size >= 3
    values = np.full(600, 0.5, dtype=np.float32)
    values[: tricky.size + 2] = [0.0, 1.0, *tricky]
    weights, biases, step = random_pass([2, 6, 3, 1], 100, np.float32, np.random.default_rng(1))
    step.a[0][:] = values.reshape(100, 6)
    hist = HistogramSpec(bins=200, fields=["activations"])
    got = LayerStatistics(hist)(weights, biases, step, True)[0]["activations"]["histogram"]
    assert got == histogram(step.a[0], 200, None)
    assert got["range"] == [0.0, 1.0] and sum(got["counts"]) == 600


def test_constant_and_one_unit_layers() -> None:
    weights = [np.full((4, 2), 0.5), np.full((1, 4), -2.0)]
    biases = [np.zeros(4), np.ones(1)]
    step = Pass(
        cost=0.0, probs=np.full((3, 1), 0.5), z=[np.full((3, 4), 7.0), np.full((3, 1), 1.0)],
        a=[np.full((3, 4), 7.0), np.full((3, 1), 0.5)], da=[np.zeros((3, 4)), np.zeros((3, 1))],
        dW=[np.zeros((4, 2)), np.zeros((1, 4))], db=[np.zeros(4), np.zeros(1)],
    )  # fmt: skip
    layers = LayerStatistics(HistogramSpec(bins=4, fields=ALL_FIELDS))(weights, biases, step, True)
    first = layers[0]
    assert first["unit_spread"] == 0.0 and layers[1]["unit_spread"] == 0.0  # identical units
    assert first["preactivations"]["mean"] == 7.0 and first["preactivations"]["std"] == 0.0
    # a constant array's histogram gets a padded range and all its values in the middle bin
    assert first["weights"]["histogram"] == {"range": [0.0, 1.0], "counts": [0, 0, 8, 0]}
    assert [layer["units"] for layer in layers] == [4, 1]


def test_non_finite_values_read_as_null_and_keep_the_others() -> None:
    rng = np.random.default_rng(2)
    weights, biases, step = random_pass([2, 6, 3, 1], 10, np.float32, rng)
    step.z[0][0, 0] = np.nan
    weights[1][1, 1] = np.inf
    layers = LayerStatistics(HistogramSpec(bins=4))(weights, biases, step, True)
    z = layers[0]["preactivations"]
    assert z["mean"] is None and z["std"] is None and z["min"] is None
    w = layers[1]["weights"]
    assert w["max"] is None and w["min"] == float(weights[1].min())
    assert layers[1]["unit_spread"] is None and layers[0]["unit_spread"] is not None
    finite = step.a[0][np.isfinite(step.a[0])]
    assert layers[0]["activations"]["histogram"]["counts"] == np.histogram(finite, 4)[0].tolist()


def test_accuracy_is_a_python_float_equal_to_the_mean_of_the_matches() -> None:
    rng = np.random.default_rng(4)
    probs = rng.random((37, 1)).astype(np.float32)
    y = rng.integers(0, 2, size=37)
    got = accuracy(probs, y)
    assert type(got) is float and got == float(np.mean((probs[:, 0] > 0.5) == y))
    many = rng.random((37, 4))
    assert accuracy(many, y) == float(np.mean(many.argmax(axis=1) == y))
    assert accuracy(probs[:0], y[:0]) is None
