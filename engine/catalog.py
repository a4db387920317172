"""Everything a frontend needs to build its menus, in one JSON-ready dict."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from engine.datasets import n_classes
from engine.init import INITIALIZERS, calculate_gain
from engine.presets import PRESETS
from engine.spec import DATASETS_2D, DATASETS_IMAGE, OptimizerSpec

ACTIVATIONS = {
    "relu": "max(0, z)",
    "leaky_relu": "max(0.01 z, z)",
    "tanh": "tanh(z)",
    "sigmoid": "1 / (1 + exp(-z))",
    "linear": "z",
}

OPTIMIZERS = {
    "gd": ("full-batch gradient descent: W -= lr dW", ["learning_rate"]),
    "sgd": (
        "mini-batch gradient descent (batch_size 1 is stochastic): W -= lr dW",
        ["learning_rate", "batch_size", "shuffle"],
    ),
    "momentum": (
        "v = momentum v - lr dW; W += v",
        ["learning_rate", "batch_size", "shuffle", "momentum"],
    ),
    "rmsprop": (
        "s = rho s + (1 - rho) dW^2; W -= lr dW / (sqrt(s) + eps)",
        ["learning_rate", "batch_size", "shuffle", "rho", "eps"],
    ),
    "adam": (
        "m, v moving averages of dW and dW^2 with bias correction; W -= lr m^ / (sqrt(v^) + eps)",
        ["learning_rate", "batch_size", "shuffle", "beta1", "beta2", "eps"],
    ),
}

DATASETS = {
    "circle": "one class inside a disc, the other on a ring around it (article)",
    "moon": "two interleaved spiral arms (the article's 'moon')",
    "square": "XOR quadrants with a gap along the axes (article)",
    "gauss": "two Gaussian clusters (article)",
    "spiral": "three spiral arms, three classes",
    "xor": "XOR quadrants touching the axes",
    "moons": "two interleaving half moons",
    "blobs": "four Gaussian clusters, four classes",
    "mnist": "28x28 handwritten digits, pixels / 255; the article trains on the 10,000 test images",
}


def _optimizer_parameters(names: list[str]) -> list[dict[str, Any]]:
    fields = OptimizerSpec.model_fields
    return [{"name": name, "default": fields[name].default} for name in names]


def catalog() -> dict[str, Any]:
    """Initializers (formula, parameters), activations, optimizers, datasets and presets."""
    return {
        "initializers": [asdict(info) for info in INITIALIZERS.values()],
        "activations": [
            {"name": name, "formula": formula, "gain": calculate_gain(name)}
            for name, formula in ACTIVATIONS.items()
        ],
        "optimizers": [
            {"name": name, "update": update, "parameters": _optimizer_parameters(params)}
            for name, (update, params) in OPTIMIZERS.items()
        ],
        "datasets": [
            {
                "name": name,
                "kind": "image" if name in DATASETS_IMAGE else "2d",
                "classes": n_classes(name),
                "inputs": 784 if name in DATASETS_IMAGE else 2,
                "description": DATASETS[name],
            }
            for name in (*DATASETS_2D, *DATASETS_IMAGE)
        ],
        "presets": [
            {"name": p.name, "title": p.title, "figure": p.figure, "variants": p.variants}
            for p in PRESETS.values()
        ],
    }
