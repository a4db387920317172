"""Per-layer statistics of a training step: summaries, exact histograms, symmetry.

Everything here returns JSON-safe Python values: non-finite floats become ``None``. These run
on every recorded iteration, for every array of every layer, so each costs as few passes over
the data as it can (a record of the MNIST figure summarizes about 1.4 million numbers).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Stat = dict[str, Any]
Extremes = tuple[float, float]

# the float types BLAS sums rows of (through a matrix-vector product with ones)
_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
FLOAT32_MAX = float(np.finfo(np.float32).max)


def finite_or_none(value: float) -> float | None:
    """A Python float, or None for nan and +-inf (JSON has no such numbers)."""
    value = float(value)
    return value if math.isfinite(value) else None


def json_array(x: NDArray[Any], decimals: int | None = None) -> list[Any]:
    """``x.tolist()`` with non-finite entries as None, optionally rounded."""
    if decimals is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            x = np.round(x, decimals)
    if np.isfinite(x).all():
        return x.tolist()  # type: ignore[no-any-return]
    safe = x.astype(object)
    safe[~np.isfinite(x)] = None
    return safe.tolist()  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype[Any]) -> NDArray[Any]:
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def total(x: NDArray[Any]) -> Any:
    """The sum of every entry, in x's precision (a float32 array sums in float32).

    A C-ordered float matrix is summed as its row sums (one BLAS matrix-vector product with
    ones, three times faster than NumPy's pairwise sum) and then the rows' pairwise sum.
    """
    if x.ndim == 2 and x.shape[1] > 1 and x.dtype in _BLAS_FLOATS and x.flags.c_contiguous:
        return np.add.reduce(x @ _ones(x.shape[1], x.dtype))
    return np.add.reduce(x, axis=None)


def summarize(x: NDArray[np.floating[Any]], extremes: Extremes | None = None) -> Stat:
    """Mean, std, min and max of any array; ``extremes`` is its (min, max) when already known.

    One pass each for the sum, the sum of squares, the min and the max. The variance is
    E[x^2] - E[x]^2 only where that cannot cancel (mean^2 at most half of E[x^2], so the
    result keeps the precision of the sum of squares); offset data, such as constant or
    sigmoid activations, takes a second, centred pass instead. The sums run in x's precision
    unless its squares could leave float32's normal range (vanishing or exploding signals,
    the very cases recorded here): such an array is summed in float64.
    """
    n = x.size
    if n == 0:
        return {"mean": None, "std": None, "min": None, "max": None}
    with np.errstate(invalid="ignore", over="ignore"):
        if extremes is None:
            extremes = np.minimum.reduce(x, axis=None), np.maximum.reduce(x, axis=None)
        if x.dtype != np.float64 and not _squares_fit(x.dtype, extremes, n):
            x = x.astype(np.float64)
        mean = float(total(x)) / n
        squares = float(np.vdot(x, x))
        if math.isfinite(squares) and mean * mean * n <= 0.5 * squares:
            var = squares / n - mean * mean
        else:
            centred = x.reshape(-1) - mean
            var = float(np.vdot(centred, centred)) / n
    return {
        "mean": finite_or_none(mean),
        "std": finite_or_none(math.sqrt(var) if var >= 0 else math.nan),
        "min": finite_or_none(extremes[0]),
        "max": finite_or_none(extremes[1]),
    }


@functools.lru_cache(maxsize=8)
def _square_range(dtype: np.dtype[Any]) -> tuple[float, float]:
    """(smallest, largest) magnitude whose square is a normal number of ``dtype``, with a
    margin of 1e3 at the small end; this runs for every large array of every record."""
    info = np.finfo(dtype)
    return math.sqrt(float(info.tiny)) * 1e3, math.sqrt(float(info.max))


def _squares_fit(dtype: np.dtype[Any], extremes: Extremes, n: int) -> bool:
    """Whether n squares of values within ``extremes`` sum in ``dtype`` without overflow and
    without any of them falling below its normal range (where they lose their digits)."""
    small, large = _square_range(dtype)
    peak = max(abs(float(extremes[0])), abs(float(extremes[1])))
    return peak == 0.0 or small <= peak <= large / math.sqrt(4.0 * n)


# below this many entries an array's reductions cost less than the calls that make them
SMALL_ARRAY = 4096


def summarize_many(arrays: list[NDArray[np.floating[Any]]]) -> list[Stat]:
    """``summarize`` of many small non-empty arrays at once, in float64.

    A small network's record has dozens of tiny arrays; one concatenation and segment
    reductions (``reduceat``) replace a dozen NumPy calls per array.
    """
    if not arrays:
        return []
    sizes = np.array([a.size for a in arrays])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = np.concatenate([a.reshape(-1) for a in arrays], dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = np.add.reduceat(flat, starts) / sizes
        centred = flat - np.repeat(mean, sizes)
        std = np.sqrt(np.add.reduceat(centred * centred, starts) / sizes)
        low = np.minimum.reduceat(flat, starts)
        high = np.maximum.reduceat(flat, starts)
    columns = [json_array(column) for column in (mean, std, low, high)]
    return [
        {"mean": m, "std": s, "min": lo, "max": hi} for m, s, lo, hi in zip(*columns, strict=True)
    ]


def known_extremes(stat: Stat) -> Extremes | None:
    """A summary's (min, max) when both are finite, for a histogram to skip its own passes."""
    low, high = stat["min"], stat["max"]
    return None if low is None or high is None else (low, high)


def histogram_counts(
    x: NDArray[np.floating[Any]],
    low: float,
    high: float,
    bins: int,
    extremes: Extremes | None = None,
) -> NDArray[np.int64]:
    """Counts of ``x`` in ``bins`` equal bins over [low, high]: value v counts in bin
    floor((v - low) * bins / (high - low)), computed in x's precision.

    Values outside the range and non-finite values are not counted; ``high`` itself falls in
    the last bin. One bincount instead of a sort: this runs on every recorded iteration. The
    counts agree with ``np.histogram`` except for values within rounding of an inner edge,
    which may land in the neighbouring bin (np.histogram compares them with an array of
    edges, a second gather that would double the cost).
    ``extremes``, x's finite (min, max) when known, spares the range check when x is inside.
    """
    flat = x.reshape(-1)
    if extremes is None or not low <= extremes[0] <= extremes[1] <= high:
        with np.errstate(invalid="ignore"):
            flat = flat[(flat >= low) & (flat <= high)]
    with np.errstate(over="ignore"):
        span = flat.dtype.type(high) - flat.dtype.type(low)
    if not np.isfinite(span):  # a range wider than x's largest float: measure it in halves
        flat, low, high = flat / 2, low / 2, high / 2
    scale = bins / (high - low)
    if flat.dtype == np.float32 and scale > FLOAT32_MAX:  # a range of float32 denormals
        flat = flat.astype(np.float64)
    with np.errstate(over="ignore"):  # x - low past float32's max is inf: the last bin, rightly
        index = flat - low
        if np.isfinite(scale):
            index *= scale
        else:  # a range of denormals, narrower than bins / the largest float: divide first
            index /= high - low
            index *= bins
    # index >= 0 here, so capping before the cast to int (which truncates) equals capping after
    np.minimum(index, bins - 1, out=index)
    return np.bincount(index.astype(np.int32), minlength=bins)


def data_range(
    x: NDArray[np.floating[Any]], extremes: Extremes | None = None
) -> tuple[float, float] | None:
    """The finite min..max of ``x`` (or the given finite extremes), widened when flat; None
    when nothing is finite."""
    if extremes is None:
        finite = x[np.isfinite(x)] if not np.isfinite(x).all() else x
        if finite.size == 0:
            return None
        extremes = float(finite.min()), float(finite.max())
    low, high = extremes
    if low == high:  # a flat array still gets a bin; pad relative to large values
        pad = max(0.5, abs(low) * 1e-3)
        low, high = low - pad, high + pad
    return low, high


def histogram(
    x: NDArray[np.floating[Any]],
    bins: int,
    value_range: Sequence[float] | None,
    extremes: Extremes | None = None,
) -> dict[str, Any] | None:
    """``{"range": [lo, hi], "counts": [...]}`` over the given range or the data's own.

    ``extremes``: x's finite (min, max) when already known (``known_extremes`` of its summary).
    """
    bounds = tuple(value_range) if value_range is not None else data_range(x, extremes)
    if bounds is None:
        return None
    low, high = float(bounds[0]), float(bounds[1])
    counts = histogram_counts(x, low, high, bins, extremes)
    return {"range": [low, high], "counts": counts.tolist()}


def unit_extremes(
    weights: NDArray[np.floating[Any]],
) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
    """Least and largest weight from each input over a layer's units: two (n[l-1],) arrays."""
    rows, cols = weights.shape
    # k rows side by side (a free reshape) give NumPy's column reduction k-times longer inner
    # loops, about 20 % faster on 300 rows; the result is the same, min and max being exact
    k = next((k for k in (4, 3, 2) if rows % k == 0), 1) if rows >= 64 else 1
    folded = weights.reshape(rows // k, k * cols)
    low = np.minimum.reduce(np.minimum.reduce(folded, axis=0).reshape(k, cols), axis=0)
    high = np.maximum.reduce(np.maximum.reduce(folded, axis=0).reshape(k, cols), axis=0)
    return low, high


def unit_spread(
    weights: NDArray[np.floating[Any]],
    biases: NDArray[np.floating[Any]],
    extremes: tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]]] | None = None,
) -> float:
    """Largest gap between two units' incoming weights or biases; 0 iff all units are equal.

    Zero or constant initialization keeps this at exactly 0 for as long as training lasts:
    the symmetry the article warns about. ``extremes``: ``unit_extremes(weights)`` if known.
    """
    if weights.shape[0] < 2:
        return 0.0
    low, high = extremes if extremes is not None else unit_extremes(weights)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = max(float(np.subtract(high, low).max()), float(np.ptp(biases)))
    return gap if math.isfinite(gap) else math.inf
