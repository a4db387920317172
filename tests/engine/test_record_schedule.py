"""Which record carries what: periodic items every k-th iteration and always on the last one
(README "Records"), the boundary only for 2D data and predictions only for images. A last
iteration that is not a multiple of k shows whether "the last" is honoured."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_record_truth import NOISY, accuracy, labels, params, run

ITERATIONS, EVERY = 7, 5
DUE = [0, 5, 7]  # multiples of EVERY, and the last iteration


def test_the_last_record_carries_every_periodic_item_and_a_true_test_accuracy() -> None:
    _, data, records, _ = run({
        **NOISY, "training": {"iterations": ITERATIONS},
        "record": {"histograms": {"every": EVERY}, "boundary": {"every": EVERY, "resolution": 5}},
    })  # fmt: skip
    assert [r["iteration"] for r in records] == list(range(ITERATIONS + 1))
    with_test = [r["iteration"] for r in records if r["test_accuracy"] is not None]
    with_boundary = [r["iteration"] for r in records if "boundary" in r]
    with_histogram = [r["iteration"] for r in records if "histogram" in r["layers"][0]["weights"]]
    assert with_test == with_boundary == with_histogram == DUE
    last = records[-1]  # the last record always has its parameter snapshot
    expected = accuracy(params(last), "tanh", data.x_test, data.y_test)
    assert last["test_accuracy"] == pytest.approx(expected)
    assert not any("predictions" in r for r in records), "predictions are for images only"


def test_image_predictions_are_due_every_k_and_on_the_last_iteration() -> None:
    count, batch = 20, 50
    _, data, records, _ = run({
        "dataset": {"name": "mnist", "n_samples": 200},
        "model": {"hidden": [16], "activation": "relu", "dtype": "float64"},
        "init": {"method": "he_normal", "seed": 2},
        "optimizer": {"name": "sgd", "batch_size": batch},
        "training": {"iterations": ITERATIONS},
        "record": {"predictions": {"every": EVERY, "count": count}},
    })  # fmt: skip
    assert [r["iteration"] for r in records if "predictions" in r] == DUE
    assert not any("boundary" in r for r in records), "the boundary is for 2D data only"
    last = records[-1]
    rows = np.arange(batch * (ITERATIONS % 4), batch * (ITERATIONS % 4) + count)  # 4 batches
    assert last["predictions"]["labels"] == data.y_train[rows].tolist()
    predicted = labels(params(last), "relu", data.x_train[rows])
    assert last["predictions"]["predicted"] == predicted.tolist()


@pytest.mark.parametrize(("every", "kept"), [(0, [0, 7]), (3, [0, 3, 6, 7]), (1, list(range(8)))])
def test_parameter_snapshots_are_kept_at_zero_every_k_and_the_last(every: int, kept) -> None:
    _, _, records, _ = run({
        **NOISY, "training": {"iterations": ITERATIONS},
        "record": {"parameters": {"every": every}, "boundary": {"every": 0}},
    })  # fmt: skip
    assert [r["iteration"] for r in records if "parameters" in r] == kept


def test_layers_are_numbered_from_one_with_their_unit_counts() -> None:
    _, _, records, _ = run({**NOISY, "training": {"iterations": 1}})
    for record in records:  # NOISY is 2-8-4-1
        assert [layer["layer"] for layer in record["layers"]] == [1, 2, 3]
        assert [layer["units"] for layer in record["layers"]] == [8, 4, 1]
