"""The article's figures, and two classic papers, as named experiment specs.

A preset is a partial spec: ``engine.spec.resolve({"preset": name, ...})`` merges the given
fields into it and fills every other default.
``variants`` lists the values a figure is meant to be compared across (a sweep's ``vary``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from engine.experiment import ExperimentSpec


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    figure: str
    description: str
    spec: dict[str, Any]
    variants: dict[str, list[Any]] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The preset as ``GET /v1/presets`` shows it, its spec fully resolved."""
        resolved = ExperimentSpec.model_validate(self.spec).model_dump(mode="json")
        return {
            "name": self.name,
            "title": self.title,
            "figure": self.figure,
            "description": self.description,
            "spec": resolved,
            "variants": self.variants,
        }


_PLAYGROUND = Preset(
    name="playground",
    title="Playground: four ways to start a small network",
    figure="article figure 1",
    description=(
        "A 2-6-3-1 ReLU network with a sigmoid output learns a 2D boundary by full-batch "
        "gradient descent. Start it from zeros, from a variance far too small or far too large, "
        "or from N(0, 1/fan_in), and watch the cost and the boundary."
    ),
    spec={
        "dataset": {"name": "circle", "n_samples": 100},
        "model": {"hidden": [6, 3], "activation": "relu"},
        "init": {"method": "appropriate"},
        "optimizer": {"name": "gd", "learning_rate": 0.1},
        "training": {"iterations": 1000},
        "record": {"every": 1, "boundary": {"resolution": 101, "every": 10}},
    },
    variants={
        "init.method": ["zero", "too_small", "appropriate", "too_large"],
        "dataset.name": ["circle", "moon", "square", "gauss"],
    },
)

_NINE_LAYERS = Preset(
    name="nine_layers",
    title="Nine linear layers: exploding and vanishing signals",
    figure="article figure 2",
    description=(
        "Nine hidden layers of two linear units, every weight matrix a times the identity. "
        "Each layer multiplies the signal by a, so after nine layers it has grown by 1.5^9 "
        "(about 38) or shrunk by 0.5^9 (about 0.002); gradients flowing back do the same. "
        "On the two moons, a = 1 settles smoothly; a = 1.5 starts far off and its cost keeps "
        "bouncing around the minimum; a = 0.5 barely moves from chance."
    ),
    spec={
        # two moons: a linear boundary gets close (cost ~0.26), so each a shows its own curve
        "dataset": {"name": "moons", "n_samples": 100},
        "model": {"hidden": [2] * 9, "activation": "linear", "dtype": "float64"},
        "init": {"method": "identity", "scale": 1.5},
        "optimizer": {"name": "gd", "learning_rate": 0.01},
        "training": {"iterations": 100},
        "record": {
            "every": 1,
            "histograms": {"every": 0},
            "boundary": {"every": 10, "resolution": 51},
        },
    },
    variants={"init.scale": [0.5, 1.0, 1.5]},
)

_MNIST = Preset(
    name="mnist",
    title="MNIST: activations layer by layer",
    figure="article figure 3",
    description=(
        "A 784-300-300-300-300-10 tanh network trained on the 10,000 MNIST test images in "
        "order, batches of 100, SGD at 0.1. Every batch records each hidden layer's activation "
        "histogram over [-1.2, 1.2] and the batch's predictions. Compare zeros, U(+-1/sqrt(n)), "
        "N(0, 1/n) and N(0, 1)."
    ),
    spec={
        "dataset": {"name": "mnist", "n_samples": 10_000, "split": "test"},
        "model": {"hidden": [300] * 4, "activation": "tanh"},
        "init": {"method": "xavier"},
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "batch_size": 100},
        "training": {"iterations": 100},
        "record": {
            "every": 1,
            "histograms": {
                "bins": 200,
                "every": 1,
                "range": [-1.2, 1.2],
                "fields": ["activations"],
            },
            "boundary": {"every": 0},
            "predictions": {"every": 1, "count": 100},
        },
    },
    variants={"init.method": ["zero", "uniform", "xavier", "standard_normal"]},
)

_GLOROT_2010 = Preset(
    name="glorot_2010",
    title="Glorot & Bengio 2010: standard against normalized initialization",
    figure="beyond the article",
    description=(
        "Five hidden tanh layers of 1000 units. The 'standard' U(+-1/sqrt(n)) shrinks the "
        "activations layer after layer and the gradients grow toward the input; Glorot's "
        "normalized init (xavier_uniform) keeps both about level."
    ),
    spec={
        "dataset": {"name": "mnist", "n_samples": 10_000, "split": "train"},
        "model": {"hidden": [1000] * 5, "activation": "tanh"},
        "init": {"method": "uniform"},
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "batch_size": 100},
        "training": {"iterations": 100},
        "record": {
            "every": 1,
            "histograms": {"bins": 100, "every": 10, "fields": ["activations", "activation_grads"]},
            "boundary": {"every": 0},
            "predictions": {"every": 10},
        },
    },
    variants={"init.method": ["uniform", "xavier_uniform"]},
)

_HE_2015 = Preset(
    name="he_2015",
    title="He et al. 2015: thirty ReLU layers",
    figure="beyond the article",
    description=(
        "Thirty hidden ReLU layers of 100 units. ReLU zeroes half the signal, so Xavier's "
        "variance halves it at every layer and the deep network stalls; He's doubled "
        "variance keeps the signal alive and it trains."
    ),
    spec={
        "dataset": {"name": "mnist", "n_samples": 5_000, "split": "train"},
        "model": {"hidden": [100] * 30, "activation": "relu"},
        "init": {"method": "he_normal"},
        "optimizer": {"name": "sgd", "learning_rate": 0.01, "batch_size": 100},
        "training": {"iterations": 300},
        "record": {
            "every": 1,
            "histograms": {"every": 50, "fields": ["activations", "activation_grads"]},
            "boundary": {"every": 0},
            "predictions": {"every": 50},
        },
    },
    variants={"init.method": ["xavier_normal", "he_normal"]},
)

PRESETS: dict[str, Preset] = {
    p.name: p for p in (_PLAYGROUND, _NINE_LAYERS, _MNIST, _GLOROT_2010, _HE_2015)
}


def preset_spec(name: str) -> dict[str, Any]:
    """A deep copy of the preset's partial spec (callers may merge into it)."""
    return copy.deepcopy(PRESETS[name].spec)
