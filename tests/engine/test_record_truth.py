"""Record contents against values computed here, from the parameters and the data alone.

Each test runs a tiny spec, takes the network's parameters from the run's own snapshots
(``record.parameters.every`` 1 keeps one in every record) and the data from the dataset
loader, and recomputes what the record claims with a NumPy forward pass of this file's own:
``epoch``, ``train_accuracy`` (the batch), ``test_accuracy`` (the test split), the boundary's
``p`` at known grid points, ``diverged_at``, ``unit_spread`` and the image ``predictions``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from engine.datasets import Data, load_dataset
from engine.experiment import ExperimentSpec
from engine.records import plain
from engine.spec import resolve
from engine.stats import unit_spread
from engine.train import Training

Array = NDArray[np.float64]
Params = list[tuple[Array, Array]]


def run(request: dict[str, Any]) -> tuple[ExperimentSpec, Data, list[dict[str, Any]], dict]:
    """Spec, data (float64, from the loader), records (each with its parameter snapshot, where
    the run keeps one, under "parameters") and summary of a run."""
    spec = resolve(request)
    training = Training(spec)
    records = []
    for record, snapshot in training.run_with_snapshots():  # as clients read them: plain
        records.append(plain({**record, "parameters": snapshot} if snapshot else record))
    assert training.summary is not None
    return spec, load_dataset(spec.dataset, dtype=np.float64), records, training.summary


def params(record: dict[str, Any]) -> Params:
    snapshot = record["parameters"]
    assert snapshot["iteration"] == record["iteration"]
    return [(np.array(layer["weights"], dtype=float), np.array(layer["biases"], dtype=float))
            for layer in snapshot["layers"]]  # fmt: skip


def hidden(name: str, z: Array) -> Array:
    return {"relu": lambda: np.maximum(z, 0.0), "tanh": lambda: np.tanh(z),
            "linear": lambda: z}[name]()  # fmt: skip


def logits(p: Params, activation: str, x: Array) -> Array:
    h = x
    for w, b in p[:-1]:
        h = hidden(activation, h @ w.T + b)
    w, b = p[-1]
    return h @ w.T + b


def probabilities(p: Params, activation: str, x: Array) -> Array:
    """(N,) P(class 1) for one output unit, else (N, C) softmax."""
    out = logits(p, activation, x)
    if out.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-out[:, 0]))
    e = np.exp(out - out.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def labels(p: Params, activation: str, x: Array) -> NDArray[np.intp]:
    probs = probabilities(p, activation, x)
    return (probs > 0.5).astype(np.intp) if probs.ndim == 1 else probs.argmax(axis=1)


def accuracy(p: Params, activation: str, x: Array, y: NDArray[Any]) -> float:
    return float(np.mean(labels(p, activation, x) == y))


# a noisy moon with a test split: train and test accuracy differ, so a swap shows
NOISY = {"dataset": {"name": "moon", "n_samples": 100, "noise": 1.0, "test_fraction": 0.3},
         "model": {"hidden": [8, 4], "activation": "tanh", "dtype": "float64"},
         "init": {"method": "he_normal", "seed": 3}}  # fmt: skip


@pytest.mark.parametrize(("batch", "per_epoch"), [(10, 7), (30, 3), (None, 1)])
def test_epoch_is_passes_over_the_training_set(batch: int | None, per_epoch: int) -> None:
    optimizer = {"name": "gd"} if batch is None else {"name": "sgd", "batch_size": batch}
    spec, data, records, _ = run({**NOISY, "optimizer": optimizer,
                                  "training": {"iterations": 12}})  # fmt: skip
    assert len(data.y_train) == 70  # 100 points, 30 % held out
    assert per_epoch == math.ceil(len(data.y_train) / spec.batch_size)
    assert [r["epoch"] for r in records] == [pytest.approx(t / per_epoch) for t in range(13)]


def test_accuracies_are_the_batchs_and_the_test_splits() -> None:
    """train_accuracy on the batch the update uses, test_accuracy on the whole test split."""
    _, data, records, summary = run({**NOISY, "optimizer": {"name": "sgd", "batch_size": 20},
                                     "training": {"iterations": 9},
                                     "record": {"parameters": {"every": 1},
                                                "histograms": {"every": 1}}})  # fmt: skip
    act = "tanh"
    differ = 0
    for record in records:
        p, t = params(record), record["iteration"]
        k = t % 4  # ceil(70 / 20) batches per epoch, in order
        batch = slice(20 * k, min(20 * (k + 1), 70))
        expected_train = accuracy(p, act, data.x_train[batch], data.y_train[batch])
        assert record["train_accuracy"] == pytest.approx(expected_train)
        expected_test = accuracy(p, act, data.x_test, data.y_test)
        assert record["test_accuracy"] == pytest.approx(expected_test)
        differ += expected_test != accuracy(p, act, data.x_train, data.y_train)
    assert differ >= len(records) // 2  # the splits disagree: a swap cannot pass
    last = params(records[-1])
    assert summary["test_accuracy"] == pytest.approx(accuracy(last, act, data.x_test, data.y_test))
    assert summary["train_accuracy"] == pytest.approx(
        accuracy(last, act, data.x_train, data.y_train)
    )


def test_boundary_p_at_known_grid_points_fixes_its_orientation() -> None:
    """p[i][j] is P(class 1) at x = axis[j], y = axis[i], axis = linspace over the extent."""
    resolution, extent = 7, (-4.0, 6.0)  # an extent not symmetric about 0 pins both axes
    _, _, records, _ = run({**NOISY, "training": {"iterations": 3},
                            "record": {"boundary": {"resolution": resolution, "every": 1,
                                                    "extent": list(extent)}}})  # fmt: skip
    record = records[0]
    boundary = record["boundary"]
    p = np.array(boundary["p"], dtype=float)
    assert p.shape == (resolution, resolution)
    assert boundary["x"] == boundary["y"] == list(extent)
    axis = np.linspace(*extent, resolution)
    net = params(record)
    for i, j in [(0, 0), (0, resolution - 1), (resolution - 1, 0), (2, 5), (5, 2), (3, 3)]:
        expected = probabilities(net, "tanh", np.array([[axis[j], axis[i]]]))[0]
        assert p[i, j] == pytest.approx(expected, abs=6e-4), (i, j)
    grid = np.array([[probabilities(net, "tanh", np.array([[x, y]]))[0] for x in axis]
                     for y in axis])  # fmt: skip
    assert np.abs(grid - p).max() <= 6e-4
    assert np.abs(grid.T - p).max() > 0.05  # the grid is not symmetric: a transpose would show


def test_diverged_at_is_the_first_iteration_with_a_non_finite_cost() -> None:
    _, data, records, summary = run({
        "dataset": {"name": "circle", "n_samples": 40},
        "init": {"method": "standard_normal"},
        "model": {"hidden": [16] * 4, "activation": "linear", "dtype": "float64"},
        "optimizer": {"learning_rate": 20.0}, "training": {"iterations": 200},
        "record": {"parameters": {"every": 1}, "boundary": {"every": 0}},
    })  # fmt: skip

    def cost(p: Params) -> float:  # mean binary cross-entropy from the logits
        with np.errstate(over="ignore", invalid="ignore"):
            z = logits(p, "linear", data.x_train)[:, 0]
            y = data.y_train
            return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))

    costs = [cost(params(r)) for r in records]
    first = next(i for i, c in enumerate(costs) if not math.isfinite(c))
    assert [r["iteration"] for r in records] == list(range(first + 1))
    assert 0 < first < 200
    assert summary["diverged"] is True and summary["diverged_at"] == first
    assert records[first]["cost"] is None
    assert records[first - 1]["cost"] == pytest.approx(costs[first - 1], rel=1e-9)


@pytest.mark.parametrize("method", ["he_normal", "constant", "zero"])
def test_unit_spread_is_the_largest_gap_between_units(method: str) -> None:
    _, _, records, _ = run({**NOISY, "init": {"method": method, "value": 0.3, "bias": 0.1,
                                              "seed": 1},
                            "optimizer": {"name": "sgd", "batch_size": 20},
                            "training": {"iterations": 5},
                            "record": {"parameters": {"every": 1}}})  # fmt: skip
    for record in records:
        for layer, (w, b) in zip(record["layers"], params(record), strict=True):
            gap = max(np.ptp(w, axis=0).max(), np.ptp(b)) if w.shape[0] > 1 else 0.0
            assert layer["unit_spread"] == pytest.approx(gap, rel=1e-12, abs=0.0)
    if method == "he_normal":
        assert records[0]["layers"][0]["unit_spread"] > 0.1


def test_image_predictions_are_the_batchs_labels_and_argmax() -> None:
    count = 30
    spec, data, records, _ = run({
        "dataset": {"name": "mnist", "n_samples": 200},
        "model": {"hidden": [16], "activation": "relu", "dtype": "float64"},
        "init": {"method": "he_normal", "seed": 2},
        "optimizer": {"name": "sgd", "batch_size": 50, "learning_rate": 0.5},
        "training": {"iterations": 6},
        "record": {"parameters": {"every": 1}, "predictions": {"every": 1, "count": count}},
    })  # fmt: skip
    wrong_somewhere = right_somewhere = False
    for record in records:
        k = record["iteration"] % 4
        rows = np.arange(50 * k, 50 * k + count)
        predicted = labels(params(record), "relu", data.x_train[rows])
        pred = record["predictions"]
        assert pred["indices"] == rows.tolist()  # MNIST test images in order
        assert pred["labels"] == data.y_train[rows].tolist()
        assert pred["predicted"] == predicted.tolist()
        assert pred["correct"] == (predicted == data.y_train[rows]).tolist()
        wrong_somewhere |= not all(pred["correct"])
        right_somewhere |= any(pred["correct"])
    assert wrong_somewhere and right_somewhere
    assert spec.dataset.split == "test"


@pytest.mark.parametrize("seed", range(4))
def test_unit_spread_counts_biases_as_well_as_weights(seed: int) -> None:
    """Units with equal weights but different biases are not the same unit."""
    rng = np.random.default_rng(seed)
    w = np.repeat(rng.normal(size=(1, 5)), 4, axis=0) + rng.normal(0, 1e-3, (4, 5))
    b = rng.normal(size=4)
    assert unit_spread(w, b) == pytest.approx(max(np.ptp(w, axis=0).max(), np.ptp(b)))
    assert unit_spread(w, b) == pytest.approx(np.ptp(b))  # the biases are the wider gap
    assert unit_spread(w[:1], b[:1]) == 0.0
