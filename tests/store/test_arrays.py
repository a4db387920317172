"""The binary arrays of the store: every list comes back as the same JSON, of the same shape."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from store.arrays import MILLI_NULL, pack, to_array, to_list, unpack
from store.packing import pack_record, pack_snapshot, record_json, snapshot_json

RNG = np.random.default_rng(0)


def round_trip(value: list[Any]) -> tuple[str, list[Any]]:
    array = to_array(value)
    assert array is not None
    [back] = unpack(pack([array]))
    assert back.values.shape == array.values.shape
    return array.kind, to_list(back)


def test_float32_parameters_are_exact_and_packed_as_float32() -> None:
    weights = RNG.normal(0, 0.05, (300, 784)).astype(np.float32)
    kind, back = round_trip(weights.tolist())
    assert kind == "f" and back == weights.tolist()
    assert np.array_equal(np.asarray(back, dtype=np.float32), weights)  # exact to float32
    assert orjson.dumps(back) == orjson.dumps(weights.tolist())


def test_float64_values_that_float32_cannot_hold_stay_exact() -> None:
    values = RNG.normal(size=50).tolist()
    kind, back = round_trip(values)
    assert kind == "d" and back == values


def test_boundary_probabilities_are_milli_units_within_1e_3_of_the_truth() -> None:
    xx, yy = np.meshgrid(np.linspace(-5, 5, 101), np.linspace(-5, 5, 101))
    truth = 1 / (1 + np.exp(-(xx + 0.5 * yy)))  # an independent probability surface
    stored32 = np.round(truth.astype(np.float32), 3)  # what a float32 engine records
    stored64 = np.round(truth, 3)
    for grid, expected_kind in ((stored32, "n"), (stored64, "m")):
        kind, back = round_trip(grid.tolist())
        assert kind == expected_kind and back == grid.tolist()
        assert np.abs(np.asarray(back) - truth).max() <= 1e-3
    frame = pack([to_array(stored32.tolist())])  # type: ignore[list-item]
    assert len(frame) < 2 * 101 * 101 / 3  # smooth: the differences compress


def test_nulls_survive_in_floats_and_milli_grids() -> None:
    grid = [[0.5, None] * 10, [None, 0.25] * 10]
    kind, back = round_trip(grid)
    assert kind == "m" and back == grid
    values = [float(v) for v in RNG.normal(size=20)]
    values[3] = None  # type: ignore[call-overload]
    assert round_trip(values) == ("d", values)
    assert MILLI_NULL == 65535


def test_negative_zero_keeps_its_sign() -> None:
    values = [0.5] * 20 + [-0.0]
    kind, back = round_trip(values)
    assert kind != "m" and orjson.dumps(back) == orjson.dumps(values)


def test_integers_and_booleans_use_the_smallest_type() -> None:
    assert round_trip(list(range(200)))[0] == "B"
    assert round_trip(list(range(0, 70_000, 1000)))[0] == "I"
    assert round_trip([-(2**40)] * 20) == ("q", [-(2**40)] * 20)
    assert round_trip([True, False] * 10) == ("?", [True, False] * 10)


def test_short_ragged_and_text_lists_stay_json() -> None:
    assert to_array([0.5, 0.25]) is None
    assert to_array([[1.0] * 20, [1.0] * 19]) is None
    assert to_array(["a"] * 20) is None
    assert to_array([1.5, "a"] * 10) is None


def test_a_record_and_a_snapshot_read_back_as_the_same_json() -> None:
    record = {
        "iteration": 10, "cost": 0.5, "layers": [
            {"layer": 1, "weights": {"mean": 0.1, "histogram": {"range": [-1.0, 1.0],
                                                                "counts": list(range(30))}}}
        ],
        "boundary": {"x": [-5.0, 5.0], "resolution": 20,
                     "p": np.round(RNG.random((20, 20)), 3).tolist()},
    }  # fmt: skip
    skeleton, frame = pack_record(record)
    assert frame and record_json(skeleton, frame) == orjson.dumps(record)
    weights = RNG.normal(size=(1000, 1500)).astype(np.float32)  # 6 MB: several chunks
    snapshot = {"iteration": 3, "layers": [{"weights": weights.tolist(), "biases": [0.0] * 1000}]}
    *chunks, (name, header) = pack_snapshot(3, snapshot)
    assert name == "3" and len(chunks) > 1 and [c[0] for c in chunks][:2] == ["3.0", "3.1"]
    assert snapshot_json(header, [chunk for _, chunk in chunks]) == orjson.dumps(snapshot)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
values = st.one_of(
    st.lists(finite, min_size=16, max_size=80),
    st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=16, max_size=80),
    st.lists(st.one_of(st.none(), st.integers(0, 1000).map(lambda q: q / 1000)), min_size=16,
             max_size=80),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=16, max_size=80),
    st.lists(st.booleans(), min_size=16, max_size=80),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(values, st.integers(1, 4))
def test_any_packable_list_round_trips_to_the_same_json(value: list[Any], rows: int) -> None:
    usable = len(value) // rows * rows
    grid = np.asarray(value[:usable], dtype=object).reshape(rows, -1).tolist()
    for candidate in (value, grid):
        array = to_array(candidate)
        if array is None:  # stays JSON: nothing to check
            continue
        [back] = unpack(pack([array]))
        assert orjson.dumps(to_list(back)) == orjson.dumps(candidate)
