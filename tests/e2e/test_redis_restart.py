"""Redis restarted while a job runs: 503s while it is down, then the job finishes, whole.

The test has its own redis-server (append-only, so the data survives the restart) on a free
port, its own worker process and its own app: never the session's server, never 6379.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from scripts.redis_server import RedisServer
from store.keys import Keys
from store.settings import Settings
from tests.conftest import celery_worker_process
from tests.e2e.job_helpers import all_iterations, long_spec, submit, wait_for, wait_for_records

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ITERATIONS, EVERY = 60_000, 100  # about 5 s of training, recorded 601 times
OUTAGE_SECONDS = 2.0  # well within heartbeat_grace_seconds (30): the job is not reaped


def store_up(client: TestClient) -> str:
    lines = client.get("/metrics").text.splitlines()
    return next(line for line in lines if line.startswith("initlab_store_up ")).split()[1]


def test_a_running_job_finishes_whole_across_a_redis_restart(tmp_path: Path) -> None:
    server = RedisServer(data_dir=tmp_path / "redis", persist=True)  # a free port of its own
    queue = "initlab-restart"
    settings = Settings(redis_url=server.url, celery_queue=queue)
    with (
        server,
        celery_worker_process(server.url, queue, 1, tmp_path),
        TestClient(create_app(settings)) as client,
    ):
        job = submit(client, long_spec(ITERATIONS, EVERY))
        wait_for_records(client, job["id"])
        before = client.get(f"/v1/jobs/{job['id']}").json()
        assert before["status"] == "running" and before["iteration"] < ITERATIONS

        port, stopped = server.port, time.monotonic()
        server.stop()
        for response in (
            client.get(f"/v1/jobs/{job['id']}"),
            client.get(f"/v1/jobs/{job['id']}/metrics"),
            client.post("/v1/jobs", json=long_spec(10)),
            client.get("/readyz"),
        ):
            assert response.status_code == 503, response.text
            assert response.json()["detail"].startswith("job store unavailable: ")
        assert store_up(client) == "0.0"  # /metrics itself stays up for the scraper
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))

        server.start()  # the same port and data directory
        assert server.port == port and client.get("/readyz").status_code == 200
        done = wait_for(client, job["id"], timeout=90)
        assert done["status"] == "succeeded", done
        assert all_iterations(client, job["id"]) == list(range(0, ITERATIONS + 1, EVERY))
        deliveries = redis.Redis.from_url(server.url).hget(Keys(job["id"]).job, "deliveries")
        assert deliveries == b"1"  # it rode the outage out: not lost, not run twice

        # the worker's broker connection came back too: a new job is consumed and runs
        after = submit(client, long_spec(200, 10))
        assert wait_for(client, after["id"], timeout=60)["status"] == "succeeded"
        assert store_up(client) == "1.0"
