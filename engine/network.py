"""The multilayer perceptron: affine layers, a hidden activation, a sigmoid or softmax output.

Layer l (1..L) has weights W[l] shaped (n[l], n[l-1]), as in the article, and biases
b[l] shaped (n[l],), so z[l] = a[l-1] @ W[l].T + b[l]. One ``loss_and_grads`` call keeps
every array the records need (pre-activations, activations and their gradients) in a
``Pass``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engine.activations import ACTIVATIONS, activation_backward, activation_forward, sigmoid
from engine.losses import sigmoid_cross_entropy, softmax, softmax_cross_entropy

Array = NDArray[np.floating[Any]]
Labels = NDArray[np.integer[Any]]

# rows per forward chunk in predict_proba: a 201x201 grid or all of MNIST's test set in a
# few chunks, each chunk's widest activation a few MB at most; a narrow net takes more rows
# at once, up to PREDICT_ELEMENTS numbers in its widest layer (the playground's whole grid)
PREDICT_CHUNK = 4096
PREDICT_ELEMENTS = 1 << 20


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple[Array, Array]]:
    """out = x @ w.T + b: x (N, D), w (M, D), b (M,) -> (out (N, M), cache (x, w))."""
    # OpenBLAS runs w @ x.T 5-10 % faster than x @ w.T at the MNIST figure's shapes; adding
    # the bias writes that product's transpose into a C-ordered out in the same pass
    out = np.empty((x.shape[0], w.shape[0]), dtype=np.result_type(x, w))
    np.add((w @ x.T).T, b, out=out)
    return out, (x, w)


def affine_param_grads(dout: Array, x: Array) -> tuple[Array, Array]:
    """dout (N, M), x (N, D) -> (dw (M, D), db (M,)): the affine backward without dx."""
    return dout.T @ x, dout.sum(axis=0)


def affine_backward(dout: Array, cache: tuple[Array, Array]) -> tuple[Array, Array, Array]:
    """dout (N, M), cache (x (N, D), w (M, D)) -> (dx (N, D), dw (M, D), db (M,))."""
    x, w = cache
    dw, db = affine_param_grads(dout, x)
    return dout @ w, dw, db


@dataclass
class Pass:
    """One forward and backward pass over a batch of N examples through L layers.

    Lists run over layers 1..L; layer l's arrays are (N, n[l]) except dW (n[l], n[l-1])
    and db (n[l],). For the output layer, a[-1] is probs and da[-1] is dCost/dlogits.
    """

    cost: float
    probs: Array
    z: list[Array]
    a: list[Array]
    da: list[Array]
    dW: list[Array]  # noqa: N815 (the article's name)
    db: list[Array]


class MLP:
    """A fully connected net over the given parameter arrays, which it holds, not copies.

    Optimizers update ``weights`` and ``biases`` in place. The output is a sigmoid with
    binary cross-entropy when the last layer has one unit, else softmax with cross-entropy.
    """

    def __init__(
        self, weights: list[Array], biases: list[Array], activation: str, l2: float = 0.0
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
        if not weights or len(weights) != len(biases):
            raise ValueError("need one bias vector per weight matrix, and at least one layer")
        for layer, (w, b) in enumerate(zip(weights, biases, strict=True), start=1):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise ValueError(f"layer {layer}: weights {w.shape} and biases {b.shape} disagree")
            if layer > 1 and w.shape[1] != weights[layer - 2].shape[0]:
                raise ValueError(f"layer {layer}: weights {w.shape} do not follow the layer before")
        self.weights = weights
        self.biases = biases
        self.activation = activation
        self.l2 = float(l2)

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def binary(self) -> bool:
        return self.weights[-1].shape[0] == 1

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weights[0].dtype

    def params(self) -> list[Array]:
        """[W1, b1, W2, b2, ...]: the arrays themselves, for an optimizer to update."""
        return [p for wb in zip(self.weights, self.biases, strict=True) for p in wb]

    def grads(self, p: Pass) -> list[Array]:
        """[dW1, db1, dW2, db2, ...], in the order of ``params()``."""
        return [g for gs in zip(p.dW, p.db, strict=True) for g in gs]

    def loss_and_grads(self, x: Array, y: Labels) -> Pass:
        """Forward and backward over x (N, n[0]) with labels y (N,); x is cast to the params' dtype.

        The cost adds 0.5 * l2 * sum(W**2) over all weight matrices to the mean data loss.
        """
        x = np.asarray(x, dtype=self.dtype)
        L = self.n_layers
        z: list[Array] = []
        a: list[Array] = []
        caches: list[Any] = []
        # too-large weights overflow to inf and then nan; that is a result to record, not an error
        with np.errstate(over="ignore", invalid="ignore"):
            prev = x
            for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
                z_l, _ = affine_forward(prev, W, b)
                prev, cache = activation_forward(self.activation, z_l)
                z.append(z_l)
                a.append(prev)
                caches.append(cache)
            logits, _ = affine_forward(prev, self.weights[-1], self.biases[-1])
            loss = sigmoid_cross_entropy if self.binary else softmax_cross_entropy
            cost, dlogits, probs = loss(logits, y)
            z.append(logits)
            a.append(probs)

            da: list[Array] = [dlogits]
            dW: list[Array] = []
            db: list[Array] = []
            dout = dlogits
            for i in range(L - 1, -1, -1):  # 0-based layer index, output first
                inputs = a[i - 1] if i > 0 else x
                dW_i, db_i = affine_param_grads(dout, inputs)
                dW.append(dW_i)
                db.append(db_i)
                if i > 0:  # dCost/dx of the network's input is never needed
                    da_prev = dout @ self.weights[i]
                    da.append(da_prev)
                    dout = activation_backward(self.activation, da_prev, caches[i - 1])
            da.reverse()
            dW.reverse()
            db.reverse()

            if self.l2:
                cost = self._with_l2(cost)
                for W, dW_i in zip(self.weights, dW, strict=True):
                    dW_i += self.l2 * W
        return Pass(cost=cost, probs=probs, z=z, a=a, da=da, dW=dW, db=db)

    def _with_l2(self, cost: float) -> float:
        """cost + 0.5 * l2 * sum(W**2), added one weight matrix at a time."""
        for W in self.weights:
            cost += 0.5 * self.l2 * float(np.vdot(W, W))
        return cost

    def _logits(self, x: Array) -> Array:
        """Forward only, keeping no caches: x (N, n[0]) in the params' dtype -> logits."""
        h = x
        for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h, _ = activation_forward(self.activation, affine_forward(h, W, b)[0])
        return affine_forward(h, self.weights[-1], self.biases[-1])[0]

    def cost_and_probs(self, x: Array, y: Labels) -> tuple[float, Array]:
        """``loss_and_grads``' cost and probs, bit for bit, without the backward pass."""
        x = np.asarray(x, dtype=self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = sigmoid_cross_entropy if self.binary else softmax_cross_entropy
            cost, _, probs = loss(self._logits(x), y)
            if self.l2:
                cost = self._with_l2(cost)
        return cost, probs

    def predict_proba(self, x: Array, chunk: int | None = None) -> Array:
        """Forward only, in chunks of rows, keeping no caches: x (N, n[0]) -> probs (N, 1 or C).

        Each chunk goes through the layers transposed, units by examples: every array is then a
        few long rows, where (N, n[l]) with a handful of units made NumPy's elementwise loops
        run thousands of times over a handful of numbers (a 101x101 boundary grid through the
        playground's 2-6-3-1 net took 7x longer). The products and sums are the same.
        """
        x = np.asarray(x, dtype=self.dtype)
        out = np.empty((x.shape[0], self.weights[-1].shape[0]), dtype=self.dtype)
        if chunk is None:
            widest = max(w.shape[0] for w in self.weights)
            chunk = max(PREDICT_CHUNK, PREDICT_ELEMENTS // widest)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, x.shape[0], chunk):
                logits = self._logits_transposed(x[start : start + chunk].T)
                if self.binary:
                    out[start : start + chunk] = sigmoid(logits).T
                else:  # softmax sums each row, contiguous as in the training pass
                    out[start : start + chunk] = softmax(np.ascontiguousarray(logits.T))
        return out

    def _logits_transposed(self, x_t: Array) -> Array:
        """Forward only on examples as columns: x_t (n[0], N) -> logits (n[L], N)."""
        h = x_t
        for W, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            z = W @ h
            z += b[:, None]
            h = activation_forward(self.activation, z)[0]
        logits = self.weights[-1] @ h
        logits += self.biases[-1][:, None]
        return logits
