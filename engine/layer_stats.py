"""The ``layers`` part of a record: every layer's six summaries, its histograms when due and
its unit spread, computed for all layers together.

A small network's record is dozens of tiny arrays (the playground's 2-6-3-1 net: 18 arrays of
1 to 600 numbers), where the cost is NumPy calls, not arithmetic. A :class:`LayerPlan`, made
once per batch size of a run, fixes where each small array goes in one float64 buffer, so a
record fills it with one concatenation and reduces every array's segment at once (what
``stats.summarize_many`` does, into buffers kept between records); the unit spreads of all
layers with small weights come from one gather and a few segment reductions, and the due
histograms of the small arrays from one bincount. Large arrays (the MNIST figure's) are
summarized and binned one by one, as before. Every value equals what the one-array functions
of engine/stats.py give, bit for bit (tests/engine/test_layer_stats.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.experiment import HistogramSpec
from engine.network import Pass
from engine.stats import (
    FLOAT32_MAX,
    SMALL_ARRAY,
    Stat,
    data_range,
    finite_or_none,
    histogram,
    json_array,
    known_extremes,
    summarize,
    unit_extremes,
    unit_spread,
)

Array = NDArray[np.floating[Any]]
# a layer's arrays, in the order of the record's keys
NAMES = ("weights", "biases", "preactivations", "activations", "weight_grads", "activation_grads")


def layer_arrays(
    weights: Sequence[Array], biases: Sequence[Array], step: Pass
) -> list[tuple[Array, ...]]:
    """Per layer, its arrays in the order of ``NAMES``."""
    return [
        (w, b, step.z[i], step.a[i], step.dW[i], step.da[i])
        for i, (w, b) in enumerate(zip(weights, biases, strict=True))
    ]


def _starts(sizes: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


class LayerPlan:
    """Where each array of a record's layers goes, for one set of shapes (which change only
    with the batch size): the small arrays' segments in a float64 buffer, the large ones
    apart, and the gather that lays small weight matrices out column by column."""

    def __init__(self, layers: list[tuple[Array, ...]], histograms: HistogramSpec) -> None:
        places = [(i, k) for i in range(len(layers)) for k in range(len(NAMES))]
        self.small = [(i, k) for i, k in places if 0 < layers[i][k].size <= SMALL_ARRAY]
        self.large = [(i, k) for i, k in places if not 0 < layers[i][k].size <= SMALL_ARRAY]
        self.sizes = np.array([layers[i][k].size for i, k in self.small], dtype=np.int64)
        self.starts = _starts(self.sizes)
        total = int(self.sizes.sum())
        self.flat = np.empty(total)
        self.centred = np.empty(total)
        self.owner = np.repeat(np.arange(len(self.small)), self.sizes)
        self.columns = np.empty((4, len(self.small)))  # mean, std, min, max of each
        self._plan_spreads([arrays[0] for arrays in layers])
        # the small arrays histogrammed, each one's bins after the one before's in one bincount
        hist = histograms
        self.binned = [j for j, (_, k) in enumerate(self.small) if NAMES[k] in hist.fields]
        self.binned_sizes = self.sizes[self.binned]
        self.bin_offsets = np.repeat(np.arange(len(self.binned)) * hist.bins, self.binned_sizes)

    def _plan_spreads(self, weights: list[Array]) -> None:
        """Layers of two units or more with small weights get their spread from ``gather``
        of [W1, ..., b1, ...]: each weight column (one input's weights over the units), then
        each bias vector, as segments whose max - min are the gaps ``unit_spread`` takes."""
        self.spread_layers = [
            i for i, w in enumerate(weights) if w.shape[0] >= 2 and w.size <= SMALL_ARRAY
        ]
        shapes = [weights[i].shape for i in self.spread_layers]
        parts, offset = [], 0
        for rows, cols in shapes:  # W.T's order: column j's rows, for each j
            columns = offset + np.arange(rows)[None, :] * cols + np.arange(cols)[:, None]
            parts.append(columns.reshape(-1))
            offset += rows * cols
        for rows, _ in shapes:  # the biases follow every weight
            parts.append(offset + np.arange(rows))
            offset += rows
        self.gather = np.concatenate(parts).astype(np.intp) if parts else np.empty(0, np.intp)
        lengths = [rows for rows, cols in shapes for _ in range(cols)] + [r for r, _ in shapes]
        self.segment_starts = _starts(np.array(lengths, dtype=np.int64))
        self.weight_segments = sum(cols for _, cols in shapes)
        self.layer_starts = _starts(np.array([cols for _, cols in shapes], dtype=np.int64))


class LayerStatistics:
    """Builds a record's ``layers`` list; keeps a plan (and its buffers) per batch size."""

    def __init__(self, histograms: HistogramSpec) -> None:
        self.histograms = histograms
        self._plans: dict[int, LayerPlan] = {}

    def __call__(
        self, weights: Sequence[Array], biases: Sequence[Array], step: Pass, with_histograms: bool
    ) -> list[dict[str, Any]]:
        layers = layer_arrays(weights, biases, step)
        batch = step.z[0].shape[0]  # the only thing that changes the shapes within a run
        plan = self._plans.get(batch)
        if plan is None:
            plan = self._plans[batch] = LayerPlan(layers, self.histograms)
        stats: list[list[Stat]] = [[{} for _ in NAMES] for _ in layers]
        spreads: list[float | None] = [0.0] * len(layers)  # 0 for a layer of one unit
        with np.errstate(invalid="ignore", over="ignore"):
            for (i, k), stat in zip(plan.small, _summaries(plan, layers), strict=True):
                stats[i][k] = stat
            for i, spread in zip(plan.spread_layers, _spreads(plan, layers), strict=True):
                spreads[i] = spread
        for i, k in plan.large:
            if k == 0:  # large weights: their per-input extremes serve the summary and spread
                w, b = layers[i][0], layers[i][1]
                low, high = unit_extremes(w)
                stats[i][k] = summarize(w, (low.min(), high.max()))
                if w.shape[0] >= 2:
                    spreads[i] = finite_or_none(unit_spread(w, b, (low, high)))
            else:
                stats[i][k] = summarize(layers[i][k])
        if with_histograms:
            self._add_histograms(plan, layers, stats)
        rows = zip(layers, stats, spreads, strict=True)
        return [
            {"layer": i + 1, "units": int(arrays[0].shape[0]),
             **dict(zip(NAMES, summaries, strict=True)), "unit_spread": spread}
            for i, (arrays, summaries, spread) in enumerate(rows)
        ]  # fmt: skip

    def _add_histograms(
        self, plan: LayerPlan, layers: list[tuple[Array, ...]], stats: list[list[Stat]]
    ) -> None:
        hist = self.histograms
        binned = [plan.small[j] for j in plan.binned]
        apart = [(i, k) for i, k in plan.large if NAMES[k] in hist.fields]
        if not _histograms_together(plan, hist, [layers[i][k] for i, k in binned],
                                    [stats[i][k] for i, k in binned]):  # fmt: skip
            apart += binned
        for i, k in apart:
            stat = stats[i][k]
            extremes = known_extremes(stat)
            stat["histogram"] = histogram(layers[i][k], hist.bins, hist.range, extremes)


def _histograms_together(
    plan: LayerPlan, hist: HistogramSpec, arrays: list[Array], stats: list[Stat]
) -> bool:
    """``histogram`` of each of the plan's small binned arrays, in one bincount; False (and
    nothing done) unless every one is finite and inside its range, where ``histogram_counts``
    skips its mask (and its range is wide enough for the dtype's bin arithmetic)."""
    if not arrays:
        return True
    bounds = []
    for array, stat in zip(arrays, stats, strict=True):
        extremes = known_extremes(stat)
        if extremes is None:
            return False
        bounds_of_array = hist.range if hist.range is not None else data_range(array, extremes)
        if bounds_of_array is None:  # not with known extremes; for the type checker
            return False
        low, high = bounds_of_array
        scale = hist.bins / (high - low)
        with np.errstate(over="ignore"):
            span = array.dtype.type(high) - array.dtype.type(low)
        if (
            not low <= extremes[0] <= extremes[1] <= high
            or (array.dtype == np.float32 and scale > FLOAT32_MAX)
            or not np.isfinite(span)  # wider than the dtype's largest float: one at a time
            or not np.isfinite(scale)  # narrower than bins / the largest float: one at a time
        ):
            return False
        bounds.append((float(low), float(high), scale))
    # (x - low) * scale in x's precision, as histogram_counts computes it one array at a time
    with np.errstate(over="ignore"):
        lows, _, scales = (np.array(c, arrays[0].dtype) for c in zip(*bounds, strict=True))
        index = np.concatenate([array.ravel() for array in arrays])
        index -= np.repeat(lows, plan.binned_sizes)
        index *= np.repeat(scales, plan.binned_sizes)
    np.minimum(index, hist.bins - 1, out=index)
    codes = index.astype(np.int32) + plan.bin_offsets
    counts = np.bincount(codes, minlength=len(arrays) * hist.bins).reshape(len(arrays), -1)
    for stat, (low, high, _), row in zip(stats, bounds, counts.tolist(), strict=True):
        stat["histogram"] = {"range": [low, high], "counts": row}
    return True


def _summaries(plan: LayerPlan, layers: list[tuple[Array, ...]]) -> list[Stat]:
    """``summarize_many`` of the plan's small arrays, into its buffers."""
    if not plan.small:
        return []
    flat, centred, columns = plan.flat, plan.centred, plan.columns
    # ravel() then concatenate: twice as fast as concatenate(axis=None) on 18 small arrays
    np.concatenate([layers[i][k].ravel() for i, k in plan.small], out=flat)
    mean, std, low, high = columns
    np.add.reduceat(flat, plan.starts, out=mean)
    np.divide(mean, plan.sizes, out=mean)
    np.subtract(flat, mean[plan.owner], out=centred)
    np.multiply(centred, centred, out=centred)
    np.add.reduceat(centred, plan.starts, out=std)
    np.divide(std, plan.sizes, out=std)
    np.sqrt(std, out=std)
    np.minimum.reduceat(flat, plan.starts, out=low)
    np.maximum.reduceat(flat, plan.starts, out=high)
    means, stds, lows, highs = json_array(columns)
    return [
        {"mean": m, "std": s, "min": lo, "max": hi}
        for m, s, lo, hi in zip(means, stds, lows, highs, strict=True)
    ]


def _spreads(plan: LayerPlan, layers: list[tuple[Array, ...]]) -> list[float | None]:
    """``unit_spread`` of the plan's spread layers, in their dtype (gaps are differences)."""
    if not plan.spread_layers:
        return []
    chosen = [layers[i] for i in plan.spread_layers]
    params = np.concatenate([a[0].ravel() for a in chosen] + [a[1] for a in chosen])
    values = params[plan.gather]
    gaps = np.maximum.reduceat(values, plan.segment_starts)
    gaps -= np.minimum.reduceat(values, plan.segment_starts)
    weight_gap = np.maximum.reduceat(gaps[: plan.weight_segments], plan.layer_starts)
    bias_gap = gaps[plan.weight_segments :]
    # Python's max(weight_gap, bias_gap), as unit_spread takes it: a nan bias gap is passed over
    spread = np.where(bias_gap > weight_gap, bias_gap, weight_gap)
    return [finite_or_none(value) for value in spread.tolist()]
