"""A full store: a Redis with a small ``maxmemory`` of its own, its own worker, reaper and API.

Filling it ends in 507s that name the limit, never a 500; every accepted job succeeds and the
worker lives; reads answer 200; a DELETE frees room at once; the expire_finished policy
makes room from ended jobs only.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from initlab_client import Client, StoreFullError

from scripts import launch
from store.keys import Keys
from tests.e2e.job_helpers import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAXMEMORY = "24mb"
MARGIN = str(4 * 2**20)
RETRY_AFTER = "7"  # not the default (30): the client must carry the server's own number
_seeds = itertools.count(1)


def playground(iterations: int = 1000) -> dict[str, object]:
    training = {"seed": next(_seeds), "iterations": iterations}
    return {"preset": "playground", "training": training, "force": True}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[launch.Stack]:
    logs = tmp_path_factory.mktemp("full-store")
    with launch.service_stack(
        "initlab-full",
        Path(logs),
        maxmemory=MAXMEMORY,
        STORE_MARGIN_BYTES=MARGIN,
        STORE_RETRY_AFTER_SECONDS=RETRY_AFTER,
    ) as stack:
        yield stack


@pytest.fixture
def http(stack: launch.Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api.url, timeout=60) as client:
        yield client


def fill(http: httpx.Client, most: int = 40) -> tuple[list[str], httpx.Response]:
    """Submit playground jobs until one is refused; (the accepted ids, the refusal)."""
    accepted: list[str] = []
    for _ in range(most):
        response = http.post("/v1/jobs", json=playground())
        assert response.status_code in (202, 507), response.text
        if response.status_code == 507:
            return accepted, response
        accepted.append(response.json()["id"])
        if len(accepted) % 3 == 0:  # let some end, so the store holds real bytes
            wait_for(http, accepted[-1], timeout=120)
    raise AssertionError(f"{most} jobs were all accepted on a {MAXMEMORY} store")


def test_a_full_store_refuses_clearly_reads_work_and_a_delete_makes_room(
    stack: launch.Stack, http: httpx.Client
) -> None:
    accepted, refusal = fill(http)
    assert len(accepted) >= 2
    detail = refusal.json()["detail"]
    assert detail.startswith("store full:") and "maxmemory 25.2 MB" in detail, detail
    assert refusal.headers["Retry-After"] == RETRY_AFTER
    for job_id in accepted:  # no accepted job fails for lack of room
        assert wait_for(http, job_id, timeout=120)["status"] == "succeeded"
    assert all(worker.poll() is None for worker in stack.workers)
    ready = http.get("/readyz").json()["store"]
    assert ready["limit_bytes"] == 24 * 2**20 and 0 < ready["used_bytes"] <= ready["limit_bytes"]
    job_id = accepted[0]
    for path in ("", "/metrics?fields=cost", "/parameters", "/dataset", "/plots/cost.svg"):
        assert http.get(f"/v1/jobs/{job_id}{path}").status_code == 200, path
    assert http.get("/v1/jobs").status_code == 200
    assert "initlab_store_used_bytes" in http.get("/metrics").text
    more, _ = fill(http)  # the accepted jobs' real bytes are below their estimates: fill again
    accepted += more
    for job_id in more:
        assert wait_for(http, job_id, timeout=120)["status"] == "succeeded"
    before = http.get("/readyz").json()["store"]["used_bytes"]
    for job_id in accepted:
        assert http.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert http.get("/readyz").json()["store"]["used_bytes"] < before
    again = http.post("/v1/jobs", json=playground())  # no restart needed
    assert again.status_code == 202, again.text
    assert wait_for(http, again.json()["id"], timeout=120)["status"] == "succeeded"
    http.delete(f"/v1/jobs/{again.json()['id']}")


def test_a_job_too_big_for_the_store_is_refused_cleanly(
    stack: launch.Stack, http: httpx.Client
) -> None:
    response = http.post("/v1/jobs", json={"preset": "glorot_2010", "force": True})
    assert response.status_code == 507 and "Retry-After" in response.headers
    assert "store full" in response.json()["detail"]
    assert all(worker.poll() is None for worker in stack.workers)


def test_the_official_client_raises_store_full_with_the_limit_and_retry_after(
    stack: launch.Stack, http: httpx.Client
) -> None:
    """initlab_client against this stack: a job and a sweep too big for the store are a
    StoreFullError carrying 507, the server's numbers and its Retry-After."""
    numbers = re.compile(
        r"of a limit of ([\d.]+) MB \(maxmemory ([\d.]+) MB less STORE_MARGIN_BYTES ([\d.]+) MB\)"
    )
    jobs_before = http.get("/v1/jobs").json()["count"]
    with Client(stack.api.url, timeout=60) as api:
        with pytest.raises(StoreFullError) as job:
            api.submit({"preset": "glorot_2010"}, force=True)
        with pytest.raises(StoreFullError) as sweep:
            api.sweep({"preset": "glorot_2010"}, {"init.seed": [1, 2]}, force=True)
        for full in (job.value, sweep.value):
            assert full.status == 507 and full.retry_after == int(RETRY_AFTER), full
            assert full.detail.startswith("store full:"), full.detail
            found = numbers.search(full.detail)
            assert found is not None, full.detail
            limit, maxmemory, margin = map(float, found.groups())
            assert (maxmemory, margin) == (round(24 * 2**20 / 1e6, 1), round(4 * 2**20 / 1e6, 1))
            assert limit == pytest.approx(maxmemory - margin, abs=0.11)
        assert "2 job(s)" in sweep.value.detail
    assert http.get("/v1/jobs").json()["count"] == jobs_before  # refused: nothing was made
    assert all(worker.poll() is None for worker in stack.workers)


def test_a_job_that_meets_a_full_redis_mid_run_fails_with_the_reason(
    stack: launch.Stack, http: httpx.Client
) -> None:
    """Redis refuses a write the estimate did not foresee: the job ends failed, the worker
    lives on and runs the next job."""
    client = redis.Redis.from_url(stack.redis.url)
    body = {"preset": "mnist", "training": {"iterations": 3}, "force": True}
    job = http.post("/v1/jobs", json=body).json()
    try:
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used + 512 * 1024)  # too little for one snapshot
        done = wait_for(http, job["id"], timeout=180)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used - 2 * 2**20)  # Redis refuses any write now
        with pytest.raises(redis.OutOfMemoryError):
            client.set("probe", 1)
        assert done["status"] == "failed" and done["error"]["type"] == "OutOfMemoryError", done
        for path in ("", "/metrics", "/plots/cost.svg"):  # reads never write
            assert http.get(f"/v1/jobs/{job['id']}{path}").status_code == 200, path
        refused = http.post("/v1/jobs", json=playground())
        assert refused.status_code == 507 and "Retry-After" in refused.headers
        assert http.delete(f"/v1/jobs/{job['id']}").status_code == 204  # frees at once
        assert not client.exists(*Keys(job["id"]).data())
    finally:
        client.config_set("maxmemory", MAXMEMORY)
    assert all(worker.poll() is None for worker in stack.workers)
    nxt = http.post("/v1/jobs", json=playground()).json()
    assert wait_for(http, nxt["id"], timeout=120)["status"] == "succeeded"
    http.delete(f"/v1/jobs/{nxt['id']}")
    client.close()


def test_expire_finished_makes_room_from_ended_jobs_only(tmp_path: Path) -> None:
    env = {"STORE_MARGIN_BYTES": MARGIN, "STORE_FULL_POLICY": "expire_finished"}
    with (
        launch.service_stack("initlab-expire", tmp_path, maxmemory=MAXMEMORY, **env) as stack,
        httpx.Client(base_url=stack.api.url, timeout=60) as http,
    ):
        ids = []
        for _ in range(16):  # more than the store holds at once
            response = http.post("/v1/jobs", json=playground())
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
            wait_for(http, ids[-1], timeout=120)
        statuses = [http.get(f"/v1/jobs/{job_id}").status_code for job_id in ids]
        kept = [job_id for job_id, code in zip(ids, statuses, strict=True) if code == 200]
        assert 200 in statuses and 404 in statuses
        assert ids[-1] in kept  # the oldest went first
        first_kept = ids.index(kept[0])
        assert all(code == 200 for code in statuses[first_kept:])
        for job_id in kept:
            assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"


def test_expire_finished_admits_a_burst_of_submissions_at_once(tmp_path: Path) -> None:
    """Many submissions arrive together on a store full of ended jobs (a class pressing Play):
    each admission deletes ended jobs until its job fits, and none is refused while ended jobs
    are left, though the others delete the same oldest jobs under it at the same time."""
    env = {"STORE_MARGIN_BYTES": MARGIN, "STORE_FULL_POLICY": "expire_finished"}
    with (
        launch.service_stack("initlab-burst", tmp_path, maxmemory=MAXMEMORY, **env) as stack,
        httpx.Client(base_url=stack.api.url, timeout=60) as http,
    ):
        ended = []
        for _ in range(14):  # ~17 MB of ended jobs: the store is about full
            response = http.post("/v1/jobs", json=playground())
            assert response.status_code == 202, response.text
            ended.append(response.json()["id"])
            assert wait_for(http, ended[-1], timeout=120)["status"] == "succeeded"

        async def burst(n: int) -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=stack.api.url, timeout=60) as client:
                # ~0.26 MB each: together they fit once a few ended jobs are gone
                posts = (client.post("/v1/jobs", json=playground(100)) for _ in range(n))
                return list(await asyncio.gather(*posts))

        answers = asyncio.run(burst(30))
        refused = [a.text for a in answers if a.status_code != 202]
        assert not refused, refused
        left = [i for i in ended if http.get(f"/v1/jobs/{i}").status_code == 200]
        assert len(left) < len(ended)  # room was made from ended jobs
        for answer in answers:  # and every accepted job runs to its end
            assert wait_for(http, answer.json()["id"], timeout=120)["status"] == "succeeded"
        assert all(worker.poll() is None for worker in stack.workers)
