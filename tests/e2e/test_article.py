"""The article's claims, asserted through the API with a real worker (sweeps of its presets).

Each figure runs once per module as a sweep; the tests read its jobs' records and summaries.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.e2e]

LN2 = math.log(2)
PLAYGROUND_INITS = ["zero", "too_small", "appropriate", "too_large"]


@pytest.fixture(scope="module")
def http(api_url: str, celery_worker: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=60) as client:
        yield client


def run_sweep(http: httpx.Client, body: dict[str, Any], timeout: float = 180) -> dict[str, Any]:
    """Submit a sweep (forced: its jobs really run) and wait until every job has ended."""
    response = http.post("/v1/sweeps", json={**body, "force": True})
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + timeout
    while True:
        sweep = http.get(response.headers["Location"]).json()
        if sweep["status"] not in ("queued", "running"):
            return sweep  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"sweep still {sweep['status']} after {timeout} s"
        time.sleep(0.1)


def raw_pages(http: httpx.Client, job_id: str, **query: Any) -> Iterator[bytes]:
    """Every metrics page of a job as the bytes the API sent."""
    params: dict[str, Any] = {"limit": 500, **query}
    while True:
        response = http.get(f"/v1/jobs/{job_id}/metrics", params=params)
        assert response.status_code == 200, response.text
        yield response.content
        following = response.json()["next"]
        if following is None:
            return
        params["start"] = following


def records(http: httpx.Client, job_id: str, **query: Any) -> list[dict[str, Any]]:
    return [r for page in raw_pages(http, job_id, **query) for r in json.loads(page)["records"]]


def by_value(sweep: dict[str, Any], path: str) -> dict[Any, dict[str, Any]]:
    return {v["values"][path]: v for v in sweep["variations"]}


@pytest.fixture(scope="module")
def playground(http: httpx.Client) -> dict[str, Any]:
    body = {"base": {"preset": "playground"}, "vary": {"init.method": PLAYGROUND_INITS}}
    return run_sweep(http, body)


def playground_records(http: httpx.Client, sweep: dict[str, Any], init: str) -> list[dict]:
    job_id = by_value(sweep, "init.method")[init]["job_id"]
    return records(http, job_id, fields="iteration,cost,train_accuracy,layers")


def test_zero_keeps_every_hidden_layers_units_identical_and_accuracy_at_chance(
    http: httpx.Client, playground: dict[str, Any]
) -> None:
    zero = playground_records(http, playground, "zero")
    assert [r["iteration"] for r in zero] == list(range(1001))
    for record in zero:
        assert [layer["unit_spread"] for layer in record["layers"][:-1]] == [0.0, 0.0]
        assert record["train_accuracy"] == 0.5
    summary = by_value(playground, "init.method")["zero"]["summary"]
    assert summary["train_accuracy"] == 0.5


def test_too_large_starts_far_above_ln2_and_stays_valid_json(
    http: httpx.Client, playground: dict[str, Any]
) -> None:
    job_id = by_value(playground, "init.method")["too_large"]["job_id"]

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in a metrics page")

    pages = [json.loads(page, parse_constant=refuse) for page in raw_pages(http, job_id)]
    first = pages[0]["records"][0]
    assert first["iteration"] == 0 and first["cost"] > 20 * LN2  # ~36x for seed 0
    assert sum(len(page["records"]) for page in pages) == 1001


def test_too_small_keeps_the_cost_at_ln2_for_100_iterations(
    http: httpx.Client, playground: dict[str, Any]
) -> None:
    costs = [r["cost"] for r in playground_records(http, playground, "too_small")[:101]]
    assert len(costs) == 101 and all(abs(c - LN2) <= 0.01 * LN2 for c in costs)


def test_appropriate_on_circle_reaches_cost_below_0_1_within_1000_iterations(
    http: httpx.Client, playground: dict[str, Any]
) -> None:
    costs = [r["cost"] for r in playground_records(http, playground, "appropriate")]
    assert min(costs) < 0.1 and len(costs) == 1001
    appropriate = by_value(playground, "init.method")["appropriate"]
    assert appropriate["iterations_to_target"] <= 1000
    assert appropriate["summary"]["final_cost"] < 0.1


def test_the_playground_sweep_ranks_the_four_inits_as_the_article_does(
    playground: dict[str, Any],
) -> None:
    assert playground["status"] == "succeeded" and len(playground["variations"]) == 4
    inits = by_value(playground, "init.method")
    assert playground["ranking"][0] == inits["appropriate"]["job_id"]
    assert inits["zero"]["iterations_to_target"] is None
    assert inits["too_small"]["iterations_to_target"] is None
    assert all(v["summary"]["iterations_run"] == 1000 for v in inits.values())
    # layer 1 is relu(W x) with W = sqrt(s) * the same draws: its std scales with sqrt(s)
    first = {name: v["init_activation_std"][0] for name, v in inits.items()}
    assert first["zero"] == 0.0
    assert first["too_large"] == pytest.approx(10 * first["appropriate"], rel=1e-5)
    assert first["too_small"] == pytest.approx(first["appropriate"] / 10, rel=1e-5)


def test_nine_layers_scale_the_activations_by_exactly_a_per_layer(http: httpx.Client) -> None:
    sweep = run_sweep(http, {"base": {"preset": "nine_layers"}, "vary": {"init.scale": [0.5, 1.5]}})
    for a, variation in by_value(sweep, "init.scale").items():
        stds = variation["init_activation_std"][:9]  # the nine hidden layers
        ratios = [after / before for before, after in itertools.pairwise(stds)]
        assert ratios == pytest.approx([a] * 8, abs=1e-6)
        [first] = records(http, variation["job_id"], stop=0)
        grads = [layer["activation_grads"]["std"] for layer in first["layers"][:9]]
        assert [g / h for g, h in itertools.pairwise(grads)] == pytest.approx(
            [a] * 8, abs=1e-6
        )  # gradients flowing back scale by a per layer as well


@pytest.mark.slow
def test_mnist_trains_from_xavier_in_one_epoch_but_not_from_standard_normal(
    http: httpx.Client,
) -> None:
    body = {"base": {"preset": "mnist"}, "vary": {"init.method": ["xavier", "standard_normal"]}}
    sweep = run_sweep(http, body, timeout=300)
    inits = by_value(sweep, "init.method")
    xavier, normal = (inits[name]["summary"] for name in ("xavier", "standard_normal"))
    assert xavier["iterations_run"] == 100  # one epoch: 100 batches of 100
    assert xavier["train_accuracy"] >= 0.85  # ~0.88
    assert normal["train_accuracy"] < 0.5  # ~0.27
    assert sweep["ranking"][0] == inits["xavier"]["job_id"]


@pytest.mark.parametrize("hidden", [[256, 256, 256], [512, 512]])
def test_the_variance_theory_matches_linear_networks_within_10_percent(
    http: httpx.Client, hidden: list[int]
) -> None:
    spec = {
        "dataset": {"name": "mnist", "n_samples": 1000},
        "model": {"hidden": hidden, "activation": "linear"},
        "init": {"method": "lecun_normal"},
        "training": {"iterations": 0},
    }
    response = http.post("/v1/theory/variance", json=spec)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["samples"] == 1000 and len(report["layers"]) == len(hidden) + 1
    for layer in report["layers"][:-1]:  # the hidden layers, each >= 256 units wide
        for quantity in ("preactivations", "activation_grads"):
            values = layer[quantity]
            assert values["one_step"] == pytest.approx(values["measured"], rel=0.10)
    first = report["layers"][0]["preactivations"]
    assert first["article"] == pytest.approx(first["one_step"]) == first["mean_field"]
    holds = {check["name"]: check["holds"] for check in report["assumptions"]}
    assert holds["odd_activation_linear_at_zero"] and not holds["equal_widths"]
