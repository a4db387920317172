"""Accuracies at their edges: one-sample batches and test splits, a network that outputs
exactly 1/2 everywhere, and test accuracy when histograms are off. Expected values come from
the data and test_record_truth's own forward pass, not from engine.records."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_record_truth import NOISY, accuracy, params, run


def test_a_batch_of_one_has_an_accuracy_of_zero_or_one() -> None:
    _, data, records, _ = run({
        **NOISY, "optimizer": {"name": "sgd", "batch_size": 1},
        "training": {"iterations": 6}, "record": {"parameters": {"every": 1}},
    })  # fmt: skip
    for record in records:
        t = record["iteration"]  # batches of one, in order
        row = slice(t, t + 1)
        expected = accuracy(params(record), "tanh", data.x_train[row], data.y_train[row])
        assert record["train_accuracy"] == expected
    assert {r["train_accuracy"] for r in records} <= {0.0, 1.0}


def test_a_test_split_of_one_point_has_an_accuracy() -> None:
    spec_request = {**NOISY, "dataset": {"name": "moon", "n_samples": 20, "test_fraction": 0.05}}
    _, data, records, summary = run({**spec_request, "training": {"iterations": 2}})
    assert len(data.y_test) == 1
    last = records[-1]
    expected = accuracy(params(last), "tanh", data.x_test, data.y_test)
    assert last["test_accuracy"] == expected and summary["test_accuracy"] == expected


def test_a_tie_at_one_half_predicts_class_zero_for_every_point() -> None:
    """Zero init outputs exactly 1/2 for every input: one tie rule for all points, so the
    accuracy is one class's share; `p > 1/2` means class 1, so a tie is class 0."""
    _, data, records, _ = run({
        "dataset": {"name": "moon", "n_samples": 41, "test_fraction": 0.0},
        "model": {"hidden": [4], "dtype": "float64"},
        "init": {"method": "zero"}, "training": {"iterations": 0},
    })  # fmt: skip
    share_of_zeros = float(np.mean(data.y_train == 0))
    assert share_of_zeros != 0.5  # 41 points: the classes cannot be equal
    assert records[0]["train_accuracy"] == pytest.approx(share_of_zeros)


def test_with_histograms_off_test_accuracy_follows_the_record_interval() -> None:
    _, _, records, _ = run({
        **NOISY, "training": {"iterations": 4},
        "record": {"histograms": {"every": 0}, "boundary": {"every": 0}},
    })  # fmt: skip
    assert all(r["test_accuracy"] is not None for r in records)
