"""The decision boundary of a record beyond its orientation (test_record_truth.py): its fields,
the 3-decimal rounding the README promises, and the multi-class form (``p`` the winning
class's probability, ``label`` the class), recomputed with test_record_truth's own NumPy
forward pass from the run's parameter snapshot."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_record_truth import params, probabilities, run

RESOLUTION, EXTENT = 9, (-5.0, 5.0)


def boundary_run(dataset: str) -> tuple[dict, np.ndarray]:
    """The first record of a short run on ``dataset`` (boundary and snapshot every iteration)
    and the grid points as (y index, x index) -> [x, y]."""
    _, _, records, _ = run({
        "dataset": {"name": dataset, "n_samples": 60},
        "model": {"hidden": [8], "activation": "tanh", "dtype": "float64"},
        "init": {"method": "he_normal", "seed": 4},
        "training": {"iterations": 2},
        "record": {"parameters": {"every": 1},
                   "boundary": {"resolution": RESOLUTION, "every": 1, "extent": list(EXTENT)}},
    })  # fmt: skip
    axis = np.linspace(*EXTENT, RESOLUTION)
    xx, yy = np.meshgrid(axis, axis)
    return records[0], np.stack([xx, yy], axis=-1).reshape(-1, 2)


def test_a_binary_boundary_is_p_of_class_one_to_three_decimals_with_no_labels() -> None:
    record, grid = boundary_run("circle")
    boundary = record["boundary"]
    assert set(boundary) == {"x", "y", "resolution", "p"}
    assert boundary["resolution"] == RESOLUTION
    p = np.array(boundary["p"])
    expected = probabilities(params(record), "tanh", grid).reshape(RESOLUTION, RESOLUTION)
    np.testing.assert_allclose(p, expected, atol=5e-4 + 1e-12)
    np.testing.assert_array_equal(p, np.round(p, 3))  # the README's 3 decimals
    assert np.abs(p - expected).max() > 1e-6, "rounding must show on 81 points"


@pytest.mark.parametrize(("dataset", "classes"), [("spiral", 3), ("blobs", 4)])
def test_a_multiclass_boundary_is_the_winning_class_and_its_probability(
    dataset: str, classes: int
) -> None:
    record, grid = boundary_run(dataset)
    boundary = record["boundary"]
    assert set(boundary) == {"x", "y", "resolution", "p", "label"}
    assert boundary["resolution"] == RESOLUTION
    probs = probabilities(params(record), "tanh", grid)
    assert probs.shape == (RESOLUTION**2, classes)
    labels = np.array(boundary["label"])
    np.testing.assert_array_equal(labels, probs.argmax(axis=1).reshape(RESOLUTION, RESOLUTION))
    assert len(np.unique(labels)) > 1, "one class everywhere would not pin the argmax"
    p = np.array(boundary["p"])
    winning = probs.max(axis=1).reshape(RESOLUTION, RESOLUTION)
    np.testing.assert_allclose(p, winning, atol=5e-4 + 1e-12)
    np.testing.assert_array_equal(p, np.round(p, 3))
    assert (p >= 1 / classes - 5e-4).all()  # the winner has at least its share
