"""Per-layer statistics of a training step: summaries, exact histograms, symmetry.

Everything here returns JSON-safe Python values: non-finite floats become ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Stat = dict[str, Any]


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


def summarize(x: NDArray[np.floating[Any]]) -> Stat:
    """Mean, std, min and max of any array (two-pass variance: stable for offset data)."""
    if x.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None}
    flat = x.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = flat.mean()
        centred = flat - mean
        var = np.dot(centred, centred) / flat.size
        return {
            "mean": finite_or_none(mean),
            "std": finite_or_none(math.sqrt(var) if var >= 0 else math.nan),
            "min": finite_or_none(flat.min()),
            "max": finite_or_none(flat.max()),
        }


def histogram_counts(
    x: NDArray[np.floating[Any]], low: float, high: float, bins: int
) -> NDArray[np.int64]:
    """Counts of ``x`` in ``bins`` equal bins over [low, high]; same as ``np.histogram``.

    Values outside the range and non-finite values are not counted; ``high`` itself falls in
    the last bin. One bincount instead of a sort: this runs on every recorded iteration.
    """
    flat = x.reshape(-1)
    with np.errstate(invalid="ignore"):
        inside = flat[(flat >= low) & (flat <= high)]
    index = ((inside - low) * (bins / (high - low))).astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    return np.bincount(index, minlength=bins)


def histogram_rows(
    x: NDArray[np.floating[Any]], low: float, high: float, bins: int
) -> NDArray[np.int64]:
    """Per-row histograms of ``x`` (k, m) in one bincount: shape (k, bins)."""
    rows = x.shape[0]
    with np.errstate(invalid="ignore"):
        inside = (x >= low) & (x <= high)
        index = ((x - low) * (bins / (high - low))).astype(np.intp)
    np.clip(index, 0, bins - 1, out=index)
    index += (np.arange(rows, dtype=np.intp) * bins)[:, None]
    counts = np.bincount(index[inside], minlength=rows * bins)
    return counts.reshape(rows, bins)


def data_range(x: NDArray[np.floating[Any]]) -> tuple[float, float] | None:
    """The finite min..max of ``x``, widened when flat; None when nothing is finite."""
    finite = x[np.isfinite(x)] if not np.isfinite(x).all() else x
    if finite.size == 0:
        return None
    low, high = float(finite.min()), float(finite.max())
    if low == high:  # a flat array still gets a bin; pad relative to large values
        pad = max(0.5, abs(low) * 1e-3)
        low, high = low - pad, high + pad
    return low, high


def histogram(
    x: NDArray[np.floating[Any]], bins: int, value_range: Sequence[float] | None
) -> dict[str, Any] | None:
    """``{"range": [lo, hi], "counts": [...]}`` over the given range or the data's own."""
    bounds = tuple(value_range) if value_range is not None else data_range(x)
    if bounds is None:
        return None
    low, high = float(bounds[0]), float(bounds[1])
    return {"range": [low, high], "counts": histogram_counts(x, low, high, bins).tolist()}


def unit_spread(weights: NDArray[np.floating[Any]], biases: NDArray[np.floating[Any]]) -> float:
    """Largest gap between two units' incoming weights or biases; 0 iff all units are equal.

    Zero or constant initialization keeps this at exactly 0 for as long as training lasts:
    the symmetry the article warns about.
    """
    if weights.shape[0] < 2:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        gap = max(float(np.ptp(weights, axis=0).max()), float(np.ptp(biases)))
    return gap if math.isfinite(gap) else math.inf
