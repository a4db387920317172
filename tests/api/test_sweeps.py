"""Sweeps: one job per variation, and every kind of bad request a 422 before any job exists."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import errors
from tests.api.sweep_helpers import create, job_count


def test_a_sweep_creates_one_job_per_variation_in_order(client: TestClient) -> None:
    body = {
        "base": {"preset": "playground", "training": {"iterations": 3}},
        "vary": {"init.method": ["zero", "he_normal"], "dataset.name": ["moon", "gauss"]},
    }
    sweep = create(client, body)
    assert sweep["status"] == "queued" and sweep["vary"] == body["vary"]
    assert sweep["base"] == body["base"] and sweep["target_cost"] == 0.1
    values = [variation["values"] for variation in sweep["variations"]]
    assert values == [
        {"init.method": m, "dataset.name": d}
        for m in ("zero", "he_normal")
        for d in ("moon", "gauss")
    ]
    for variation in sweep["variations"]:
        job = client.get(f"/v1/jobs/{variation['job_id']}").json()
        assert job["spec"]["init"]["method"] == variation["values"]["init.method"]
        assert job["spec"]["dataset"]["name"] == variation["values"]["dataset.name"]
        assert job["spec"]["training"]["iterations"] == 3 and job["status"] == "queued"
    assert sorted(sweep["ranking"]) == sorted(v["job_id"] for v in sweep["variations"])
    assert client.get(f"/v1/sweeps/{sweep['id']}").json()["id"] == sweep["id"]


def test_a_bad_variation_is_a_422_naming_it_and_no_job_is_created(client: TestClient) -> None:
    before = job_count(client)
    body = {
        "base": {"preset": "playground"},
        "vary": {"init.method": ["zero", "nope"], "optimizer.learning_rate": [0.1, -1]},
    }
    response = client.post("/v1/sweeps", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    by_loc = {tuple(error["loc"]): error["msg"] for error in detail}
    assert set(by_loc) == {
        ("body", "vary", "init.method"),
        ("body", "vary", "optimizer.learning_rate"),
    }
    assert 'init.method="nope"' in by_loc[("body", "vary", "init.method")]
    assert "optimizer.learning_rate=-1" in by_loc[("body", "vary", "optimizer.learning_rate")]
    assert "greater than 0" in by_loc[("body", "vary", "optimizer.learning_rate")]
    assert len(detail) == 2  # each bad value once, not once per combination
    assert job_count(client) == before


def test_a_bad_base_is_named_once_under_base(client: TestClient) -> None:
    body = {"base": {"optimizer": {"batch_size": 10}}, "vary": {"init.seed": [1, 2, 3]}}
    detail = client.post("/v1/sweeps", json=body).json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "base", "optimizer", "batch_size"]]
    assert "gd is full-batch" in detail[0]["msg"]


def test_a_variation_over_the_work_budget_is_named(client: TestClient) -> None:
    base = {"preset": "mnist", "training": {"iterations": 1000}}
    body = {"base": base, "vary": {"model.hidden": [[30], [1000] * 8]}}
    detail = client.post("/v1/sweeps", json=body).json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "vary"]]
    assert "model.hidden=[1000," in detail[0]["msg"] and "budget" in detail[0]["msg"]


def test_a_variation_over_the_memory_budget_names_its_field(client: TestClient) -> None:
    body = {"base": {"preset": "mnist"}, "vary": {"model.hidden": [[30], [4000] * 8]}}
    detail = client.post("/v1/sweeps", json=body).json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "vary", "model.hidden"]]
    assert "model.hidden=[4000," in detail[0]["msg"] and "parameters" in detail[0]["msg"]


@pytest.mark.parametrize(
    "value", [2**70, -(2**70), 10**400, "x" * 10_000], ids=["2**70", "-2**70", "1e400", "long"]
)
def test_any_json_value_gets_a_422_never_a_500(client: TestClient, value: Any) -> None:
    response = client.post("/v1/sweeps", json={"vary": {"init.seed": [value]}})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "vary", "init.seed"] and len(error["msg"]) < 500


def test_a_sweep_over_the_whole_sweeps_work_budget_is_a_422_naming_vary(
    client: TestClient,
) -> None:
    body = {"base": {"preset": "edge_of_chaos", "training": {"iterations": 200}},
            "vary": {"init.weight_variance": [1 + i / 10 for i in range(20)],
                     "init.bias_variance": [i / 100 for i in range(20)]}}  # fmt: skip
    [error] = errors.detail(client.post("/v1/sweeps", json=body))
    assert error["loc"] == ["body", "vary"] and "sweep budget" in error["msg"]


@pytest.mark.parametrize(
    "vary",
    [{}, {"init.method": []}, {"nope.field": [1]}, {"init": [1]}, {"init.seed": list(range(401))}],
)
def test_a_malformed_vary_is_a_422(client: TestClient, vary: dict[str, Any]) -> None:
    response = client.post("/v1/sweeps", json={"vary": vary})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][:2] == [
        "body",
        "vary",
    ]
