"""Lanes end to end: real workers per lane, a real API, real Redis.

A short job overtakes long ones that fill the batch lane; one key's sweep does not hold up
another key's job (one batch worker process, round-robin over the lane's shares); a queued
job's JSON says where it stands while the worker is busy; a lane's concurrency setting
reaches its worker.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.spec import resolve
from scripts import launch
from scripts.redis_server import RedisServer
from store.lanes import lane_of, lane_queues, share_of
from store.queue import make_celery
from store.settings import Settings
from tests.conftest import service_env
from tests.e2e.job_helpers import long_spec, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KEYS = {"alice": "alice-key-0123456789", "bob": "bob-key-0123456789ab"}
# ~0.25 s each: 3,000 steps of the 2-6-3-1 network, no boundary grids
SMALL = {
    "preset": "playground",
    "training": {"iterations": 3000},
    "record": {"every": 100, "boundary": {"every": 0}, "histograms": {"every": 0}},
}
_seed = itertools.count(5000)


def test_a_short_job_overtakes_long_ones_that_fill_the_batch_lane(
    api_client: httpx.Client,
) -> None:
    longs = [long_spec(100_000) for _ in range(2)]  # the session's batch worker: 2 processes
    spec = {key: value for key, value in longs[0].items() if key != "force"}
    assert lane_of(resolve(spec).work_flops(), Settings()) == "batch"
    running = [submit(api_client, body) for body in longs]
    try:
        for job in running:
            wait_for(api_client, job["id"], {"running"})
        short = submit(api_client, {"preset": "playground", "training": {"seed": next(_seed)}})
        assert wait_for(api_client, short["id"], timeout=30)["status"] == "succeeded"
        for job in running:  # both long ones still hold the batch lane
            assert api_client.get(job["links"]["self"]).json()["status"] == "running"
    finally:
        for job in running:
            api_client.post(f"/v1/jobs/{job['id']}/cancel")


@pytest.fixture(scope="module")
def fair_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Its own Redis, one batch worker of one process, an API with two keys; every job is
    batch (the interactive threshold is 1 flop)."""
    logs = tmp_path_factory.mktemp("fair")
    queue = "initlab-fair"
    with RedisServer() as server, ExitStack() as children:
        env = {
            **os.environ, "REDIS_URL": server.url, "CELERY_QUEUE": queue,
            "API_KEYS": ",".join(f"{name}:{key}" for name, key in KEYS.items()),
            "INTERACTIVE_MAX_FLOPS": "1", "BATCH_CONCURRENCY": "1",
        }  # fmt: skip
        worker = launch.celery_worker(
            server.url, queue, None, logs / "worker.log", env, None, "batch"
        )
        children.enter_context(worker)
        yield children.enter_context(launch.api_server(env, logs / "api.log")).url


def keyed(url: str, name: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-API-Key": KEYS[name]}, timeout=30)


def test_one_keys_sweep_does_not_hold_up_another_keys_job(fair_api: str) -> None:
    shares = Settings().lane_shares
    assert share_of("alice", shares) != share_of("bob", shares)  # else they share one list
    with keyed(fair_api, "alice") as alice, keyed(fair_api, "bob") as bob:
        vary = {"training.seed": [next(_seed) for _ in range(32)]}
        response = alice.post("/v1/sweeps", json={"base": SMALL, "vary": vary, "force": True})
        assert response.status_code == 202, response.text
        sweep = response.json()
        ids = [variation["job_id"] for variation in sweep["variations"]]
        training = {**SMALL["training"], "seed": next(_seed)}  # type: ignore[dict-item]
        job = submit(bob, {**SMALL, "training": training, "force": True})
        try:
            # where they stand, read while the one worker process runs alice's first jobs
            mine = bob.get(job["links"]["self"]).json()
            last = alice.get(f"/v1/jobs/{ids[-1]}").json()
            assert mine["status"] == last["status"] == "queued"
            assert mine["queue"]["lane"] == last["queue"]["lane"] == "batch"
            assert mine["queue"]["position"] <= 1  # alone in its list; alice's next may go first
            assert last["queue"]["position"] >= 20  # behind the rest of her sweep
            done = wait_for(bob, job["id"], timeout=60)
            assert done["status"] == "succeeded"
            starts = [alice.get(f"/v1/jobs/{i}").json()["started_at"] for i in ids]
            before = [s for s in starts if s is not None and s < done["started_at"]]
            assert len(before) <= 2, f"{len(before)} of alice's jobs started before bob's"
            # the lane has ended jobs now: a queued job has an estimated start, later for later jobs
            waiting = [alice.get(f"/v1/jobs/{i}").json() for i in ids[-2:]]
            if all(job["status"] == "queued" for job in waiting):
                at = [datetime.fromisoformat(j["queue"]["estimated_start"]) for j in waiting]
                assert at[0] < at[1] and done["finished_at"] < at[0].isoformat()
        finally:
            alice.post(f"/v1/sweeps/{sweep['id']}/cancel")


def test_a_lanes_concurrency_setting_reaches_its_worker(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    queue = "initlab-concurrency"
    env = service_env(
        redis_server.url, BATCH_CONCURRENCY="3", INTERACTIVE_CONCURRENCY="1", WORKER_CONCURRENCY="2"
    )
    settings = Settings(redis_url=redis_server.url, celery_queue=queue)
    app = make_celery(settings)
    node = launch.worker_node(queue, "batch")
    try:
        with launch.celery_worker(
            redis_server.url, queue, None, tmp_path / "w.log", env, lane="batch"
        ):
            inspect = app.control.inspect(destination=[node], timeout=5)
            stats: dict[str, Any] = inspect.stats() or {}
            queues: dict[str, Any] = inspect.active_queues() or {}
    finally:
        app.close()
    assert stats[node]["pool"]["max-concurrency"] == 3
    assert sorted(q["name"] for q in queues[node]) == sorted(lane_queues(settings, "batch"))
