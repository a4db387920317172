"""Limits on the real app and Redis (database 5; no worker): rate, active jobs, body size."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from itertools import count
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from scripts.redis_server import RedisServer
from store.async_limits import AsyncLimits
from store.async_store import connect
from store.keys import PENDING_KEY
from store.settings import Settings
from tests.conftest import QUEUE

KEYS = {"alice": "alice-key-0123456789abcdef", "bob": "bob-key-0123456789abcdef00"}
A, B = ({"X-API-Key": KEYS[name]} for name in ("alice", "bob"))
_seed = count(1)


@pytest.fixture
def make_app(redis_server: RedisServer) -> Iterator[Any]:
    """Apps on one emptied database: ``make_app(**settings)`` -> a started TestClient."""
    url = f"redis://{redis_server.host}:{redis_server.port}/5"
    redis.Redis.from_url(url).flushdb()
    with ExitStack() as stack:

        def make(keys: bool = True, **fields: Any) -> TestClient:
            if keys:
                fields["api_keys"] = [f"{name}:{key}" for name, key in KEYS.items()]
            settings = Settings(redis_url=url, celery_queue=QUEUE + "-limits", **fields)
            return stack.enter_context(TestClient(create_app(settings)))

        yield make


def submit(client: TestClient, headers: dict[str, str] | None = None) -> Any:
    body = {"training": {"iterations": 1, "seed": next(_seed)}}
    return client.post("/v1/jobs", json=body, headers=headers)


def test_submissions_over_the_rate_get_429_with_retry_after_and_the_limit(make_app: Any) -> None:
    client = make_app(submissions_per_minute=3)
    assert [submit(client, A).status_code for _ in range(3)] == [202] * 3
    refused = submit(client, A)
    assert refused.status_code == 429
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 60
    detail = refused.json()["detail"]
    assert detail == f"rate limit: 3 submissions per minute per key; retry in {retry} s"
    sweep = {"base": {"training": {"iterations": 1}}, "vary": {"init.scale": [1, 2]}}
    assert client.post("/v1/sweeps", json=sweep, headers=A).status_code == 429
    assert submit(client, B).status_code == 202  # another key has its own count
    assert client.get("/v1/jobs", headers=A).status_code == 200  # reads are not counted


def test_a_sweep_counts_each_of_its_jobs_against_the_rate(make_app: Any) -> None:
    client = make_app(submissions_per_minute=5)
    sweep = {"base": {"training": {"iterations": 1}}, "vary": {"init.seed": [1, 2, 3]}}
    assert client.post("/v1/sweeps", json=sweep, headers=A).status_code == 202  # 3 counted
    assert [submit(client, A).status_code for _ in range(3)] == [202, 202, 429]
    assert client.post("/v1/sweeps", json=sweep, headers=B).status_code == 202
    refused = client.post("/v1/sweeps", json=sweep, headers=B)  # 1 + 2 more would make 6
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/v1/jobs", headers=B).json()["count"] == 3  # nothing made
    too_big = {**sweep, "vary": {"init.seed": list(range(6))}}
    [error] = client.post("/v1/sweeps", json=too_big, headers=B).json()["detail"]
    assert error["loc"] == ["body", "vary"] and "allows 5 jobs per minute" in error["msg"]


def test_the_rate_limit_holds_across_api_processes(make_app: Any) -> None:
    first, second = make_app(submissions_per_minute=4), make_app(submissions_per_minute=4)
    codes = [submit(client, A).status_code for client in (first, second, first, second)]
    assert codes == [202] * 4
    assert submit(first, A).status_code == submit(second, A).status_code == 429


def test_without_keys_the_rate_counts_per_client_address(make_app: Any) -> None:
    client = make_app(keys=False, submissions_per_minute=1)
    assert submit(client).status_code == 202
    refused = submit(client)
    assert refused.status_code == 429
    assert "1 submissions per minute per client address" in refused.json()["detail"]


def test_the_window_slides_a_slot_frees_as_the_oldest_submission_ages(
    redis_server: RedisServer,
) -> None:
    async def run() -> list[tuple[bool, int]]:
        client = connect(f"redis://{redis_server.host}:{redis_server.port}/5")
        limits, seen = AsyncLimits(client), []
        try:
            for pause in (0.0, 0.6, 0.0, 0.5, 0.0):
                await asyncio.sleep(pause)
                decision = await limits.hit("ip:window-test", 2, window=1.0)
                seen.append((decision.admitted, decision.retry_after))
        finally:
            await client.aclose()
        return seen

    # admitted at t=0 and t=0.6, then refused (the first frees at t=1); admitted at t=1.1,
    # then refused: the one of t=0.6 is still in the window
    assert asyncio.run(run()) == [(True, 0), (True, 0), (False, 1), (True, 0), (False, 1)]


def test_active_jobs_over_the_per_key_limit_get_429_until_one_ends(make_app: Any) -> None:
    client = make_app(max_active_jobs_per_key=2)
    jobs = [submit(client, A).json()["id"] for _ in range(2)]
    refused = submit(client, A)
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "active jobs limit: 2 queued or running jobs per key;"
    )
    assert "Retry-After" not in refused.headers
    sweep = {"base": {"training": {"iterations": 1, "seed": 7}}, "vary": {"init.scale": [1, 2]}}
    assert client.post("/v1/sweeps", json=sweep, headers=B).status_code == 202  # B: its own 2
    assert client.post("/v1/sweeps", json=sweep, headers=B).status_code == 429  # nothing made
    assert client.get("/v1/jobs", headers=B).json()["count"] == 2
    assert client.post(f"/v1/jobs/{jobs[0]}/cancel", headers=A).status_code == 202
    assert submit(client, A).status_code == 202  # a slot freed
    client.delete(f"/v1/jobs/{jobs[1]}", headers=A)
    assert submit(client, A).status_code == 202


def test_concurrent_admissions_never_pass_the_limit(redis_server: RedisServer) -> None:
    async def run() -> list[bool]:
        client = connect(f"redis://{redis_server.host}:{redis_server.port}/5")
        try:
            limits = AsyncLimits(client)
            tries = [limits.admit("ip:race", 5, 1, 3600) for _ in range(40)]
            return [admission.admitted for admission in await asyncio.gather(*tries)]
        finally:
            await client.aclose()

    redis.Redis(host=redis_server.host, port=redis_server.port, db=5).delete(
        "initlab:limit:ip:race:active"
    )
    assert sum(asyncio.run(run())) == 5


def at_once(client: TestClient, path: str, bodies: list[dict[str, Any]]) -> list[int]:
    """Status codes of POSTs sent together (the app serves them concurrently on its loop)."""
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda body: client.post(path, json=body).status_code, bodies))


def test_concurrent_submissions_never_pass_the_service_limit(make_app: Any) -> None:
    client = make_app(keys=False, max_active_jobs=3)
    bodies = [{"training": {"iterations": 1, "seed": next(_seed)}} for _ in range(20)]
    codes = at_once(client, "/v1/jobs", bodies)
    assert sorted(codes) == [202] * 3 + [429] * 17
    assert client.get("/v1/jobs?status=queued").json()["count"] == 3
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    assert redis.Redis.from_url(settings.redis_url).zcard(PENDING_KEY) == 0  # all settled
    refused = submit(client)
    assert refused.status_code == 429 and refused.json()["detail"].startswith(
        "service limit: 3 jobs at most may be queued or running (3 are)"
    )


def test_concurrent_sweeps_never_pass_the_service_limit(make_app: Any) -> None:
    client = make_app(keys=False, max_active_jobs=4)
    vary = {"init.scale": [1, 2]}
    sweeps = [{"base": {"training": {"iterations": 1, "seed": next(_seed)}}, "vary": vary}] * 5
    assert sorted(at_once(client, "/v1/sweeps", sweeps)) == [202] * 2 + [429] * 3
    assert client.get("/v1/jobs?status=queued").json()["count"] == 4


def test_a_body_over_the_limit_is_413_naming_the_limit(make_app: Any) -> None:
    client = make_app(keys=False, max_body_bytes=2048)
    json = {"Content-Type": "application/json"}
    under = b'{"training": {"iterations": 1}}' + b" " * 2000  # 2031 bytes
    assert client.post("/v1/jobs", content=under, headers=json).status_code == 202
    big = {"model": {"hidden": [2] * 2000}}
    declared = client.post("/v1/jobs", json=big)
    assert declared.status_code == 413
    detail = declared.json()["detail"]
    assert re.fullmatch(r"body too large: Content-Length \d+; the limit is 2048 bytes.*", detail)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        yield b'{"model": {"hidden": ['
        yield b"2, " * 1000
        yield b"2]}}"

    streamed = client.post("/v1/jobs", content=chunks(), headers=json)
    assert streamed.status_code == 413
    detail = streamed.json()["detail"]
    assert re.fullmatch(r"body too large: \d+\+ bytes sent; the limit is 2048 bytes.*", detail)
    assert client.get("/v1/jobs").json()["count"] == 1  # nothing was made


def test_by_default_only_the_body_size_is_limited(make_app: Any) -> None:
    client = make_app(keys=False)
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    assert settings.submissions_per_minute == settings.max_active_jobs_per_key == 0
    assert settings.max_body_bytes == 1024 * 1024
    assert all(submit(client).status_code == 202 for _ in range(30))
