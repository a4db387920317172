"""Packing the engine's arrays as they come gives the bytes their JSON-safe lists gave.

The engine hands boundary grids, image predictions and parameter snapshots as NumPy arrays
(engine/records.py); the store used to receive them as Python lists. The frames written to
Redis, and so every byte a client reads, must not depend on which of the two it gets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine.records import plain
from engine.spec import resolve
from engine.stats import json_array
from engine.train import Training
from store.arrays import pack, to_array
from store.packing import pack_record, pack_snapshot, record_json, snapshot_json

SPECS = {
    "playground": {"preset": "playground", "training": {"iterations": 20},
                   "record": {"boundary": {"every": 5}, "parameters": {"every": 10}}},
    # overflows float32 at once: arrays with nan and inf, which the lists hold as null
    "exploding": {"model": {"hidden": [32] * 8}, "init": {"method": "normal", "std": 1000},
                  "training": {"iterations": 3},
                  "record": {"boundary": {"every": 1, "resolution": 21}}},
    # four classes: the boundary's winning probability and its label grid
    "blobs": {"dataset": {"name": "blobs"}, "training": {"iterations": 10},
              "record": {"boundary": {"every": 5, "resolution": 31}}},
    "float64": {"model": {"dtype": "float64"}, "training": {"iterations": 5},
                "record": {"boundary": {"every": 5}}},
    "mnist": {"dataset": {"name": "mnist", "n_samples": 200}, "model": {"hidden": [24]},
              "optimizer": {"name": "sgd", "batch_size": 50}, "training": {"iterations": 4},
              "record": {"predictions": {"every": 1, "count": 40}, "parameters": {"every": 2}}},
}  # fmt: skip


def arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [array for item in items for array in arrays(item)]


def has_array(value: Any) -> bool:
    return bool(arrays(value))


def non_finite(value: Any) -> bool:
    return any(a.dtype.kind == "f" and not np.isfinite(a).all() for a in arrays(value))


@pytest.mark.parametrize("name", list(SPECS))
def test_a_runs_records_and_snapshots_pack_the_same_as_arrays_and_as_lists(name: str) -> None:
    recorded = list(Training(resolve(SPECS[name])).run_with_snapshots())
    assert any(has_array(record) for record, _ in recorded)  # the case is not vacuous
    seen_non_finite = False
    for record, snapshot in recorded:
        listed = plain(record)
        assert not has_array(listed)
        packed = pack_record(record)
        assert packed == pack_record(listed)
        assert record_json(*packed) == orjson.dumps(listed)
        seen_non_finite |= non_finite(record) or non_finite(snapshot)
        if snapshot is not None:
            assert has_array(snapshot)
            fields = pack_snapshot(record["iteration"], snapshot)
            assert fields == pack_snapshot(record["iteration"], plain(snapshot))
            *chunks, (_, header) = fields
            restored = snapshot_json(header, [chunk for _, chunk in chunks])
            assert restored == orjson.dumps(plain(snapshot))
    assert seen_non_finite == (name == "exploding")


float_arrays = hnp.arrays(
    st.sampled_from([np.float32, np.float64]),
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=24),
    elements=st.one_of(
        st.floats(width=32),  # nan, inf, -0.0 and denormals included
        st.integers(0, 65534).map(lambda q: q / 1000),  # a milli grid (boundary-like)
    ),
)
other_arrays = hnp.arrays(
    st.sampled_from([np.bool_, np.uint8, np.int32, np.int64]),
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(float_arrays, other_arrays))
def test_any_array_packs_as_its_json_safe_list(array: np.ndarray) -> None:
    from_array, from_list = to_array(array), to_array(json_array(array))
    assert (from_array is None) == (from_list is None)
    if from_array is not None and from_list is not None:
        assert from_array.kind == from_list.kind
        assert pack([from_array]) == pack([from_list])
    for record in ({"iteration": 1, "boundary": {"p": array}}, {"iteration": 1, "p": array}):
        assert pack_record(record) == pack_record(plain(record))  # split, or JSON as it is


def test_a_snapshot_is_a_copy_the_training_does_not_change() -> None:
    training = Training(resolve({"training": {"iterations": 5}}))
    initial = [w.copy() for w in training.net.weights]
    first = next(iter(training.run_with_snapshots())).snapshot
    assert first is not None
    weights = [layer["weights"] for layer in first["layers"]]
    for _ in training.run_with_snapshots():  # the writer packs snapshots while training goes on
        pass
    assert not np.array_equal(training.net.weights[0], initial[0])  # training did move them
    for kept, start in zip(weights, initial, strict=True):
        np.testing.assert_array_equal(kept, start)
