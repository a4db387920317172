"""The names a spec may use and the facts behind them: datasets, activations, optimizers.

The one place these are written. The spec validates against them, the datasets and the
network are built from them, and the catalog shows them to frontends. Imports nothing of
the engine, so every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DatasetKind = Literal["2d", "image"]


@dataclass(frozen=True)
class DatasetFacts:
    """What a dataset is: points in the plane or images, its input width and class count."""

    kind: DatasetKind
    inputs: int  # n[0], the width of one example x
    classes: int
    description: str


MNIST_PIXELS = 28 * 28
MNIST_SPLIT_SIZES = {"train": 60_000, "test": 10_000}
# the 2D sets are generated, so any size works; this keeps a request's points in bounds
MAX_2D_SAMPLES = 10_000


def _plane(classes: int, description: str) -> DatasetFacts:
    return DatasetFacts("2d", 2, classes, description)


DATASETS: dict[str, DatasetFacts] = {
    "circle": _plane(2, "one class inside a disc, the other on a ring around it (article)"),
    "moon": _plane(2, "two interleaved spiral arms (the article's 'moon')"),
    "square": _plane(2, "XOR quadrants with a gap along the axes (article)"),
    "gauss": _plane(2, "two Gaussian clusters (article)"),
    "spiral": _plane(3, "three spiral arms, three classes"),
    "xor": _plane(2, "XOR quadrants touching the axes"),
    "moons": _plane(2, "two interleaving half moons"),
    "blobs": _plane(4, "four Gaussian clusters, four classes"),
    "mnist": DatasetFacts(
        "image",
        MNIST_PIXELS,
        10,
        "28x28 handwritten digits, pixels / 255; the article trains on the 10,000 test images",
    ),
}
DATASETS_2D = tuple(name for name, facts in DATASETS.items() if facts.kind == "2d")
DATASETS_IMAGE = tuple(name for name, facts in DATASETS.items() if facts.kind == "image")


def dataset_facts(name: str) -> DatasetFacts:
    """The facts of a dataset by name; ValueError naming the known ones for any other."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def n_classes(name: str) -> int:
    """Number of classes of a dataset: 2 for the binary 2D sets, 3 spiral, 4 blobs, 10 mnist."""
    return dataset_facts(name).classes


def max_samples(name: str, split: str) -> int:
    """How many examples a dataset can give: an MNIST split's size, MAX_2D_SAMPLES otherwise."""
    if dataset_facts(name).kind == "image":
        return MNIST_SPLIT_SIZES[split]
    return MAX_2D_SAMPLES


ActivationName = Literal["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
# leaky ReLU's slope for z < 0 (torch's and Keras's default)
LEAKY_SLOPE = 0.01
ACTIVATION_FORMULAS: dict[ActivationName, str] = {
    "relu": "max(0, z)",
    "leaky_relu": f"max({LEAKY_SLOPE:g} z, z)",
    "tanh": "tanh(z)",
    "sigmoid": "1 / (1 + exp(-z))",
    "linear": "z",
}


OptimizerName = Literal["gd", "sgd", "momentum", "rmsprop", "adam"]


@dataclass(frozen=True)
class OptimizerFacts:
    """An optimizer's update rule as text and the OptimizerSpec fields it reads."""

    update: str
    parameters: tuple[str, ...]


_MINI_BATCH = ("learning_rate", "batch_size", "shuffle")
OPTIMIZERS: dict[OptimizerName, OptimizerFacts] = {
    "gd": OptimizerFacts("full-batch gradient descent: W -= lr dW", ("learning_rate",)),
    "sgd": OptimizerFacts(
        "mini-batch gradient descent (batch_size 1 is stochastic): W -= lr dW", _MINI_BATCH
    ),
    "momentum": OptimizerFacts("v = momentum v - lr dW; W += v", (*_MINI_BATCH, "momentum")),
    "rmsprop": OptimizerFacts(
        "s = rho s + (1 - rho) dW^2; W -= lr dW / (sqrt(s) + eps)", (*_MINI_BATCH, "rho", "eps")
    ),
    "adam": OptimizerFacts(
        "m, v moving averages of dW and dW^2 with bias correction; W -= lr m^ / (sqrt(v^) + eps)",
        (*_MINI_BATCH, "beta1", "beta2", "eps"),
    ),
}
