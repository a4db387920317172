"""Sweep expansion and ranking."""

import pytest
from pydantic import ValidationError

from engine.experiment import MAX_WORK_FLOPS
from engine.spec import resolve
from engine.sweep import (
    MAX_SWEEP_WORK_FLOPS,
    MAX_VARIATIONS,
    SweepCreate,
    iterations_to_reach,
    over_budget,
    rank,
    variations,
)


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
        ({"init.seed": list(range(21)), "training.seed": list(range(20))}, "at most 400"),
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


def grid_specs(iterations: int, side: int = 20) -> list:
    sweep = SweepCreate(base={"preset": "edge_of_chaos", "training": {"iterations": iterations}},
                        vary={"init.weight_variance": [1 + i / 10 for i in range(side)],
                              "init.bias_variance": [i / 100 for i in range(side)]})  # fmt: skip
    return [resolve(request) for _, request in variations(sweep)]


def test_a_400_point_grid_of_cheap_runs_fits_the_sweep_budget() -> None:
    specs = grid_specs(iterations=0)
    assert len(specs) == MAX_VARIATIONS == 400
    assert over_budget(specs) is None


def test_the_same_grid_trained_is_over_the_budget_and_says_so() -> None:
    specs = grid_specs(iterations=200)
    total = sum(spec.work_flops() for spec in specs)
    assert total > MAX_SWEEP_WORK_FLOPS and all(s.work_flops() <= MAX_WORK_FLOPS for s in specs)
    reason = over_budget(specs)
    assert reason is not None and "sweep budget" in reason and "400 variations" in reason
