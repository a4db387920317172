"""A job over the worker's memory ceiling (WORKER_MEMORY_BYTES) fails with a clear reason and
the worker process lives on to run the next job (a real prefork worker and API)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from scripts import launch
from scripts.redis_server import RedisServer
from tests.conftest import service_env

QUEUE = "initlab-memory"
CEILING = 1200 * 1024 * 1024  # a worker process: ~160 MB idle, ~400 MB for a playground job
# within the memory budget (10,000 x 3,000 activations, 2.4 M parameters), but each of the
# layer's arrays is 120 MB and the run peaks at ~1.7 GB of address space: over the ceiling
HEAVY = {
    "dataset": {"name": "mnist", "n_samples": 10_000},
    "model": {"hidden": [3000]},
    "optimizer": {"name": "sgd", "batch_size": 10_000},
    "training": {"iterations": 1},
    "record": {"histograms": {"every": 0}, "predictions": {"every": 0}},
}


def _ended(client: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def _children(pid: int) -> set[str]:
    """The pool processes of the worker whose main process is ``pid``."""
    stats = (Path(d) / "stat" for d in Path("/proc").glob("[0-9]*"))
    found = set()
    for stat in stats:
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if fields[1] == str(pid):
            found.add(stat.parent.name)
    return found


def _submit(client: httpx.Client, body: dict[str, Any]) -> str:
    response = client.post("/v1/jobs", json={**body, "force": True})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_a_job_over_the_ceiling_fails_and_the_worker_lives_on(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = service_env(redis_server.url, CELERY_QUEUE=QUEUE, WORKER_MEMORY_BYTES=str(CEILING))
    with (
        launch.celery_worker(redis_server.url, QUEUE, 1, tmp_path / "worker.log", env) as worker,
        launch.api_server(env, tmp_path / "api.log") as api,
        httpx.Client(base_url=api.url, timeout=30) as client,
    ):
        children = _children(worker.pid)
        failed = _ended(client, _submit(client, HEAVY))
        assert failed["status"] == "failed", failed
        assert failed["error"]["type"] == "MemoryError"
        assert f"ceiling of {CEILING:,} bytes (WORKER_MEMORY_BYTES)" in failed["error"]["message"]
        after = _ended(client, _submit(client, {"training": {"iterations": 20}}))
        assert after["status"] == "succeeded", after["error"]  # the same worker ran the next job
        assert worker.poll() is None and _children(worker.pid) == children  # none replaced
