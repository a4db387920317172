"""Jobs end to end: real uvicorn, real Redis, a real Celery worker with two processes."""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from scripts.redis_server import RedisServer
from tests.e2e.job_helpers import all_iterations, long_spec, submit, wait_for, wait_for_records

pytestmark = [pytest.mark.e2e]


def test_a_job_goes_queued_running_succeeded_with_one_record_per_iteration(
    api_client: httpx.Client,
) -> None:
    body = long_spec(20_000, 100)
    body["record"]["parameters"] = {"every": 5000}
    job = submit(api_client, body)
    statuses = [job["status"]]
    while statuses[-1] not in ("succeeded", "failed", "cancelled"):
        status = api_client.get(job["links"]["self"]).json()["status"]
        if status != statuses[-1]:
            statuses.append(status)
        time.sleep(0.01)
    assert statuses == ["queued", "running", "succeeded"]
    done = api_client.get(job["links"]["self"]).json()
    assert done["progress"] == 1.0 and done["iteration"] == 20_000 and done["error"] is None
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    summary = done["summary"]
    assert {
        "final_cost",
        "train_accuracy",
        "test_accuracy",
        "diverged",
        "diverged_at",
        "iterations_run",
    } <= set(summary)
    assert summary["iterations_run"] == 20_000 and summary["diverged"] is False

    expected = list(range(0, 20_001, 100))
    assert all_iterations(api_client, job["id"]) == expected
    assert all_iterations(api_client, job["id"], limit=37) == expected
    assert all_iterations(api_client, job["id"], every=5, limit=7) == expected[::5]
    page = api_client.get(f"{job['links']['metrics']}?start=1000&stop=1300&fields=cost").json()
    assert [set(r) for r in page["records"]] == [{"iteration", "cost"}] * 4

    params = api_client.get(job["links"]["parameters"]).json()
    assert params["iteration"] == 20_000
    assert [len(layer["weights"]) for layer in params["layers"]] == [6, 3, 1]
    assert len(params["layers"][0]["weights"][0]) == 2
    snapshot = api_client.get(f"{job['links']['parameters']}?iteration=5000").json()
    assert snapshot["iteration"] == 5000 and snapshot["layers"] != params["layers"]
    missing = api_client.get(f"{job['links']['parameters']}?iteration=50")
    assert missing.status_code == 404 and "0, 5000, 10000, 15000, 20000" in missing.text
    dataset = api_client.get(job["links"]["dataset"]).json()
    assert len(dataset["train"]["x"]) == len(dataset["train"]["y"]) == 100


@pytest.mark.slow
def test_two_workers_run_two_jobs_at_once(api_client: httpx.Client) -> None:
    first, second = (submit(api_client, long_spec(20_000)) for _ in range(2))
    a, b = (wait_for(api_client, job["id"]) for job in (first, second))
    assert a["status"] == b["status"] == "succeeded"
    assert max(a["started_at"], b["started_at"]) < min(a["finished_at"], b["finished_at"])


@pytest.mark.slow
def test_cancelling_a_long_job_ends_it_within_a_second_keeping_its_records(
    api_client: httpx.Client,
) -> None:
    job = submit(api_client, long_spec(100_000, 100))
    wait_for(api_client, job["id"], {"running"})
    wait_for_records(api_client, job["id"])
    asked = time.monotonic()
    response = api_client.post(f"{job['links']['self']}/cancel")
    assert response.status_code == 202
    done = wait_for(api_client, job["id"], timeout=5)
    assert done["status"] == "cancelled" and time.monotonic() - asked < 1.0
    assert done["summary"]["stopped"] is True and done["finished_at"]
    kept = all_iterations(api_client, job["id"])
    assert kept and kept == sorted(set(kept)) and kept[-1] < 100_000
    assert api_client.post(f"{job['links']['self']}/cancel").status_code == 409


@pytest.mark.slow
def test_a_job_cancelled_while_queued_never_runs(api_client: httpx.Client) -> None:
    # all batch-lane jobs (over INTERACTIVE_MAX_FLOPS), two to fill its two processes
    blockers = [submit(api_client, long_spec(100_000)) for _ in range(2)]
    for job in blockers:
        wait_for(api_client, job["id"], {"running"})
    queued = submit(api_client, long_spec(100_000))
    cancelled = api_client.post(f"{queued['links']['self']}/cancel").json()
    for job in blockers:
        api_client.post(f"{job['links']['self']}/cancel")
    assert cancelled["status"] == "cancelled"
    # one client's jobs of a lane share one list, first in, first out: once a later one is
    # done, the worker has seen ours
    later = submit(api_client, long_spec(52_000, 1000))  # just over the threshold: batch
    assert wait_for(api_client, later["id"], timeout=120)["status"] == "succeeded"
    after = api_client.get(queued["links"]["self"]).json()
    assert after["status"] == "cancelled" and after["started_at"] is None
    assert api_client.get(queued["links"]["metrics"]).json()["records"] == []


def test_a_deleted_job_is_gone(api_client: httpx.Client, redis_server: RedisServer) -> None:
    done = submit(api_client, long_spec(100))
    wait_for(api_client, done["id"])
    running = submit(api_client, long_spec(100_000))
    wait_for_records(api_client, running["id"])
    for job in (done, running):
        assert api_client.delete(job["links"]["self"]).status_code == 204
        for link in ("self", "metrics", "events", "parameters", "dataset"):
            assert api_client.get(job["links"][link]).status_code == 404
        assert api_client.delete(job["links"]["self"]).status_code == 404
    time.sleep(0.5)  # the worker has stopped the deleted run and written nothing back
    client = redis.Redis.from_url(redis_server.url)
    left = [key.decode() for key in client.scan_iter(match=f"*{running['id']}*")]
    assert left == [f"initlab:job:{running['id']}:cancel"]
    assert api_client.get(running["links"]["self"]).status_code == 404
