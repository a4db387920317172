"""The training loop: a generator of per-iteration records and parameter snapshots.

Iteration t is the network after t updates. Its record (README "Record") describes the
forward and backward pass on the batch that update t + 1 uses, so iteration 0 is the
network as initialized. ``run_with_snapshots`` yields each recorded iteration as a
``Recorded(record, snapshot)`` pair whose bulky parts are NumPy arrays (for the worker to pack
as binary); ``run`` yields the records alone, JSON-safe (``plain``), as clients read them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.activations import activation_forward
from engine.batches import Batches
from engine.datasets import Data, dataset_payload, load_dataset
from engine.experiment import ExperimentSpec
from engine.init import init_parameters
from engine.network import MLP
from engine.optim import build_optimizer
from engine.records import Record, RecordBuilder, Recorded, due, plain, predicted_labels


class Training:
    """One run of an experiment spec: data, network, optimizer and the record loop."""

    def __init__(self, spec: ExperimentSpec, *, mnist_dir: str | None = None) -> None:
        self.spec = spec
        self.dtype = np.dtype(spec.model.dtype)
        self.data: Data = load_dataset(spec.dataset, dtype=self.dtype, mnist_dir=mnist_dir)
        batch = spec.batch_size
        self.batches = Batches(
            len(self.data.y_train), batch, spec.optimizer.shuffle,
            np.random.default_rng(spec.training.seed),
        )  # fmt: skip
        weights, biases = init_parameters(
            spec.init,
            spec.sizes,
            np.random.default_rng(spec.init.seed),
            dtype=self.dtype,
            activation=lambda z: activation_forward(spec.model.activation, z)[0],
            x=self.data.x_train[:batch],
        )
        self.net = MLP(weights, biases, spec.model.activation, l2=spec.model.l2)
        self.optimizer = build_optimizer(spec.optimizer)
        self.recorder = RecordBuilder(spec, self.data, self.net)
        self.summary: dict[str, Any] | None = None

    def run(self, should_stop: Callable[[], bool] | None = None) -> Iterator[Record]:
        """Train, yielding one JSON-safe record per recorded iteration; sets ``self.summary``
        at the end."""
        for recorded in self.run_with_snapshots(should_stop):
            yield plain(recorded.record)

    def run_with_snapshots(
        self, should_stop: Callable[[], bool] | None = None
    ) -> Iterator[Recorded]:
        """Train, yielding (record, snapshot or None) per recorded iteration; sets
        ``self.summary`` at the end. ``should_stop`` is asked at most once per iteration."""
        last = self.spec.training.iterations
        every = self.spec.record.every
        diverged_at: int | None = None
        stopped = False
        iteration = 0
        for iteration in range(last + 1):
            batch = self.batches.indices(iteration)
            step = self.net.loss_and_grads(self.data.x_train[batch], self.data.y_train[batch])
            diverged = not math.isfinite(step.cost)
            # a stop ends the run at this iteration: its record is the last, kept in full
            # (snapshot, histograms, boundary) whether or not it was due anyway
            stopped = not diverged and iteration < last and bool(should_stop and should_stop())
            if diverged or stopped or due(iteration, every, iteration == last):
                final = diverged or stopped
                record = self.recorder.record(iteration, step, batch, final=final)
                yield Recorded(record, self.recorder.snapshot(iteration, final=final))
            if diverged:
                diverged_at = iteration
                break
            if stopped or iteration == last:
                break
            self.optimizer.step(self.net.params(), self.net.grads(step))
        self.summary = self._summary(iteration, diverged_at, stopped)

    def records(self, should_stop: Callable[[], bool] | None = None) -> list[Record]:
        """All records of a run as a list (for tests)."""
        return list(self.run(should_stop))

    def _summary(self, iteration: int, diverged_at: int | None, stopped: bool) -> dict[str, Any]:
        diverged = diverged_at is not None
        cost, train_accuracy, test_accuracy = None, None, None
        if not diverged:  # a network with non-finite weights has no meaningful accuracy
            cost, train_accuracy = self.evaluate(self.data.x_train, self.data.y_train)
            test_accuracy = self.test_accuracy()
        return {
            "final_cost": cost if cost is not None and math.isfinite(cost) else None,
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
            "diverged": diverged,
            "diverged_at": diverged_at,
            "iterations_run": iteration,
            "stopped": stopped,
        }

    def evaluate(self, x: NDArray[Any], y: NDArray[Any], chunk: int = 2000) -> tuple[float, float]:
        """Cost and accuracy over a whole split, in chunks to bound memory."""
        cost, correct = 0.0, 0
        for start in range(0, len(y), chunk):
            labels = y[start : start + chunk]
            part_cost, probs = self.net.cost_and_probs(x[start : start + chunk], labels)
            cost += part_cost * len(probs)
            correct += int((predicted_labels(probs) == labels).sum())
        return cost / len(y), correct / len(y)

    def test_accuracy(self) -> float | None:
        return self.recorder.test_accuracy()

    def dataset_payload(self) -> dict[str, Any] | None:
        """The exact points trained and tested on (2D datasets only)."""
        return dataset_payload(self.data)


__all__ = ["Record", "Recorded", "Training"]
