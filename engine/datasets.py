"""Datasets: the article's 2D playground sets (and a few more), and MNIST.

2D generators follow the TensorFlow playground (which the article's figures use), with
balanced classes and inputs in about [-5, 5]^2. Every random draw comes from the
``numpy.random.Generator`` passed in; ``load_dataset`` seeds it from the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from engine.experiment import DatasetSpec
from engine.mnist import load_mnist
from engine.vocabulary import DatasetKind, n_classes

# the playground's gauss variance at zero noise (its d3 scale maps noise 0 -> 0.5)
GAUSS_STD = np.sqrt(0.5)
# blobs sit 2.5 from the class borders: 5 std, so clean blobs do not overlap
BLOBS_STD = 0.5
# the playground pushes XOR points this far away from both axes
SQUARE_PADDING = 0.3
# sklearn's moons span x in [-1, 2], y in [-0.5, 1]; centre them, stretch x to [-5, 5]
MOONS_CENTRE = np.array([0.5, 0.25])
MOONS_SCALE = 10.0 / 3.0
QUADRANT_CENTRES = 2.5 * np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])

# a generator: (y (n,) class, i (n,) index within class, m (n,) size of that class, rng)
#   -> x (n, 2) float64, the clean points in class order
Generator2D = Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


@dataclass
class Data:
    """Train and test arrays: x (N, D) float, y (N,) int64; test may be empty (0, D)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    kind: DatasetKind
    source_index_train: np.ndarray  # (N,) int64: rows of the source set
    source_index_test: np.ndarray  # (M,) int64


def _polar(r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Radius (n,), angle (n,) -> (n, 2) points (r sin t, r cos t), the playground's axes."""
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=1)


def _circle(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 1 in the disc r < 2.5, class 0 on the ring 3.5 <= r < 5 (classifyCircleData)."""
    inside = y == 1
    r = rng.uniform(np.where(inside, 0.0, 3.5), np.where(inside, 2.5, 5.0))
    return _polar(r, rng.uniform(0.0, 2 * np.pi, len(y)))


def _moon(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two spiral arms, class 1 at angle offset 0 and class 0 at pi (classifySpiralData)."""
    r = i / m * 5.0
    t = 1.75 * i / m * 2 * np.pi + np.where(y == 1, 0.0, np.pi)
    return _polar(r, t)


def _quadrants(y: np.ndarray, rng: np.random.Generator, padding: float) -> np.ndarray:
    """XOR: |x|, |y| uniform in [padding, 5]; class 1 where x*y > 0, class 0 where x*y < 0."""
    magnitude = rng.uniform(padding, 5.0, (len(y), 2))
    sign_x = rng.choice(np.array([-1.0, 1.0]), len(y))
    sign_y = sign_x * np.where(y == 1, 1.0, -1.0)
    return magnitude * np.stack([sign_x, sign_y], axis=1)


def _square(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The playground's XOR quadrants, kept SQUARE_PADDING away from the axes."""
    return _quadrants(y, rng, SQUARE_PADDING)


def _xor(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """XOR quadrants with no padding: points reach the axes."""
    return _quadrants(y, rng, 0.0)


def _gauss(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Class 1 around (2, 2), class 0 around (-2, -2), std GAUSS_STD (classifyTwoGaussData)."""
    centre = np.where(y == 1, 2.0, -2.0)[:, None]
    return centre + rng.normal(0.0, GAUSS_STD, (len(y), 2))


def _spiral(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """cs231n's 3-arm spiral (angle jitter 0.2) scaled to radius 5."""
    s = i / np.maximum(m - 1, 1)  # linspace(0, 1, m) within each class
    t = 4.0 * (y + s) + rng.normal(0.0, 0.2, len(y))
    return _polar(5.0 * s, t)


def _moons(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """sklearn's make_moons (class 0 outer, class 1 inner), centred and scaled by 10/3."""
    a = np.pi * i / np.maximum(m - 1, 1)  # linspace(0, pi, m) within each class
    outer = np.stack([np.cos(a), np.sin(a)], axis=1)
    inner = np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)], axis=1)
    return (np.where((y == 0)[:, None], outer, inner) - MOONS_CENTRE) * MOONS_SCALE


def _blobs(y: np.ndarray, i: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Four classes around the quadrant centres (+-2.5, +-2.5), std BLOBS_STD."""
    return QUADRANT_CENTRES[y] + rng.normal(0.0, BLOBS_STD, (len(y), 2))


# each 2D set's generator; its class count is a fact of engine.vocabulary
GENERATORS: dict[str, Generator2D] = {
    "circle": _circle,
    "moon": _moon,
    "square": _square,
    "gauss": _gauss,
    "spiral": _spiral,
    "xor": _xor,
    "moons": _moons,
    "blobs": _blobs,
}


def balanced_labels(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points over k classes -> (class (n,), index within class (n,), class size (n,)).

    Classes are as equal as possible; the first n % k classes get one extra point.
    """
    counts = np.full(k, n // k, dtype=np.int64)
    counts[: n % k] += 1
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return y, np.arange(n, dtype=np.int64) - starts[y], counts[y]


def make_2d(
    name: str, n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A shuffled, balanced 2D dataset -> (x (n, 2) float64, y (n,) int64).

    Noise is drawn last, so with the same seed a noisy set is the clean one plus
    N(0, noise^2) on each coordinate.
    """
    if name not in GENERATORS:
        raise ValueError(f"unknown 2D dataset {name!r}; known: {', '.join(GENERATORS)}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if not noise >= 0.0:
        raise ValueError(f"noise must be a std >= 0, got {noise}")
    y, i, m = balanced_labels(n_samples, n_classes(name))
    x = GENERATORS[name](y, i, m, rng).astype(np.float64)
    order = rng.permutation(n_samples)
    x, y = x[order], y[order]
    if noise > 0.0:
        x = x + rng.normal(0.0, noise, x.shape)
    return x, y


def _split(x: np.ndarray, y: np.ndarray, n_test: int, classes: int, kind: DatasetKind) -> Data:
    """The last n_test rows of x (n, D), y (n,) become the test set."""
    n_train = len(x) - n_test
    index = np.arange(len(x), dtype=np.int64)
    return Data(
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        n_classes=classes,
        kind=kind,
        source_index_train=index[:n_train],
        source_index_test=index[n_train:],
    )


def load_dataset(
    spec: DatasetSpec, *, dtype: DTypeLike = np.float32, mnist_dir: str | None = None
) -> Data:
    """The data a spec describes: x (N, 2) or (N, 784) as dtype, y (N,) int64."""
    n = spec.n_samples
    n_test = round(n * spec.test_fraction)  # as ExperimentSpec.n_train counts it
    if spec.is_image:
        images, labels = load_mnist(spec.split, mnist_dir)
        if n > len(images):
            raise ValueError(f"n_samples: MNIST {spec.split} has {len(images)} images, not {n}")
        # in order, no shuffle: the article's batches are the test set's first 100, next 100...
        x = images[:n].reshape(n, -1).astype(dtype) / np.asarray(255, dtype=dtype)
        return _split(x, labels[:n].astype(np.int64), n_test, n_classes(spec.name), "image")
    x, y = make_2d(spec.name, n, spec.noise, np.random.default_rng(spec.seed))
    return _split(x.astype(dtype), y, n_test, n_classes(spec.name), "2d")


def dataset_payload(data: Data) -> dict[str, Any] | None:
    """The points as JSON-ready lists, ``{train: {x, y}, test: {x, y}}`` (2D datasets only)."""
    if data.kind != "2d":
        return None
    return {
        "train": {"x": data.x_train.tolist(), "y": data.y_train.tolist()},
        "test": {"x": data.x_test.tolist(), "y": data.y_test.tolist()},
    }
