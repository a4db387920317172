"""Sweeps: validation before any job exists, the side-by-side view, cancel and delete."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from redis.asyncio.client import Pipeline as AsyncPipeline
from redis.asyncio.client import Redis as AsyncRedis

from api.services.sweeps import sweep_status
from store.async_sweeps import cost_of
from store.codec import dumps
from store.sync_store import JobStore
from tests.api import errors
from tests.e2e.job_helpers import long_spec, wait_for

UNKNOWN = "0123456789abcdef0123456789abcdef"
PLAYGROUND = {"base": {"preset": "playground"}, "vary": {"init.method": ["zero", "appropriate"]}}


def create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/v1/sweeps/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def job_count(client: TestClient) -> int:
    return client.get("/v1/jobs").json()["count"]  # type: ignore[no-any-return]


def finish(store: JobStore, job_id: str, costs: list[float | None], status: str) -> None:
    """Write a run by hand: one record per cost (layer stds 1, 0.5), then end ``status``."""
    job = store.start(job_id, max_deliveries=3)
    assert job is not None
    layers = [{"layer": i + 1, "activations": {"std": 1.0 / (i + 1)}} for i in range(2)]
    records = [
        (i, dumps({"iteration": i, "epoch": 0.0, "cost": cost, "layers": layers}))
        for i, cost in enumerate(costs)
    ]
    store.append(job, records, [])
    store.finish(job_id, status, summary={"final_cost": costs[-1]})


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


def test_the_view_ranks_and_reports_each_variation(client: TestClient, store: JobStore) -> None:
    body = {
        "base": {"training": {"iterations": 2}},
        "vary": {"init.seed": [11, 12, 13]},
        "target_cost": 0.1,
    }
    sweep = create(client, body)
    slow, fast, failed = (v["job_id"] for v in sweep["variations"])
    finish(store, slow, [0.7, 0.5, 0.2], "succeeded")
    finish(store, fast, [0.7, 0.09, 0.05], "succeeded")
    assert client.get(f"/v1/sweeps/{sweep['id']}").json()["status"] == "running"
    finish(store, failed, [0.7, None], "failed")
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "mixed" and view["ranking"] == [fast, slow, failed]
    by_job = {v["job_id"]: v for v in view["variations"]}
    assert by_job[fast]["iterations_to_target"] == 1 and by_job[fast]["final_cost"] == 0.05
    assert by_job[slow]["iterations_to_target"] is None and by_job[slow]["final_cost"] == 0.2
    assert by_job[failed]["final_cost"] is None and by_job[failed]["status"] == "failed"
    assert all(v["init_activation_std"] == [1.0, 0.5] for v in view["variations"])
    assert client.get(f"/v1/sweeps/{sweep['id']}").json() == view  # cached results agree

    again = create(client, body)  # every spec has run: succeeded ones are reused at once
    statuses = [v["status"] for v in again["variations"]]
    assert statuses == ["succeeded", "succeeded", "queued"]
    reused = client.get(f"/v1/jobs/{again['variations'][1]['job_id']}").json()
    assert reused["reused_from"] == fast and again["ranking"][0] == reused["id"]
    client.delete(f"/v1/jobs/{fast}")  # its cached results go with it
    gone = {v["job_id"]: v for v in client.get(f"/v1/sweeps/{sweep['id']}").json()["variations"]}
    assert gone[fast]["status"] == "deleted" and gone[fast]["iterations_to_target"] is None
    assert gone[fast]["init_activation_std"] is None and gone[fast]["final_cost"] is None


def test_cancel_ends_every_queued_job_then_conflicts(client: TestClient) -> None:
    sweep = create(client, {**PLAYGROUND, "force": True})
    response = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert {v["status"] for v in response.json()["variations"]} == {"cancelled"}
    assert client.post(f"/v1/sweeps/{sweep['id']}/cancel").status_code == 409


def test_delete_removes_the_sweep_and_its_jobs(client: TestClient) -> None:
    sweep = create(client, {**PLAYGROUND, "force": True})
    assert client.delete(f"/v1/sweeps/{sweep['id']}").status_code == 204
    assert client.get(f"/v1/sweeps/{sweep['id']}").status_code == 404
    for variation in sweep["variations"]:
        assert client.get(f"/v1/jobs/{variation['job_id']}").status_code == 404
    assert client.delete(f"/v1/sweeps/{sweep['id']}").status_code == 404
    assert sweep["id"] not in [s["id"] for s in client.get("/v1/sweeps").json()["data"]]


def test_a_deleted_job_shows_as_deleted(client: TestClient) -> None:
    sweep = create(client, {**PLAYGROUND, "force": True})
    client.delete(f"/v1/jobs/{sweep['variations'][0]['job_id']}")
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert [v["status"] for v in view["variations"]] == ["deleted", "queued"]


@pytest.mark.parametrize("path", ["", "/cancel"])
def test_an_unknown_sweep_is_a_404_and_a_malformed_id_a_422(client: TestClient, path: str) -> None:
    method = client.post if path else client.get
    response = method(f"/v1/sweeps/{UNKNOWN}{path}")
    assert response.status_code == 404 and UNKNOWN in response.json()["detail"]
    response = method(f"/v1/sweeps/nope{path}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "sweep_id"]
    assert client.delete(f"/v1/sweeps/{UNKNOWN}").status_code == 404


def test_sweeps_are_listed_newest_first_and_paged(client: TestClient) -> None:
    ids = []
    for seed in (21, 22, 23):
        ids.append(create(client, {"vary": {"init.seed": [seed]}, "force": True})["id"])
        time.sleep(0.002)
    page = client.get("/v1/sweeps?limit=2").json()
    assert [s["id"] for s in page["data"]] == ids[:0:-1] and page["next"] == ids[1]
    after = client.get(f"/v1/sweeps?limit=2&cursor={page['next']}").json()
    assert after["data"][0]["id"] == ids[0] and page["count"] >= 3


def round_trips(client: TestClient, path: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times the app waits on Redis while answering GET ``path``."""
    trips = 0
    command, execute = AsyncRedis.execute_command, AsyncPipeline.execute

    async def counted_command(self: AsyncRedis, *args: Any, **options: Any) -> Any:
        nonlocal trips
        trips += not isinstance(self, AsyncPipeline)  # a pipeline's commands only queue
        return await command(self, *args, **options)

    async def counted_execute(self: AsyncPipeline, *args: Any, **options: Any) -> Any:
        nonlocal trips
        trips += 1
        return await execute(self, *args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncRedis, "execute_command", counted_command)
        patch.setattr(AsyncPipeline, "execute", counted_execute)
        assert client.get(path).status_code == 200
    return trips


def test_a_listing_reads_its_sweeps_together(
    client: TestClient, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweeps = []
    for seeds in ([31, 32], [33], [34, 35, 36]):
        sweep = create(client, {"vary": {"init.seed": seeds}, "force": True})
        for k, variation in enumerate(sweep["variations"]):
            finish(store, variation["job_id"], [0.7, 0.3 / (k + 1)], "succeeded")
        sweeps.append(sweep["id"])
        time.sleep(0.002)
    listed = client.get("/v1/sweeps?limit=3").json()["data"]  # learns every sweep's results
    assert [s["id"] for s in listed] == sweeps[::-1]
    assert listed == [client.get(f"/v1/sweeps/{sweep_id}").json() for sweep_id in sweeps[::-1]]
    assert [len(s["variations"]) for s in listed] == [3, 1, 2]
    assert all(v["init_activation_std"] == [1.0, 0.5] for s in listed for v in s["variations"])
    one = round_trips(client, "/v1/sweeps?limit=1", monkeypatch)
    assert round_trips(client, "/v1/sweeps?limit=3", monkeypatch) == one  # not one per sweep


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["queued", "queued"], "queued"),
        (["queued", "succeeded"], "running"),
        (["running", "failed"], "running"),
        (["succeeded", "succeeded", "deleted"], "succeeded"),
        (["cancelled", "cancelled"], "cancelled"),
        (["succeeded", "failed"], "mixed"),
        (["deleted"], "cancelled"),
    ],
)
def test_the_sweep_status_aggregates_its_jobs(statuses: list[str], expected: str) -> None:
    assert sweep_status(statuses) == expected


def test_the_cost_is_read_from_a_record_without_parsing_it_all() -> None:
    assert cost_of(b'{"iteration":3,"epoch":0.5,"cost":0.25,"layers":[]}') == 0.25
    assert cost_of(b'{"iteration":3,"epoch":0.5,"cost":null}') is None
    assert cost_of(b'{"cost":1e-05,"iteration":3}') == 1e-05  # another order: parsed


@pytest.mark.e2e
def test_cancelling_a_running_sweep_stops_its_jobs(api_client: httpx.Client) -> None:
    base = long_spec(100_000, 1000)
    base.pop("force")
    body = {"base": base, "vary": {"init.seed": [1, 2]}, "force": True}
    response = api_client.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    sweep = response.json()
    for variation in sweep["variations"]:
        wait_for(api_client, variation["job_id"], {"running"})
    assert api_client.post(f"/v1/sweeps/{sweep['id']}/cancel").status_code == 202
    for variation in sweep["variations"]:
        assert wait_for(api_client, variation["job_id"], timeout=5)["status"] == "cancelled"
    view = api_client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "cancelled" and all(
        v["final_cost"] is None for v in view["variations"]
    )
