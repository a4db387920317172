"""Workers that die: the job is redelivered, or reported failed; never left running."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from scripts import launch
from scripts.redis_server import RedisServer
from store.keys import Keys
from store.settings import Settings
from tests.conftest import celery_worker_process, service_env
from tests.e2e.job_helpers import all_iterations, long_spec, submit, wait_for, wait_for_records

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def worker_pid(redis_url: str, job_id: str) -> int:
    name = redis.Redis.from_url(redis_url).hget(Keys(job_id).job, "worker")
    assert name is not None
    return int(name.decode().rpartition(":")[2])


def test_a_killed_worker_process_hands_its_job_to_another(
    api_client: httpx.Client, redis_server: RedisServer
) -> None:
    job = submit(api_client, long_spec(40_000, 100))
    wait_for_records(api_client, job["id"])
    os.kill(worker_pid(redis_server.url, job["id"]), signal.SIGKILL)
    done = wait_for(api_client, job["id"], timeout=60)
    assert done["status"] == "succeeded"
    assert all_iterations(api_client, job["id"]) == list(range(0, 40_001, 100))
    deliveries = redis.Redis.from_url(redis_server.url).hget(Keys(job["id"]).job, "deliveries")
    assert deliveries == b"2"


def test_a_job_whose_worker_is_gone_is_reported_failed(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    queue = "initlab-doomed"
    beat = {"HEARTBEAT_SECONDS": "0.2", "HEARTBEAT_GRACE_SECONDS": "1"}
    settings = Settings(
        redis_url=redis_server.url,
        celery_queue=queue,
        heartbeat_seconds=0.2,
        heartbeat_grace_seconds=1.0,
    )
    env = service_env(redis_server.url, CELERY_QUEUE=queue, **beat)
    with (
        celery_worker_process(redis_server.url, queue, 1, tmp_path, **beat) as worker,
        launch.reaper(env, tmp_path / "reaper.log"),
        TestClient(create_app(settings)) as client,
    ):
        job = client.post("/v1/jobs", json=long_spec(100_000)).json()
        deadline = time.monotonic() + 30
        while client.get(job["links"]["self"]).json()["iteration"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)  # the whole worker: no one to redeliver to
        lost = time.monotonic()
        while (status := client.get(job["links"]["self"]).json())["status"] == "running":
            assert time.monotonic() - lost < 5, "a job without a worker stayed running"
            time.sleep(0.05)
    assert status["status"] == "failed" and status["error"]["type"] == "WorkerLost"
    assert "no heartbeat" in status["error"]["message"] and status["finished_at"]


def test_a_job_over_the_time_limit_fails_with_a_clear_error(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    queue = "initlab-limited"
    limits = {"TASK_SOFT_TIME_LIMIT": "1", "TASK_TIME_LIMIT": "5"}
    settings = Settings(redis_url=redis_server.url, celery_queue=queue)
    with (
        celery_worker_process(redis_server.url, queue, 1, tmp_path, **limits),
        TestClient(create_app(settings)) as client,
    ):
        job = client.post("/v1/jobs", json=long_spec(100_000)).json()
        deadline = time.monotonic() + 30
        while (status := client.get(job["links"]["self"]).json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert status["status"] == "failed" and status["error"]["type"] == "SoftTimeLimitExceeded"
    assert status["error"]["message"] == "ran over the time limit of 1 s"
    assert 0 < status["iteration"] < 100_000  # the records written before it stay
