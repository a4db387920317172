"""The engine's cost of building records: a job run as it is, against the same job with the
records built the way they were before (issue 9, "the classroom's wait").

``baseline`` is ``RecordBuilder`` with the former per-layer loop (``summarize_many`` of a new
concatenation, each layer's ``unit_extremes`` and ``unit_spread`` apart), the former accuracy
(``np.mean`` of the matches) and the former boundary forward pass (examples as rows). Both
engines first run every checked spec and must give the same records, bit for bit (the bench
stops otherwise). Then, in one process with one BLAS thread (the worker's), rounds alternate:

- ``bare``: the training loop alone (forward, backward, update), no record;
- ``baseline`` and ``current``: ``Training(spec).run_with_snapshots()`` consumed.

It prints CPU-time medians, the ratio baseline / current, and each one's record cost (its time
minus bare's).

    .venv/bin/python -m bench.recordcost [--rounds 9] [--preset playground]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from engine.activations import sigmoid
from engine.experiment import ExperimentSpec
from engine.losses import softmax
from engine.network import MLP, Pass
from engine.records import RecordBuilder, plain, predicted_labels
from engine.spec import resolve
from engine.stats import (
    SMALL_ARRAY,
    finite_or_none,
    histogram,
    known_extremes,
    summarize,
    summarize_many,
    unit_extremes,
    unit_spread,
)
from engine.train import Training

# what the bit-for-bit check runs: other activations, float64, a ragged last batch (a second
# plan), a fixed histogram range, the MNIST figure's large arrays and softmax, a diverging run
CHECKED: list[dict[str, Any]] = [
    {"preset": "playground"},
    {"preset": "playground", "init": {"method": "too_large"}, "training": {"iterations": 60}},
    {"preset": "playground", "init": {"method": "zero"}, "training": {"iterations": 30}},
    {"preset": "playground", "model": {"activation": "tanh", "dtype": "float64"},
     "dataset": {"test_fraction": 0.3}, "optimizer": {"name": "adam", "batch_size": 32},
     "training": {"iterations": 50}, "record": {"histograms": {"every": 3}}},
    {"preset": "playground", "model": {"hidden": [5, 4, 3], "activation": "sigmoid"},
     "dataset": {"name": "gauss", "noise": 0.5}, "training": {"iterations": 20},
     "record": {"boundary": {"every": 5}, "histograms": {"bins": 7, "range": [-1, 1]}}},
    {"preset": "nine_layers", "training": {"iterations": 40}},
    {"preset": "mnist", "dataset": {"n_samples": 300, "test_fraction": 0.2},
     "training": {"iterations": 4}, "record": {"histograms": {"every": 2}}},
]  # fmt: skip


class BaselineBuilder(RecordBuilder):
    """The record builder as it was: one layer at a time, np.mean, the row-wise forward."""

    def __init__(self, spec: ExperimentSpec, data: Any, net: MLP) -> None:
        super().__init__(spec, data, net)
        self.layer_stats = self._layers  # type: ignore[assignment]

    def record(self, iteration: int, step: Pass, batch: Any, final: bool = False) -> Any:
        record = super().record(iteration, step, batch, final)
        record["train_accuracy"] = mean_accuracy(step.probs, self.data.y_train[batch])
        return record

    def _layers(self, weights: Any, biases: Any, step: Pass, with_histograms: bool) -> Any:
        hist = self.spec.record.histograms
        layers, stats, small = [], [], []
        for index, (w, b) in enumerate(zip(weights, biases, strict=True)):
            extremes = unit_extremes(w)
            arrays = {"weights": w, "biases": b, "preactivations": step.z[index],
                      "activations": step.a[index], "weight_grads": step.dW[index],
                      "activation_grads": step.da[index]}  # fmt: skip
            layer: dict[str, Any] = {"layer": index + 1, "units": int(w.shape[0])}
            for name, array in arrays.items():
                if 0 < array.size <= SMALL_ARRAY:
                    small.append((layer, name, array))
                    continue
                known = (extremes[0].min(), extremes[1].max()) if name == "weights" else None
                stats.append((layer, name, array, summarize(array, known)))
            layer["unit_spread"] = finite_or_none(unit_spread(w, b, extremes))
            layers.append(layer)
        summaries = summarize_many([array for _, _, array in small])
        stats += [(*item, stat) for item, stat in zip(small, summaries, strict=True)]
        for layer, name, array, stat in stats:
            if with_histograms and name in hist.fields:
                stat["histogram"] = histogram(array, hist.bins, hist.range, known_extremes(stat))
            layer[name] = stat
        keys = ["layer", "units", *arrays, "unit_spread"]
        return [{key: layer[key] for key in keys} for layer in layers]


def mean_accuracy(probs: Any, y: Any) -> float | None:
    if len(y) == 0:
        return None
    with np.errstate(invalid="ignore"):
        return float((predicted_labels(probs) == y).mean())


class RowwiseMLP(MLP):
    """The network with the former forward-only pass: examples as rows, chunks of 4096."""

    def predict_proba(self, x: Any, chunk: int | None = None) -> Any:
        x = np.asarray(x, dtype=self.dtype)
        out = np.empty((x.shape[0], self.weights[-1].shape[0]), dtype=self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, x.shape[0], 4096):
                logits = self._logits(x[start : start + 4096])
                out[start : start + 4096] = sigmoid(logits) if self.binary else softmax(logits)
        return out


class BaselineTraining(Training):
    def __init__(self, spec: ExperimentSpec) -> None:
        super().__init__(spec)
        net = self.net  # the same arrays, which the optimizer updates
        self.net = RowwiseMLP(net.weights, net.biases, net.activation, l2=net.l2)
        self.recorder = BaselineBuilder(spec, self.data, self.net)


def bare(spec: ExperimentSpec) -> None:
    """The loop of ``Training.run_with_snapshots`` without records."""
    run = Training(spec)
    last = spec.training.iterations
    for iteration in range(last + 1):
        batch = run.batches.indices(iteration)
        step = run.net.loss_and_grads(run.data.x_train[batch], run.data.y_train[batch])
        if iteration < last:
            run.optimizer.step(run.net.params(), run.net.grads(step))


def check_same_records() -> int:
    """Runs every checked spec both ways; returns how many records matched exactly."""
    count = 0
    for body in CHECKED:
        spec = resolve(body)
        current, baseline = Training(spec), BaselineTraining(spec)
        pairs = zip(current.run_with_snapshots(), baseline.run_with_snapshots(), strict=True)
        for new, old in pairs:
            if repr(plain(new.record)) != repr(plain(old.record)):
                sys.exit(f"records differ: {body} at iteration {new.record['iteration']}")
            count += 1
    return count


def cpu_seconds(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--preset", default="playground")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench.recordcost  {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"load average {load}, preset {args.preset}, 1 BLAS thread")  # fmt: skip
    with threadpool_limits(1):
        print(f"same records, bit for bit: {check_same_records()} records of {len(CHECKED)} specs")
        spec = resolve({"preset": args.preset})
        contenders: dict[str, Callable[[], object]] = {
            "bare": lambda: bare(spec),
            "baseline": lambda: list(BaselineTraining(spec).run_with_snapshots()),
            "current": lambda: list(Training(spec).run_with_snapshots()),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for call in contenders.values():
            call()  # warm up
        for r in range(args.rounds):
            order = list(contenders.items())
            for name, call in order if r % 2 == 0 else order[::-1]:
                times[name].append(cpu_seconds(call))
    ms = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    print(f"CPU medians of {args.rounds} alternated rounds: "
          + ", ".join(f"{name} {value:.1f} ms" for name, value in ms.items()))  # fmt: skip
    records = {name: ms[name] - ms["bare"] for name in ("baseline", "current")}
    print(f"  job:      baseline / current            {ms['baseline'] / ms['current']:5.2f} x")
    print(f"  records:  baseline {records['baseline']:.1f} ms, current {records['current']:.1f} "
          f"ms: {records['baseline'] / records['current']:.2f} x")  # fmt: skip
    print(f"  current job / bare training             {ms['current'] / ms['bare']:5.2f} x")
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
