"""Submissions go to their lane's queue; a queued job's JSON says where it stands (no worker
consumes these queues, so every job stays queued)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import redis
from fastapi.testclient import TestClient

from engine.spec import resolve
from store.keys import Keys, lane_runs_key
from store.lanes import lane_queues, route
from store.settings import Settings
from store.sync_store import JobStore


def submit(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/jobs", json={**body, "force": True})
    assert response.status_code == 202, response.text
    return cast(dict[str, Any], response.json())


def queued_in(store: JobStore, job_id: str) -> str:
    return cast(bytes, store.redis.hget(Keys(job_id).job, "queue")).decode()


def test_a_job_goes_to_its_lanes_list_with_its_task(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    small = submit(client, {"preset": "playground", "training": {"seed": 11}})
    big = submit(client, {"preset": "mnist", "training": {"iterations": 3, "seed": 11}})
    subject = "ip:testclient"  # TestClient's address; auth is off
    flops = resolve({"preset": "playground"}).work_flops()
    assert queued_in(store, small["id"]) == route(api_settings, flops, subject)
    assert queued_in(store, big["id"]) in lane_queues(api_settings, "batch")
    assert queued_in(store, small["id"]) in lane_queues(api_settings, "interactive")
    tasks = store.redis.lrange(queued_in(store, big["id"]), 0, -1)
    assert any(big["id"].encode() in task for task in tasks)


def test_a_queued_job_says_its_lane_position_and_estimated_start(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    spec = {"preset": "nine_layers"}
    jobs = [submit(client, {**spec, "training": {"seed": 100 + i}}) for i in range(3)]
    queue = queued_in(store, jobs[0]["id"])
    before = store.redis.llen(queue) - 3  # earlier tests' tasks in the same list
    for i, job in enumerate(jobs):
        standing = client.get(job["links"]["self"]).json()["queue"]
        assert standing["lane"] == "interactive"
        assert standing["position"] == before + i  # alone in its lane: a FIFO list
        assert standing["estimated_start"] is None  # the lane has ended no job yet
    store.redis.hset(lane_runs_key("interactive"), mapping={"count": 4, "sum": 8.0})
    try:
        now = datetime.now(UTC)
        standing = client.get(jobs[2]["links"]["self"]).json()["queue"]
        waited = (datetime.fromisoformat(standing["estimated_start"]) - now).total_seconds()
        concurrency = api_settings.interactive_concurrency
        expected = 2.0 * ((before + 2) / concurrency + 0.5)  # mean 2 s a run
        assert abs(waited - expected) < 1.0
    finally:
        store.redis.delete(lane_runs_key("interactive"))


def test_reading_a_queued_job_writes_nothing(client: TestClient, store: JobStore) -> None:
    job = submit(client, {"preset": "nine_layers", "training": {"seed": 7}})
    changes = changes_since_save(store.redis)
    for _ in range(3):
        assert client.get(job["links"]["self"]).json()["queue"] is not None
    assert changes_since_save(store.redis) == changes


def test_a_job_that_is_not_queued_has_no_standing(client: TestClient, store: JobStore) -> None:
    job = submit(client, {"preset": "nine_layers", "training": {"seed": 8}})
    store.transition(job["id"], "cancelled", ("queued",))
    assert client.get(job["links"]["self"]).json()["queue"] is None


def changes_since_save(client: redis.Redis) -> int:
    """Redis's count of writes since its last save: it moves on any write to any key."""
    return int(cast(dict[str, Any], client.info("persistence"))["rdb_changes_since_last_save"])
