"""The variance report where measurement leaves float64: a mean square past its range is
infinite (the report writes it as null), with no RuntimeWarning in the worker's log."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.theory import _mean_square


@pytest.mark.filterwarnings("error")
def test_a_mean_square_past_float64s_range_is_infinite_without_warnings() -> None:
    assert _mean_square(np.array([1e200, 3.0], dtype=np.float64)) == math.inf
    assert _mean_square(np.array([3e38, 1.0], dtype=np.float32)) == pytest.approx(4.5e76)
    assert math.isnan(_mean_square(np.array([np.nan, 1.0])))
