"""A sweep's life: cancel, delete, 404 and 422 by id, the listing's pages, and a real cancel."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.sweep_helpers import PLAYGROUND, UNKNOWN, create
from tests.e2e.job_helpers import long_spec, wait_for


def test_cancel_ends_every_queued_job_then_conflicts(client: TestClient) -> None:
    sweep = create(client, {**PLAYGROUND, "force": True})
    response = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert response.headers["Location"] == f"/v1/sweeps/{sweep['id']}"
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
