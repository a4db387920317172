"""Settings reach the service: each set through the environment of a real API or worker.

Every test here starts its own processes (scripts/launch.py) on its own redis-server, so
counts start at zero and the session's stack never sees these settings.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from scripts import launch
from scripts.redis_server import RedisServer
from store.queue import make_celery
from store.settings import Settings
from tests.conftest import QUEUE, service_env
from tests.e2e.job_helpers import wait_for

pytestmark = pytest.mark.e2e

TINY = {"training": {"iterations": 20}, "record": {"boundary": {"every": 0},
                                                  "histograms": {"every": 0}}}  # fmt: skip
API_KEY_A1, API_KEY_A2, API_KEY_B = "a1-" + "x" * 20, "a2-" + "y" * 20, "b-" + "z" * 20


@contextmanager
def own_api(tmp_path: Path, **env: str) -> Iterator[tuple[httpx.Client, redis.Redis]]:
    """uvicorn on a redis-server of its own, no worker: submitted jobs stay queued."""
    with RedisServer() as server, launch.api_server(
        service_env(server.url, **env), tmp_path / "api.log"
    ) as api, httpx.Client(base_url=api.url, timeout=30) as client:  # fmt: skip
        yield client, redis.Redis.from_url(server.url)


def job_keys(r: redis.Redis, job_id: str) -> list[bytes]:
    return list(r.scan_iter(match=f"initlab:job:{job_id}*"))


def assert_ttls(r: redis.Redis, keys: list[bytes], ttl: int) -> None:
    """Every key expires, within the configured TTL and not long before it."""
    assert keys
    for key in keys:
        left = r.ttl(key)
        assert ttl - 120 < left <= ttl + 1, (key, left)  # +1: expire_at is whole seconds


def test_job_ttl_is_on_every_key_of_a_job_a_sweep_and_a_reuse_copy(tmp_path: Path) -> None:
    ttl = 900  # far from the 7-day default and from any constant a route might hard-code
    env = {"JOB_TTL_SECONDS": str(ttl), "METRICS_PAGE_DEFAULT": "4", "METRICS_PAGE_MAX": "6"}
    queue = f"{QUEUE}-ttl"
    with launch.service_stack(queue, tmp_path, **env) as stack, httpx.Client(
        base_url=stack.api.url, timeout=30
    ) as client:  # fmt: skip
        r = redis.Redis.from_url(stack.redis.url)
        first = client.post("/v1/jobs", json=TINY).json()
        assert wait_for(client, first["id"])["status"] == "succeeded"
        keys = job_keys(r, first["id"])
        assert {k.decode().rsplit(":", 1)[-1] for k in keys} >= {"records", "params", "dataset"}
        assert_ttls(r, keys, ttl)
        assert_ttls(r, list(r.scan_iter(match="initlab:spec:*")), ttl)

        copy = client.post("/v1/jobs", json=TINY).json()
        assert copy["reused_from"] == first["id"]
        assert_ttls(r, job_keys(r, copy["id"]), ttl)

        body = {"base": TINY, "vary": {"init.method": ["he_normal", "lecun_normal"]}}
        sweep = client.post("/v1/sweeps", json=body).json()
        for variation in sweep["variations"]:
            wait_for(client, variation["job_id"])
            assert_ttls(r, job_keys(r, variation["job_id"]), ttl)
        assert_ttls(r, [f"initlab:sweep:{sweep['id']}".encode()], ttl)

        # METRICS_PAGE_DEFAULT / _MAX: 21 records come 4 to a page, 6 at most
        metrics = f"/v1/jobs/{first['id']}/metrics"
        page = client.get(metrics).json()
        assert len(page["records"]) == 4 and page["next"] == 4
        assert len(client.get(metrics, params={"limit": 6}).json()["records"]) == 6
        assert client.get(metrics, params={"limit": 7}).status_code == 422


def test_a_job_expires_after_job_ttl_seconds(tmp_path: Path) -> None:
    with own_api(tmp_path, JOB_TTL_SECONDS="2") as (client, r):
        job = client.post("/v1/jobs", json=TINY).json()
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 200
        assert 0 < r.ttl(f"initlab:job:{job['id']}") <= 3
        deadline = time.monotonic() + 10
        while client.get(f"/v1/jobs/{job['id']}").status_code != 404:
            assert time.monotonic() < deadline, "the job outlived its TTL"
            time.sleep(0.2)
        assert not job_keys(r, job["id"])


def test_max_active_jobs_and_page_sizes_come_from_the_environment(tmp_path: Path) -> None:
    env = {"MAX_ACTIVE_JOBS": "3", "JOBS_PAGE_DEFAULT": "2", "JOBS_PAGE_MAX": "3"}
    with own_api(tmp_path, **env) as (client, _):
        codes = [client.post("/v1/jobs", json={**TINY, "training": {"iterations": 30 + i}})
                 .status_code for i in range(4)]  # fmt: skip
        assert codes == [202, 202, 202, 429]  # queued jobs count from zero: 3 pass, not 4
        page = client.get("/v1/jobs").json()
        assert len(page["data"]) == 2 and page["next"] is not None and page["count"] == 3
        assert len(client.get("/v1/jobs", params={"limit": 3}).json()["data"]) == 3
        assert client.get("/v1/jobs", params={"limit": 4}).status_code == 422


def test_submission_rate_and_body_size_limits_come_from_the_environment(tmp_path: Path) -> None:
    with own_api(tmp_path, SUBMISSIONS_PER_MINUTE="2", MAX_BODY_BYTES="2048") as (client, _):
        big = {**TINY, "model": {"hidden": [1] * 2000}}
        assert client.post("/v1/jobs", json=big).status_code == 413
        codes = [client.post("/v1/jobs", json={**TINY, "training": {"iterations": 40 + i}})
                 .status_code for i in range(3)]  # fmt: skip
        assert codes == [202, 202, 429]


def pings(client: httpx.Client, url: str, seconds: float) -> list[float]:
    """Times (from the start) of the comment lines an idle event stream sends in ``seconds``."""
    seen: list[float] = []
    start = time.monotonic()
    timeout = httpx.Timeout(10, read=seconds)  # a silent stream ends the reading here
    with client.stream("GET", url, timeout=timeout) as response:
        assert response.status_code == 200
        try:
            for line in response.iter_lines():
                if line.startswith(":"):
                    seen.append(time.monotonic() - start)
                if time.monotonic() - start > seconds:
                    break
        except httpx.ReadTimeout:
            pass
    return seen


def test_sse_keepalive_pings_an_idle_stream_at_the_configured_interval(tmp_path: Path) -> None:
    with own_api(tmp_path, SSE_KEEPALIVE_SECONDS="0.5") as (client, _):
        job = client.post("/v1/jobs", json=TINY).json()  # no worker: it stays queued, idle
        seen = pings(client, f"/v1/jobs/{job['id']}/events", 3.2)
    assert len(seen) >= 3, seen  # every 0.5 s, not the default 15 s
    with own_api(tmp_path) as (client, _):
        job = client.post("/v1/jobs", json=TINY).json()
        assert pings(client, f"/v1/jobs/{job['id']}/events", 2.0) == []  # the default: 15 s


@contextmanager
def worker_stats(
    tmp_path: Path, node: str, queue: str, *options: str, **env: str
) -> Iterator[tuple[dict[str, Any], int]]:
    """A real worker started from ``env`` on its own Redis: (its ``inspect().stats()``, its
    main process id), once it answers a ping."""
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", *options,
            "-n", node, "--without-gossip", "--without-mingle"]  # fmt: skip
    with RedisServer() as server:
        process = launch.start_process(
            argv, {**service_env(server.url, **env), "CELERY_QUEUE": queue}, tmp_path / "worker.log"
        )
        app = make_celery(Settings(redis_url=server.url, celery_queue=queue))
        try:
            deadline = time.monotonic() + 60
            while not app.control.ping(destination=[node], timeout=0.5):
                assert process.poll() is None and time.monotonic() < deadline, "no worker"
            stats: dict[str, Any] = app.control.inspect([node], timeout=5).stats() or {}
            yield stats[node], process.pid
        finally:
            app.close()
            launch.stop_process(process)


def test_worker_concurrency_sets_the_worker_processes(tmp_path: Path) -> None:
    """A worker started as `make serve` and the README start it: concurrency from the env."""
    queue, node = f"{QUEUE}-concurrency", f"{QUEUE}-concurrency@localhost"
    with worker_stats(tmp_path, node, queue, "-Q", queue, WORKER_CONCURRENCY="3") as (stats, _):
        assert stats["pool"]["max-concurrency"] == 3


def niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


@pytest.mark.parametrize(("lane", "nice"), [("batch", 7), ("interactive", 0)])
def test_batch_nice_lowers_only_the_batch_lanes_processes(
    tmp_path: Path, lane: str, nice: int
) -> None:
    queue, node = f"{QUEUE}-nice", f"{QUEUE}-nice-{lane}@localhost"
    env = {"WORKER_LANE": lane, "BATCH_NICE": "7", "BATCH_CONCURRENCY": "2",
           "INTERACTIVE_CONCURRENCY": "2"}  # fmt: skip
    with worker_stats(tmp_path, node, queue, **env) as (stats, pid):
        children = stats["pool"]["processes"]
        assert len(children) == 2
        base = niceness(pid)  # the consumer's: the test's own (a niced run's too)
        assert [niceness(child) for child in children] == [min(base + nice, 19)] * 2


@pytest.mark.parametrize("module", ["worker", "api"])
def test_a_visibility_timeout_below_the_time_limits_stops_the_start(
    tmp_path: Path, module: str
) -> None:
    """The broker would hand a still-running task to a second worker: refuse to start."""
    argv = {
        "worker": [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker",
                   "-n", f"{QUEUE}-bad@localhost", "--without-gossip", "--without-mingle"],
        "api": [sys.executable, "-m", "uvicorn", "api.main:app", "--port", "0"],
    }[module]  # fmt: skip
    env = service_env("redis://127.0.0.1:1/0", BROKER_VISIBILITY_TIMEOUT="1000",
                      TASK_SOFT_TIME_LIMIT="1740", TASK_TIME_LIMIT="1800")  # fmt: skip
    log = tmp_path / f"{module}.log"
    process = launch.start_process(argv, env, log)
    try:
        code = process.wait(timeout=60)
    finally:
        launch.stop_process(process)
    assert code != 0
    assert "broker_visibility_timeout" in log.read_text()


def test_two_keys_of_one_name_share_their_jobs(tmp_path: Path) -> None:
    """Key rotation: alice's old and new key see and act on the same jobs; bob's sees none."""
    keys = f"alice:{API_KEY_A1},alice:{API_KEY_A2},bob:{API_KEY_B}"
    with own_api(tmp_path, API_KEYS=keys) as (client, _):
        old, new, bob = ({"X-API-Key": k} for k in (API_KEY_A1, API_KEY_A2, API_KEY_B))
        job = client.post("/v1/jobs", json=TINY, headers=old).json()
        assert client.get(f"/v1/jobs/{job['id']}", headers=new).status_code == 200
        listed = client.get("/v1/jobs", headers=new).json()["data"]
        assert [j["id"] for j in listed] == [job["id"]]
        assert client.get(f"/v1/jobs/{job['id']}", headers=bob).status_code == 404
        assert client.get("/v1/jobs", headers=bob).json()["data"] == []
        assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=new).status_code == 202
