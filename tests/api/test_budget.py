"""The memory budget of one job (engine/budget.py): each refusal a 422 naming its field and
its budget, on POST /v1/jobs and POST /v1/theory/variance (the real app in-process)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import budget
from engine.spec import resolve

WIDE = {"model": {"hidden": [4096] * 64}, "training": {"iterations": 0}}


@pytest.mark.parametrize(
    ("body", "loc", "limit"),
    [
        ({**WIDE, "record": {"boundary": {"every": 0}}}, "model.hidden", budget.MAX_PARAMETERS),
        (
            {"dataset": {"name": "mnist", "n_samples": 10_000}, "model": {"hidden": [3300]},
             "optimizer": {"name": "sgd", "batch_size": 10_000}, "training": {"iterations": 0}},
            "optimizer.batch_size",
            budget.MAX_ACTIVATION_VALUES,
        ),
        (
            {"dataset": {"name": "mnist"}, "model": {"hidden": [1000, 1000]},
             "record": {"parameters": {"every": 1}}, "training": {"iterations": 50}},
            "record.parameters.every",
            budget.MAX_SNAPSHOT_BYTES,
        ),
    ],
)  # fmt: skip
def test_a_spec_over_the_memory_budget_is_a_422_naming_field_and_budget(
    client: TestClient, body: dict[str, Any], loc: str, limit: int
) -> None:
    trained = loc.startswith("record.parameters")  # theory stores no snapshot
    for path in ("/v1/jobs",) if trained else ("/v1/jobs", "/v1/theory/variance"):
        response = client.post(path, json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", *loc.split(".")], error
        assert f"budget of {limit:,}" in error["msg"]


def test_every_preset_fits_the_memory_budget() -> None:
    from engine.presets import PRESETS

    for name, preset in PRESETS.items():
        for path, values in preset.variants.items():
            for value in values:
                spec = resolve({"preset": name, **_nested(path, value)})
                assert budget.over_budget(spec) is None, (name, value)


def _nested(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: _nested(rest, value) if rest else value}


def test_the_budget_counts_what_the_network_holds() -> None:
    spec = resolve({"preset": "mnist"})  # 784-300-300-300-300-10, 10,000 test images
    assert budget.parameters(spec) == 785 * 300 + 3 * 301 * 300 + 301 * 10
    assert budget.largest_activation(spec) == 2000 * 784  # an evaluation chunk of the input
    every = resolve({"training": {"iterations": 10}, "record": {"parameters": {"every": 4}}})
    assert budget.snapshots(every) == 4  # 0, 4, 8 and the last, 10
