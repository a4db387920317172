"""The jobs resource in-process: creation, 404s, 409s, listing, and what the docs show."""

from __future__ import annotations

import math

import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from engine.spec import nested, resolve
from store.codec import dumps
from store.settings import Settings
from store.sync_store import JobStore
from tests.api.errors import locs

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
    assert job["reused_from"] is None and job["queue"] is None  # only GET says where it stands
    read = client.get(job["links"]["self"]).json()
    assert read.pop("queue")["lane"] == "interactive"
    assert {**read, "queue": None} == job


def succeed(store: JobStore, job_id: str) -> None:
    """Run a queued job by hand: two records, a snapshot, its dataset, then succeeded."""
    job = store.start(job_id, max_deliveries=3)
    assert job is not None
    records = [(i, dumps({"iteration": i, "epoch": 0.0, "cost": 0.7 - i})) for i in (0, 1)]
    snapshot = dumps({"iteration": 0, "layers": [{"weights": [[1.0]], "biases": [0.0]}]})
    store.append(job, records, [(0, snapshot)], dataset=dumps(DATASET), progress=1.0)
    store.finish(job_id, "succeeded", summary={"final_cost": -0.3, "iterations_run": 1})


DATASET = {"train": {"x": [[0.0, 1.0]], "y": [1]}, "test": {"x": [], "y": []}}


def test_a_spec_that_succeeded_is_answered_at_once_by_a_new_job_copying_it(
    client: TestClient, store: JobStore
) -> None:
    body = {"training": {"iterations": 7}}
    first = submit(client, **body)
    succeed(store, first["id"])
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202
    copy = response.json()
    assert response.headers["Location"] == f"/v1/jobs/{copy['id']}" != first["links"]["self"]
    assert copy["status"] == "succeeded" and copy["reused_from"] == first["id"]
    assert copy["progress"] == 1.0 and copy["summary"]["final_cost"] == -0.3
    assert copy["spec"] == first["spec"] and copy["created_at"] <= copy["finished_at"]
    records = client.get(first["links"]["metrics"]).json()["records"]
    assert client.delete(first["links"]["self"]).status_code == 204
    assert client.get(copy["links"]["metrics"]).json()["records"] == records
    assert len(records) == 2
    assert client.get(copy["links"]["parameters"]).json()["iteration"] == 0
    assert client.get(copy["links"]["dataset"]).json() == DATASET
    again = submit(client, **body)  # a copy of the copy names the job that ran
    assert again["reused_from"] == first["id"] and again["id"] != copy["id"]


def test_force_runs_a_spec_that_succeeded_again(client: TestClient, store: JobStore) -> None:
    first = submit(client, training={"iterations": 9})
    succeed(store, first["id"])
    forced = submit(client, training={"iterations": 9}, force=True)
    assert forced["status"] == "queued" and forced["reused_from"] is None
    assert forced["spec_hash"] == first["spec_hash"]


def test_an_identical_spec_still_queued_runs_as_a_new_job(client: TestClient) -> None:
    body = {"training": {"iterations": 8}}
    first, second = submit(client, **body), submit(client, **body)
    assert second["id"] != first["id"] and second["status"] == "queued"
    assert second["reused_from"] is None


@pytest.mark.parametrize("path", ["", "/metrics", "/events", "/parameters", "/dataset"])
def test_an_unknown_job_is_a_404_and_a_malformed_id_a_422(client: TestClient, path: str) -> None:
    response = client.get(f"/v1/jobs/{UNKNOWN}{path}")
    assert response.status_code == 404 and UNKNOWN in response.json()["detail"]
    for job_id in ("no-such-job", UNKNOWN.upper(), UNKNOWN + "0"):
        response = client.get(f"/v1/jobs/{job_id}{path}")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "job_id"]


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
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
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
    summary = response.json()["summary"]
    assert summary["final_cost"] is None and summary["diverged"] is True
    assert dumps(math.nan) == b"null"


def test_too_many_active_jobs_is_a_429(api_settings: Settings) -> None:
    """On a database of its own the count starts at zero: the limit's own jobs pass, one more
    does not (an off-by-one either way fails)."""
    url = api_settings.redis_url.rsplit("/", 1)[0] + "/5"
    redis.Redis.from_url(url).flushdb()
    settings = api_settings.model_copy(update={"max_active_jobs": 2, "redis_url": url})
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/v1/jobs", json={"training": {"iterations": 16 + i}}).status_code
                 for i in range(3)]  # fmt: skip
    redis.Redis.from_url(url).flushdb()
    assert codes == [202, 202, 429]


@pytest.mark.parametrize("outcome", ["failed", "cancelled", "deleted"])
def test_a_spec_whose_latest_job_did_not_succeed_runs_as_a_new_job(
    client: TestClient, store: JobStore, outcome: str
) -> None:
    body = {"training": {"iterations": {"failed": 21, "cancelled": 22, "deleted": 23}[outcome]}}
    first = submit(client, **body)
    if outcome == "failed":
        assert store.start(first["id"], max_deliveries=3) is not None
        store.finish(first["id"], "failed", error={"type": "RuntimeError", "message": "boom"})
    elif outcome == "cancelled":
        assert client.post(f"/v1/jobs/{first['id']}/cancel").status_code == 202
    else:
        succeed(store, first["id"])
        assert client.delete(first["links"]["self"]).status_code == 204
    if outcome != "deleted":
        assert client.get(first["links"]["self"]).json()["status"] == outcome
    again = submit(client, **body)
    assert again["id"] != first["id"] and again["status"] == "queued"
    assert again["reused_from"] is None and again["summary"] is None
    succeed(store, again["id"])  # the rule's other half: once it succeeds, it is reused
    assert submit(client, **body)["reused_from"] == again["id"]


def test_cors_allows_the_configured_origins(client: TestClient) -> None:
    allowed = client.get("/healthz", headers={"Origin": "https://a.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    other = client.get("/healthz", headers={"Origin": "https://b.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_has_readable_ids_tags_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/v1/jobs"]["post"]
    assert create["operationId"] == "createJob" and create["tags"] == ["jobs"]
    schema = spec["components"]["schemas"]["JobCreate"]
    assert schema["examples"][0]["preset"] == "playground"
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {
        "createJob", "getJob", "listJobs", "listJobMetrics", "streamJobEvents",
        "getJobParameters", "getJobDataset", "cancelJob", "deleteJob", "createSweep",
        "getSweep", "listSweeps", "cancelSweep", "deleteSweep", "getCatalog", "listPresets",
        "predictVariance", "getJobPlot", "getMnistImages", "previewDataset",
    } <= set(ids)  # fmt: skip
    assert all(op_id.isalnum() and op_id[0].islower() for op_id in ids)  # camelCase


def test_health_catalog_and_presets(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    catalog = client.get("/v1/catalog").json()
    assert {"initializers", "activations", "optimizers", "datasets", "presets"} <= set(catalog)
    presets = client.get("/v1/presets").json()
    assert "playground" in [p["name"] for p in presets["data"]]
    assert presets["count"] == len(presets["data"])


def test_every_preset_has_a_title_a_description_its_resolved_spec_and_variants(
    client: TestClient,
) -> None:
    presets = {p["name"]: p for p in client.get("/v1/presets").json()["data"]}
    assert set(presets) == {"playground", "nine_layers", "mnist", "glorot_2010", "he_2015",
                            "edge_of_chaos", "trainable_depth", "dynamical_isometry"}  # fmt: skip
    for name, preset in presets.items():
        assert preset["title"] and preset["description"] and preset["variants"]
        assert preset["spec"] == resolve({"preset": name}).model_dump(mode="json")
        for path, values in preset["variants"].items():
            for value in values:  # every variant is a valid job
                resolve({"preset": name, **nested(path, value)})
    assert presets["playground"]["variants"]["init.method"] == [
        "zero",
        "too_small",
        "appropriate",
        "too_large",
    ]


def test_the_variance_theory_reports_predictions_beside_measurements(client: TestClient) -> None:
    response = client.post("/v1/theory/variance", json={"preset": "nine_layers"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["activation"] == "linear" and len(report["layers"]) == 10
    for layer in report["layers"][:-1]:
        for quantity in ("preactivations", "activation_grads"):
            assert set(layer[quantity]) == {"article", "mean_field", "one_step", "measured"}
    holds = {check["name"]: check["holds"] for check in report["assumptions"]}
    assert holds["zero_mean_independent_weights"] is False  # W = a I is not random
    assert holds["equal_widths"] is True


def test_the_variance_theory_trains_nothing_so_iterations_cost_no_budget(
    client: TestClient,
) -> None:
    body = {
        "dataset": {"n_samples": 2000},
        "model": {"hidden": [512] * 6, "activation": "tanh"},
        "training": {"iterations": 100_000},
    }
    job = client.post("/v1/jobs", json=body)
    assert job.status_code == 422 and "budget" in job.json()["detail"][0]["msg"]  # to train
    response = client.post("/v1/theory/variance", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["layers"]) == 7


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"model": {"activation": "swish"}}, ["body", "model", "activation"]),
        ({"preset": "nope"}, ["body", "preset"]),
        ({"init": {"scale": -1}}, ["body", "init", "scale"]),
    ],
)
def test_the_variance_theory_refuses_a_bad_spec(
    client: TestClient, body: dict, loc: list[str]
) -> None:
    assert loc in locs(client.post("/v1/theory/variance", json=body))
