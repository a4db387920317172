"""The jobs resource in-process: creation, 404s, 409s, listing, and what the docs show."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from worker.config import Settings
from worker.store import dumps
from worker.sync_store import JobStore

UNKNOWN = "0123456789abcdef0123456789abcdef"


def submit(client: TestClient, **body: object) -> dict:
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def test_a_submission_is_accepted_queued_and_located(client: TestClient) -> None:
    response = client.post("/v1/jobs", json={"preset": "playground", "init": {"method": "zero"}})
    assert response.status_code == 202
    job = response.json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}" == job["links"]["self"]
    assert job["status"] == "queued" and job["progress"] == 0.0 and job["iteration"] is None
    assert job["spec"]["init"]["method"] == "zero" and job["spec"]["training"]["iterations"] == 1000
    assert job["started_at"] is None and job["summary"] is None and job["error"] is None
    assert client.get(job["links"]["self"]).json() == job


def test_an_identical_spec_returns_the_stored_job_unless_forced(client: TestClient) -> None:
    body = {"training": {"iterations": 7}}
    first = submit(client, **body)
    again = client.post("/v1/jobs", json=body)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    forced = submit(client, **body, force=True)
    assert forced["id"] != first["id"] and forced["spec_hash"] == first["spec_hash"]


@pytest.mark.parametrize("path", ["", "/metrics", "/events", "/parameters", "/dataset"])
def test_an_unknown_job_is_a_404(client: TestClient, path: str) -> None:
    for job_id in (UNKNOWN, "no-such-job"):
        response = client.get(f"/v1/jobs/{job_id}{path}")
        assert response.status_code == 404 and job_id in response.json()["detail"]


def test_cancel_and_delete_of_an_unknown_job_are_404s(client: TestClient) -> None:
    assert client.post(f"/v1/jobs/{UNKNOWN}/cancel").status_code == 404
    assert client.delete(f"/v1/jobs/{UNKNOWN}").status_code == 404


@pytest.mark.parametrize("final", ["succeeded", "failed", "cancelled"])
def test_cancelling_a_finished_job_is_a_conflict(
    client: TestClient, store: JobStore, final: str
) -> None:
    job = submit(client, training={"iterations": 11}, force=True)
    store.finish(job["id"], final, ("queued",))
    response = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 409 and final in response.json()["detail"]


def test_cancelling_a_queued_job_ends_it_at_once(client: TestClient) -> None:
    job = submit(client, training={"iterations": 12}, force=True)
    response = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 409


def test_delete_then_404(client: TestClient) -> None:
    job = submit(client, training={"iterations": 13}, force=True)
    assert client.delete(job["links"]["self"]).status_code == 204
    assert client.get(job["links"]["self"]).status_code == 404
    assert client.delete(job["links"]["self"]).status_code == 404


def test_parameters_and_dataset_say_why_they_are_missing(client: TestClient) -> None:
    job = submit(client, training={"iterations": 14}, force=True)
    assert "no snapshot yet" in client.get(job["links"]["parameters"]).json()["detail"]
    assert "no dataset yet" in client.get(job["links"]["dataset"]).json()["detail"]
    mnist = submit(client, preset="mnist", training={"iterations": 1}, force=True)
    assert "image dataset" in client.get(mnist["links"]["dataset"]).json()["detail"]


def test_the_listing_filters_by_status_and_pages(client: TestClient) -> None:
    ids = [submit(client, training={"iterations": 20 + i}, force=True)["id"] for i in range(3)]
    client.post(f"/v1/jobs/{ids[1]}/cancel")
    page = client.get("/v1/jobs?limit=2").json()
    assert [job["id"] for job in page["data"]] == [ids[2], ids[1]] and page["next"] == ids[1]
    after = client.get(f"/v1/jobs?limit=2&cursor={page['next']}").json()
    assert after["data"][0]["id"] == ids[0]
    cancelled = client.get("/v1/jobs?status=cancelled").json()
    assert ids[1] in [job["id"] for job in cancelled["data"]]
    assert all(job["status"] == "cancelled" for job in cancelled["data"])


def test_non_finite_numbers_are_written_as_null(client: TestClient, store: JobStore) -> None:
    job = submit(client, training={"iterations": 15}, force=True)
    summary = {"final_cost": math.nan, "diverged": True, "best": math.inf}
    store.finish(job["id"], "succeeded", ("queued",), summary=summary)
    response = client.get(job["links"]["self"])
    assert b"NaN" not in response.content and b"Infinity" not in response.content
    assert response.json()["summary"] == {"final_cost": None, "diverged": True, "best": None}
    assert dumps(math.nan) == b"null"


def test_too_many_active_jobs_is_a_429(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"max_active_jobs": 1})
    with TestClient(create_app(settings)) as client:
        client.post("/v1/jobs", json={"training": {"iterations": 16}, "force": True})
        response = client.post("/v1/jobs", json={"training": {"iterations": 17}})
    assert response.status_code == 429


def test_cors_allows_the_configured_origins(client: TestClient) -> None:
    allowed = client.get("/healthz", headers={"Origin": "https://a.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    other = client.get("/healthz", headers={"Origin": "https://b.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_has_readable_ids_tags_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/v1/jobs"]["post"]
    assert create["operationId"] == "jobs-create_job" and create["tags"] == ["jobs"]
    schema = spec["components"]["schemas"]["JobCreate"]
    assert schema["examples"][0]["preset"] == "playground"
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"events-stream_events", "catalog-read_catalog", "health-readyz"} <= ids


def test_health_catalog_and_presets(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    catalog = client.get("/v1/catalog").json()
    assert {"initializers", "activations", "optimizers", "datasets", "presets"} <= set(catalog)
    presets = client.get("/v1/presets").json()
    assert "playground" in [p["name"] for p in presets["data"]]
    assert presets["count"] == len(presets["data"])


def test_the_variance_theory_answers_synchronously(client: TestClient) -> None:
    response = client.post("/v1/theory/variance", json={"preset": "nine_layers"})
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), dict)
