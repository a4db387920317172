"""Sweep expansion and ranking."""

import pytest
from pydantic import ValidationError

from engine.spec import resolve
from engine.sweep import SweepCreate, iterations_to_reach, rank, variations


def test_cartesian_product_over_the_base() -> None:
    sweep = SweepCreate(base={"preset": "playground", "training": {"iterations": 5}},
                        vary={"init.method": ["zero", "he_normal"],
                              "dataset.name": ["circle", "moon", "gauss"]})  # fmt: skip
    runs = variations(sweep)
    assert len(runs) == 6
    chosen, request = runs[1]
    assert chosen == {"init.method": "zero", "dataset.name": "moon"}
    spec = resolve(request)
    assert spec.init.method == "zero" and spec.dataset.name == "moon"
    assert spec.training.iterations == 5 and spec.model.hidden == [6, 3]


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ({"colour": [1]}, "field path"),
        ({"init.method": []}, "at least 1"),
        ({"init.seed": list(range(8)), "training.seed": list(range(8))}, "at most 32"),
        ({}, "at least 1"),
    ],
)
def test_bad_vary_is_refused(vary: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SweepCreate(vary=vary)


def test_iterations_to_reach_and_rank() -> None:
    costs = [(0, 0.7), (10, None), (20, 0.09), (30, 0.05)]
    assert iterations_to_reach(costs, 0.1) == 20 and iterations_to_reach(costs, 0.01) is None
    entries = [
        {"final_cost": None, "iterations_to_target": None},
        {"final_cost": 0.05, "iterations_to_target": 300},
        {"final_cost": 0.69, "iterations_to_target": None},
        {"final_cost": 0.05, "iterations_to_target": 100},
    ]
    assert rank(entries) == [3, 1, 2, 0]
