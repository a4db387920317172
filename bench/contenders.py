"""The contenders of bench/engine.py: one training step of the MNIST figure each, from the
same initial weights (the engine, the engine with its full record, bare NumPy, PyTorch), and a
check that they compute the same first step.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.experiment import ExperimentSpec
from engine.records import RecordBuilder
from engine.stats import histogram
from engine.train import Training

Array = NDArray[np.float32]
Step = Callable[[int], None]
LEARNING_RATE = 0.1  # the preset's, asserted in main


@dataclass
class Contender:
    name: str
    step: Step = lambda i: None
    per_round: list[float] = field(default_factory=list)  # steps/s of each timed round
    # engine+record only: seconds per iteration in the record, and in the histograms alone
    record_s: list[float] = field(default_factory=list)
    histogram_s: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.per_round)

    def spread(self) -> str:
        if len(self.per_round) < 2:
            return "one round"
        q = statistics.quantiles(self.per_round, n=4)
        return f"p25 {q[0]:5.0f}, p75 {q[2]:5.0f}"


def engine_step(training: Training) -> Step:
    """Training.run's iteration minus the record: batch, loss_and_grads, check, update."""
    net, optimizer, batches, data = (
        training.net,
        training.optimizer,
        training.batches,
        training.data,
    )

    def step(i: int) -> None:
        batch = batches.indices(i)
        p = net.loss_and_grads(data.x_train[batch], data.y_train[batch])
        if not math.isfinite(p.cost):
            raise RuntimeError(f"engine diverged at step {i}")
        optimizer.step(net.params(), net.grads(p))

    return step


def engine_record_step(training: Training, contender: Contender) -> Step:
    """The engine step and the figure's record of the iteration (timed apart), as in run()."""
    net, optimizer, batches, data = (
        training.net,
        training.optimizer,
        training.batches,
        training.data,
    )
    recorder: RecordBuilder = training.recorder
    hist = training.spec.record.histograms
    # iterations 1..last-1: a typical record (iteration 0 and the last also take a snapshot)
    middle = recorder.last - 1
    clock = time.perf_counter

    def step(i: int) -> None:
        batch = batches.indices(i)
        p = net.loss_and_grads(data.x_train[batch], data.y_train[batch])
        if not math.isfinite(p.cost):
            raise RuntimeError(f"engine diverged at step {i}")
        t0 = clock()
        recorder.record(1 + i % middle, p, batch)
        t1 = clock()
        for a in p.a[:-1]:  # the figure itself: every hidden layer's activation histogram
            histogram(a, hist.bins, hist.range)
        t2 = clock()
        optimizer.step(net.params(), net.grads(p))
        contender.record_s.append(t1 - t0)
        contender.histogram_s.append(t2 - t1)

    return step


def bare_loss_and_update(
    weights: list[Array], biases: list[Array], x: Array, y: NDArray[np.int64], lr: float
) -> float:
    """One SGD step of a tanh MLP with softmax cross-entropy, in place; returns the cost."""
    n = x.shape[0]
    rows = np.arange(n)
    acts = [x]
    h = x
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        h = h @ W.T
        h += b
        np.tanh(h, out=h)
        acts.append(h)
    d = h @ weights[-1].T
    d += biases[-1]
    d -= d.max(axis=1, keepdims=True)
    picked = d[rows, y]
    np.exp(d, out=d)
    sums = d.sum(axis=1)
    cost = float(np.mean(np.log(sums) - picked))
    d /= sums[:, None]  # probs, then dCost/dlogits
    d[rows, y] -= 1
    d /= n
    for i in range(len(weights) - 1, -1, -1):
        a = acts[i]
        dW = d.T @ a
        db = d.sum(axis=0)
        if i:  # dCost/dz of the layer below, through this layer's weights before their update
            da = d @ weights[i]
            np.multiply(a, a, out=a)
            np.subtract(1, a, out=a)
            da *= a
            d = da
        dW *= lr
        weights[i] -= dW
        db *= lr
        biases[i] -= db
    return cost


def bare_step(weights: list[Array], biases: list[Array], xs: list[Array], ys: list[Any]) -> Step:
    def step(i: int) -> None:
        k = i % len(xs)
        if not math.isfinite(bare_loss_and_update(weights, biases, xs[k], ys[k], LEARNING_RATE)):
            raise RuntimeError(f"bare NumPy diverged at step {i}")

    return step


def torch_model(torch: Any, weights: list[Array], biases: list[Array]) -> Any:
    """nn.Sequential of Linear and Tanh holding copies of the given weights."""
    layers: list[Any] = []
    for W, b in zip(weights, biases, strict=True):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def torch_step(torch: Any, model: Any, xs: list[Any], ys: list[Any]) -> Step:
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i: int) -> None:
        k = i % len(xs)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[k]), ys[k])
        loss.backward()
        optimizer.step()
        if not math.isfinite(loss.item()):  # the engine checks its cost every step too
            raise RuntimeError(f"torch diverged at step {i}")

    return step


def check_same_maths(training: Training, torch: Any | None) -> str:
    """First-step cost and updated first-layer weights of each contender, from one start."""
    x, y = training.data.x_train[:100], training.data.y_train[:100]
    ws = [w.copy() for w in training.net.weights]
    bs = [b.copy() for b in training.net.biases]
    p = training.net.loss_and_grads(x, y)
    engine_w1 = ws[0] - np.float32(LEARNING_RATE) * p.dW[0]
    bare_cost = bare_loss_and_update(ws, bs, x, y, LEARNING_RATE)  # updates ws, bs
    costs = f"engine {p.cost:.6f}, bare {bare_cost:.6f}"
    diffs = [float(np.abs(ws[0] - engine_w1).max())]
    if torch is not None:
        model = torch_model(torch, training.net.weights, training.net.biases)
        with torch.no_grad():
            torch_cost = torch.nn.functional.cross_entropy(
                model(torch.from_numpy(x)), torch.from_numpy(y)
            )
        torch_step(torch, model, [torch.from_numpy(x)], [torch.from_numpy(y)])(0)
        costs += f", torch {float(torch_cost):.6f}"
        diffs.append(float(np.abs(model[0].weight.detach().numpy() - engine_w1).max()))
    return f"check, step 1 from the same weights: cost {costs}; W1 after it within {max(diffs):.0e}"


def contenders_for(spec: ExperimentSpec, torch: Any | None) -> list[Contender]:
    """Fresh contenders, each with its own copy of the preset's initial network."""
    engine = Training(spec)
    data, size = engine.data, spec.batch_size
    xs = [data.x_train[k : k + size] for k in range(0, len(data.y_train), size)]
    ys = [data.y_train[k : k + size] for k in range(0, len(data.y_train), size)]
    weights, biases = engine.net.weights, engine.net.biases
    contenders = [
        Contender("engine", engine_step(engine)),
        Contender("bare numpy", bare_step([w.copy() for w in weights],
                                          [b.copy() for b in biases], xs, ys)),
    ]  # fmt: skip
    if torch is not None:
        model = torch_model(torch, weights, biases)
        txs, tys = [torch.from_numpy(x) for x in xs], [torch.from_numpy(y) for y in ys]
        contenders.append(Contender("torch", torch_step(torch, model, txs, tys)))
    recorded = Contender("engine+record")
    recorded.step = engine_record_step(Training(spec), recorded)
    contenders.append(recorded)
    return contenders
