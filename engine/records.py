"""Turning one training step into a record (README "Records"), and the parameter snapshots
kept beside the records (iteration 0, the last, and every ``parameters.every``).

The bulky parts (boundary grids, image predictions, snapshot weights) stay NumPy arrays: the
worker packs them as binary (store/packing.py) without a detour through Python lists, which
cost more than packing itself. :func:`plain` gives the JSON-safe form (lists, ``None`` for
non-finite numbers) that clients read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from engine.batches import batches_per_epoch
from engine.datasets import Data
from engine.experiment import ExperimentSpec
from engine.layer_stats import LayerStatistics
from engine.network import MLP, Pass
from engine.signal_record import SignalRecorder
from engine.stats import finite_or_none, json_array

Record = dict[str, Any]
# {"iteration": t, "layers": [{"weights": (n[l], n[l-1]) array, "biases": (n[l],) array}]}
Snapshot = dict[str, Any]


class Recorded(NamedTuple):
    """One recorded iteration: its record and, on an iteration that keeps one, a snapshot."""

    record: Record
    snapshot: Snapshot | None


# decision-boundary probabilities to 3 decimals: plenty for a heatmap, a third of the bytes
BOUNDARY_DECIMALS = 3


def due(iteration: int, every: int, final: bool) -> bool:
    """Whether a periodic item is recorded: every k-th iteration (0: never) and the final one."""
    return every > 0 and (final or iteration % every == 0)


class RecordBuilder:
    """Builds the record of an iteration from the step's ``Pass`` and the network."""

    def __init__(self, spec: ExperimentSpec, data: Data, net: MLP) -> None:
        self.spec, self.data, self.net = spec, data, net
        self.last = spec.training.iterations
        self.batches_per_epoch = batches_per_epoch(len(data.y_train), spec.batch_size)
        self.grid = self._grid() if data.kind == "2d" else None
        self.layer_stats = LayerStatistics(spec.record.histograms)
        self.signal = SignalRecorder(spec, data.x_train) if spec.record.signal.every else None

    def record(
        self, iteration: int, step: Pass, batch: NDArray[np.intp] | slice, final: bool = False
    ) -> Record:
        """The record of ``iteration``; ``final`` marks the last one (everything due is kept)."""
        final = final or iteration == self.last
        rec = self.spec.record
        record: dict[str, Any] = {
            "iteration": iteration,
            "epoch": iteration / self.batches_per_epoch,
            "cost": finite_or_none(step.cost),
            "train_accuracy": accuracy(step.probs, self.data.y_train[batch]),
            "test_accuracy": self._test_accuracy(iteration, final),
            "layers": self.layer_stats(
                self.net.weights, self.net.biases, step, due(iteration, rec.histograms.every, final)
            ),
        }
        if self.grid is not None and due(iteration, rec.boundary.every, final):
            record["boundary"] = self._boundary()
        if self.data.kind == "image" and due(iteration, rec.predictions.every, final):
            record["predictions"] = self._predictions(step, batch)
        if self.signal is not None and due(iteration, rec.signal.every, final):
            record["signal"] = self.signal.measure(self.net.weights, self.net.biases)
        return record

    def snapshot(self, iteration: int, final: bool = False) -> Snapshot | None:
        """The parameters at ``iteration`` if a snapshot is kept there: at 0, at the final
        iteration (``final`` or the last) and every ``record.parameters.every``; else None."""
        final = final or iteration == self.last
        if iteration == 0 or final or due(iteration, self.spec.record.parameters.every, False):
            return self.parameters(iteration)
        return None

    def parameters(self, iteration: int) -> Snapshot:
        """Weights (n[l], n[l-1]) and biases (n[l],) of every layer: copies, since training
        updates the network in place while the worker packs the snapshot."""
        layers = [
            {"weights": w.copy(), "biases": b.copy()}
            for w, b in zip(self.net.weights, self.net.biases, strict=True)
        ]
        return {"iteration": iteration, "layers": layers}

    def _test_accuracy(self, iteration: int, final: bool) -> float | None:
        every = self.spec.record.histograms.every or self.spec.record.every
        return self.test_accuracy() if due(iteration, every, final) else None

    def test_accuracy(self) -> float | None:
        """The network's accuracy on the test split; None when there is none."""
        if len(self.data.y_test) == 0:
            return None
        return accuracy(self.net.predict_proba(self.data.x_test), self.data.y_test)

    def _grid(self) -> NDArray[np.floating[Any]]:
        spec = self.spec.record.boundary
        axis = np.linspace(spec.extent[0], spec.extent[1], spec.resolution)
        xx, yy = np.meshgrid(axis, axis)  # row i is y = axis[i], column j is x = axis[j]
        return np.column_stack([xx.ravel(), yy.ravel()]).astype(self.net.weights[0].dtype)

    def _boundary(self) -> dict[str, Any]:
        assert self.grid is not None
        spec = self.spec.record.boundary
        probs = self.net.predict_proba(self.grid)
        shape = (spec.resolution, spec.resolution)
        boundary: dict[str, Any] = {
            "x": list(spec.extent),
            "y": list(spec.extent),
            "resolution": spec.resolution,
        }
        # p is P(class 1) at each grid point, or else the winning class's probability
        p = probs[:, 0] if probs.shape[1] == 1 else probs.max(axis=1)
        with np.errstate(invalid="ignore", over="ignore"):
            boundary["p"] = np.round(p.reshape(shape), BOUNDARY_DECIMALS)
        if probs.shape[1] > 1:  # and label the class
            boundary["label"] = probs.argmax(axis=1).reshape(shape)
        return boundary

    def _predictions(self, step: Pass, batch: NDArray[np.intp] | slice) -> dict[str, Any]:
        count = self.spec.record.predictions.count
        labels = self.data.y_train[batch][:count]
        with np.errstate(invalid="ignore"):
            predicted = predicted_labels(step.probs[:count])
        return {
            "indices": self.data.source_index_train[batch][:count],
            "labels": labels,
            "predicted": predicted,
            "correct": predicted == labels,
        }


def plain(value: Any) -> Any:
    """``value`` (a record, a snapshot or a part of one) with every array as JSON-safe lists."""
    if isinstance(value, np.ndarray):
        return json_array(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def predicted_labels(probs: NDArray[np.floating[Any]]) -> NDArray[np.intp]:
    """Class predictions from (N, 1) sigmoid or (N, C) softmax probabilities."""
    if probs.shape[1] == 1:
        return (probs[:, 0] > 0.5).astype(np.intp)
    return probs.argmax(axis=1)


def accuracy(probs: NDArray[np.floating[Any]], y: NDArray[np.integer[Any]]) -> float | None:
    if len(y) == 0:
        return None
    with np.errstate(invalid="ignore"):
        # the count over the length, exactly the mean of the matches (np.mean's calls cost more)
        return int(np.count_nonzero(predicted_labels(probs) == y)) / len(y)
