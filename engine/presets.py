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

# tanh's critical weight variance at these bias variances (engine.meanfield
# .critical_weight_variance; tests/engine/test_presets_signal.py holds them to it)
TANH_CRITICAL = {0.05: 1.76095, 1e-4: 1.08603}
_AT_INIT = {"every": 1, "histograms": {"every": 0}, "boundary": {"every": 0},
            "predictions": {"every": 0}}  # fmt: skip

_EDGE_OF_CHAOS = Preset(
    name="edge_of_chaos",
    title="The edge of chaos: how far two inputs stay distinct in a deep random network",
    figure="beyond the article (Poole et al. 2016, Schoenholz et al. 2017)",
    description=(
        "Thirty tanh layers of 256 units, drawn with the mean-field parametrisation and not "
        "trained. The signal section follows the length and the correlation of pairs of inputs "
        "through the layers, beside theory. Below the critical line every pair ends up alike; "
        "above it every pair ends up equally unlike; near it the correlation drifts slowly "
        "and the Jacobian neither shrinks nor blows up signals."
    ),
    spec={
        "dataset": {"name": "circle", "n_samples": 100},
        "model": {"hidden": [256] * 30, "activation": "tanh", "dtype": "float64"},
        "init": {"method": "mean_field", "weight_variance": 1.5, "bias_variance": 0.05},
        "training": {"iterations": 0},
        "record": {**_AT_INIT, "signal": {"every": 1, "pairs": 8, "bins": 30}},
    },
    variants={
        "init.weight_variance": [1.0, 1.5, 2.0, 3.0, 4.5],
        "init.bias_variance": [0.0, 0.05, 0.2],
    },
)

TRAINABLE_DEPTHS = [5, 10, 20, 40, 60]
_TRAINABLE_DEPTH = Preset(
    name="trainable_depth",
    title="Trainable depth: how deep a network can be and still learn, across the plane",
    figure="beyond the article (Schoenholz et al. 2017, scaled down)",
    description=(
        "Tanh networks 48 units wide, from 5 to 60 layers deep, at bias variance 0.05 and "
        "weight variances on both sides of the critical value 1.76, each trained for 400 SGD "
        "steps on 2,000 MNIST images and tested on 1,000 more. Theory says a depth of about "
        "six correlation depth scales is as deep as a network still trains; the sweep's "
        "accuracies are drawn as a heat map with that curve on top."
    ),
    spec={
        "dataset": {"name": "mnist", "split": "train", "n_samples": 3000,
                    "test_fraction": 1 / 3},
        "model": {"hidden": [48] * 20, "activation": "tanh"},
        "init": {"method": "mean_field", "weight_variance": TANH_CRITICAL[0.05],
                 "bias_variance": 0.05},
        "optimizer": {"name": "sgd", "learning_rate": 0.01, "batch_size": 32, "shuffle": True},
        "training": {"iterations": 400},
        "record": {**_AT_INIT, "every": 50},
    },
    variants={
        "model.hidden": [[48] * depth for depth in TRAINABLE_DEPTHS],
        "init.weight_variance": [0.5, 1.0, 1.5, 2.0, 3.0, 4.5],
    },
)  # fmt: skip

_DYNAMICAL_ISOMETRY = Preset(
    name="dynamical_isometry",
    title="Dynamical isometry: orthogonal against Gaussian weights at the critical point",
    figure="beyond the article (Pennington, Schoenholz & Ganguli 2017)",
    description=(
        "Tanh at its critical point with a tiny bias variance (1e-4, weight variance 1.086), "
        "200 units wide and 10 to 100 layers deep, not trained, fed MNIST images. Both draws "
        "keep the mean "
        "squared singular value of the Jacobian near 1, but with Gaussian weights the "
        "singular values spread out as the network deepens, while orthogonal weights keep "
        "them bunched near 1."
    ),
    spec={
        # MNIST's pixels / 255 are small (mean square 0.1), so layer 1 starts near tanh's
        # linear part, where the critical point keeps every layer's Jacobian close to isometric
        "dataset": {"name": "mnist", "split": "test", "n_samples": 100},
        "model": {"hidden": [200] * 30, "activation": "tanh", "dtype": "float64"},
        "init": {"method": "mean_field", "weight_variance": TANH_CRITICAL[1e-4],
                 "bias_variance": 1e-4, "distribution": "orthogonal"},
        "training": {"iterations": 0},
        "record": {**_AT_INIT, "signal": {"every": 1, "pairs": 2, "bins": 40}},
    },
    variants={
        "init.distribution": ["normal", "orthogonal"],
        "model.hidden": [[200] * depth for depth in (10, 30, 100)],
    },
)  # fmt: skip

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (_PLAYGROUND, _NINE_LAYERS, _MNIST, _GLOROT_2010, _HE_2015, _EDGE_OF_CHAOS,
              _TRAINABLE_DEPTH, _DYNAMICAL_ISOMETRY)
}  # fmt: skip


def preset_spec(name: str) -> dict[str, Any]:
    """A deep copy of the preset's partial spec (callers may merge into it)."""
    return copy.deepcopy(PRESETS[name].spec)
