"""The 2D datasets: shapes, balance, geometry, determinism, noise, splits."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets import (
    GENERATORS,
    MOONS_CENTRE,
    MOONS_SCALE,
    QUADRANT_CENTRES,
    SQUARE_PADDING,
    balanced_labels,
    load_dataset,
    make_2d,
)
from engine.experiment import DatasetSpec, ExperimentSpec
from engine.vocabulary import DATASETS_2D, n_classes

CLASSES = {
    "circle": 2, "moon": 2, "square": 2, "gauss": 2,
    "spiral": 3, "xor": 2, "moons": 2, "blobs": 4,
}  # fmt: skip


def generate(name: str, n: int = 100, noise: float = 0.0, seed: int = 0):
    """make_2d with a fresh seeded generator."""
    return make_2d(name, n, noise, np.random.default_rng(seed))


def test_every_spec_dataset_has_a_generator():
    assert set(GENERATORS) == set(DATASETS_2D) == set(CLASSES)


@pytest.mark.parametrize(("name", "k"), [*CLASSES.items(), ("mnist", 10)])
def test_n_classes(name, k):
    assert n_classes(name) == k


def test_n_classes_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        n_classes("cifar")


@pytest.mark.parametrize("name", DATASETS_2D)
def test_shape_dtype_and_range(name):
    x, y = generate(name)
    assert x.shape == (100, 2) and x.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.int64
    assert np.all(np.abs(x) <= 5.5)
    assert set(np.unique(y)) == set(range(CLASSES[name]))


@pytest.mark.parametrize("name", DATASETS_2D)
@pytest.mark.parametrize("n", [100, 101, 7])
def test_classes_are_balanced_first_class_gets_the_extra(name, n):
    k = CLASSES[name]
    _, y = generate(name, n)
    expected = [n // k + (c < n % k) for c in range(k)]
    assert np.bincount(y, minlength=k).tolist() == expected


def test_default_size_is_fifty_per_class():
    for name in ("circle", "moon", "square", "gauss"):
        assert np.bincount(generate(name)[1]).tolist() == [50, 50]


def test_balanced_labels_indexes_within_each_class():
    y, i, m = balanced_labels(7, 3)
    assert y.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert i.tolist() == [0, 1, 2, 0, 1, 0, 1]
    assert m.tolist() == [3, 3, 3, 2, 2, 2, 2]


@pytest.mark.parametrize("name", DATASETS_2D)
def test_same_seed_same_data_other_seed_other_data(name):
    x0, y0 = generate(name, seed=3)
    x1, y1 = generate(name, seed=3)
    x2, _ = generate(name, seed=4)
    np.testing.assert_array_equal(x0, x1)
    np.testing.assert_array_equal(y0, y1)
    assert not np.array_equal(x0, x2)


@pytest.mark.parametrize("name", DATASETS_2D)
def test_points_are_shuffled_not_class_ordered(name):
    _, y = generate(name, 200)
    assert np.count_nonzero(np.diff(y)) > 20  # class-ordered data changes label k-1 times


def test_circle_labels_follow_the_radius():
    x, y = generate("circle", 1000)
    r = np.hypot(x[:, 0], x[:, 1])
    assert np.all(r[y == 1] < 2.5)
    assert np.all((r[y == 0] >= 3.5) & (r[y == 0] < 5.0))


def test_moon_points_lie_on_their_spiral_arm():
    x, y = generate("moon", 200)
    r = np.hypot(x[:, 0], x[:, 1])
    t = 1.75 * (r / 5.0) * 2 * np.pi + np.where(y == 1, 0.0, np.pi)
    np.testing.assert_allclose(x, np.stack([r * np.sin(t), r * np.cos(t)], axis=1), atol=1e-9)
    assert r.max() < 5.0


@pytest.mark.parametrize("name", ["square", "xor"])
def test_xor_labels_follow_the_sign_of_the_product(name):
    x, y = generate(name, 1000)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))


def test_square_keeps_away_from_the_axes_and_xor_does_not():
    square, _ = generate("square", 1000)
    xor, _ = generate("xor", 1000)
    assert np.abs(square).min() >= SQUARE_PADDING
    assert np.abs(xor).min() < SQUARE_PADDING / 2
    assert np.abs(square).max() <= 5.0 and np.abs(xor).max() <= 5.0


def test_gauss_labels_follow_the_closer_centre():
    # the blobs sit 4 std from the border: with seed 0 no point of 400 crosses it
    x, y = generate("gauss", 400)
    closer_to_positive = np.linalg.norm(x - 2.0, axis=1) < np.linalg.norm(x + 2.0, axis=1)
    np.testing.assert_array_equal(y, closer_to_positive.astype(np.int64))
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [2.0, 2.0], atol=0.15)


def test_blobs_labels_follow_the_closest_quadrant_centre():
    x, y = generate("blobs", 400)
    distances = np.linalg.norm(x[:, None, :] - QUADRANT_CENTRES[None], axis=2)
    np.testing.assert_array_equal(y, distances.argmin(axis=1))


def test_spiral_arms_start_at_the_centre_and_reach_radius_five():
    x, y = generate("spiral", 300)
    r = np.hypot(x[:, 0], x[:, 1])
    for c in range(3):
        assert r[y == c].min() == pytest.approx(0.0)
        assert r[y == c].max() == pytest.approx(5.0)


def test_moons_lie_on_two_offset_half_circles():
    x, y = generate("moons", 200)
    original = x / MOONS_SCALE + MOONS_CENTRE  # back to sklearn's coordinates
    outer, inner = original[y == 0], original[y == 1]
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(inner - [1.0, 0.5], axis=1), 1.0)
    assert np.all(outer[:, 1] >= -1e-12) and np.all(inner[:, 1] <= 0.5 + 1e-12)
    assert np.abs(x).max() == pytest.approx(5.0)


@pytest.mark.parametrize("name", DATASETS_2D)
@pytest.mark.parametrize("noise", [0.1, 0.5])
def test_noise_moves_points_by_the_requested_std(name, noise):
    clean, y_clean = generate(name, 2000, 0.0, seed=1)
    noisy, y_noisy = generate(name, 2000, noise, seed=1)
    np.testing.assert_array_equal(y_clean, y_noisy)
    shift = noisy - clean
    assert shift.std() == pytest.approx(noise, rel=0.05)
    assert abs(shift.mean()) < 0.1 * noise


def test_make_2d_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown 2D dataset"):
        make_2d("mnist", 10, 0.0, rng)
    with pytest.raises(ValueError, match="n_samples"):
        make_2d("circle", 0, 0.0, rng)
    with pytest.raises(ValueError, match="noise"):
        make_2d("circle", 10, -1.0, rng)


def test_load_dataset_uses_the_spec_seed():
    spec = DatasetSpec(name="moons", n_samples=60, noise=0.2, seed=7)
    data = load_dataset(spec)
    x, y = make_2d("moons", 60, 0.2, np.random.default_rng(7))
    np.testing.assert_array_equal(data.x_train, x.astype(np.float32))
    np.testing.assert_array_equal(data.y_train, y)
    assert data.kind == "2d" and data.n_classes == 2


@pytest.mark.parametrize(
    ("n", "fraction", "n_test"), [(100, 0.0, 0), (100, 0.25, 25), (101, 0.3, 30), (10, 0.9, 9)]
)
def test_test_fraction_holds_out_rounded_share(n, fraction, n_test):
    spec = DatasetSpec(name="spiral", n_samples=n, test_fraction=fraction)
    data = load_dataset(spec)
    assert data.x_train.shape == (n - n_test, 2) and data.y_train.shape == (n - n_test,)
    assert data.x_test.shape == (n_test, 2) and data.y_test.shape == (n_test,)
    assert data.y_test.dtype == np.int64
    assert len(data.y_train) == ExperimentSpec(dataset=spec).n_train
    index = np.concatenate([data.source_index_train, data.source_index_test])
    np.testing.assert_array_equal(index, np.arange(n))
    x, _ = make_2d("spiral", n, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(data.x_train, x[: n - n_test].astype(np.float32))
    np.testing.assert_array_equal(data.x_test, x[n - n_test :].astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_dataset_casts_inputs_to_dtype(dtype):
    data = load_dataset(DatasetSpec(name="circle", test_fraction=0.2), dtype=dtype)
    assert data.x_train.dtype == dtype and data.x_test.dtype == dtype
    assert data.source_index_train.dtype == np.int64
