"""Request ids, JSON request logs and /metrics, on the real app and a real Redis (no worker)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from store.lanes import lane_queues
from store.logs import JsonFormatter
from store.settings import Settings
from store.sync_store import JobStore


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics by (name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_a_sane_request_id_is_echoed_and_others_are_replaced(client: TestClient) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["X-Request-ID"] == "trace-42"
    for bad in ("two words", "x" * 129, "a;b<script>"):
        given = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert len(given) == 32 and given != bad
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert len(first) == 32 and first != second


def test_a_browser_page_may_read_the_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Origin": "https://a.example"})
    exposed = response.headers["access-control-expose-headers"]
    assert "X-Request-ID" in exposed and "Location" in exposed


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("api.access")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_each_request_is_one_json_log_line_with_its_request_id(
    client: TestClient, access_log: io.StringIO
) -> None:
    job = client.post("/v1/jobs", json={"training": {"iterations": 3}, "force": True}).json()
    response = client.get(f"/v1/jobs/{job['id']}", headers={"X-Request-ID": "req-7"})
    line = orjson.loads(access_log.getvalue().splitlines()[-1])
    assert line["request_id"] == "req-7" == response.headers["X-Request-ID"]
    assert line["route"] == "/v1/jobs/{job_id}" and line["job_id"] == job["id"]
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0


def test_request_latency_is_labelled_by_route_template_method_and_status(
    client: TestClient,
) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    for _ in range(3):
        assert client.get(f"/v1/jobs/{unknown}").status_code == 404
    client.get("/no/such/path")
    client.request("BREW", "/healthz")  # any token is a method: labels must stay bounded
    samples = scrape(client)
    labels = {("route", "/v1/jobs/{job_id}"), ("method", "GET"), ("status", "404")}
    assert samples[("initlab_http_request_duration_seconds_count", frozenset(labels))] >= 3
    paths = {dict(labels)["route"] for _, labels in samples if dict(labels).get("route")}
    assert "<unmatched>" in paths and not any(unknown in path for path in paths)
    methods = {dict(labels).get("method") for _, labels in samples} - {None}
    assert "OTHER" in methods and "BREW" not in methods


def test_jobs_by_status_and_queue_length_are_read_from_redis(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    queued = ("initlab_jobs", frozenset({("status", "queued")}))
    queue = ("initlab_queue_length", frozenset({("queue", "interactive")}))
    lists = lane_queues(api_settings, "interactive")
    before = scrape(client)
    for seed in range(2):  # no worker consumes this queue: both stay queued
        body = {"training": {"iterations": 3, "seed": seed}, "force": True}
        assert client.post("/v1/jobs", json=body).status_code == 202
    after = scrape(client)
    assert after[queued] == before[queued] + 2
    waiting = sum(store.redis.llen(name) for name in lists)
    assert after[queue] == before[queue] + 2 == waiting
    assert after[("initlab_store_up", frozenset())] == 1


def test_job_durations_come_from_the_store_so_every_api_process_agrees(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    count = ("initlab_job_duration_seconds_count", frozenset({("status", "failed")}))
    before = scrape(client)[count]
    job = client.post("/v1/jobs", json={"training": {"iterations": 4}, "force": True}).json()
    store.start(job["id"], 3)
    store.finish(job["id"], "failed", error={"type": "X", "message": "y"})
    assert scrape(client)[count] == before + 1
    other = redis.Redis.from_url(api_settings.redis_url)  # what another process would read
    assert int(other.hget("initlab:metrics:job_seconds:failed", "count") or 0) == before + 1
