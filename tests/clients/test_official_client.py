"""The official client (clients/python, ``initlab_client``), every method, against the real
stack: redis-server, a Celery worker and uvicorn started by tests/conftest.py."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from initlab_client import (
    AsyncClient,
    Client,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    UnauthorizedError,
    ValidationError,
)

from scripts import launch
from scripts.redis_server import RedisServer
from tests.clients.proxy import CuttingProxy
from tests.conftest import service_env

pytestmark = pytest.mark.e2e

UNKNOWN = "0123456789abcdef0123456789abcdef"
SMALL = {  # a playground run of a fraction of a second, with every kind of record item
    "preset": "playground",
    "training": {"iterations": 60},
    "record": {"boundary": {"every": 20, "resolution": 11}, "parameters": {"every": 20}},
}


@pytest.fixture
def api(api_url: str, celery_worker: subprocess.Popen) -> Iterator[Client]:
    with Client(api_url) as client:
        yield client


@pytest.fixture(scope="module")
def finished(api_url: str, celery_worker: subprocess.Popen) -> str:
    with Client(api_url) as client:
        return client.wait(client.submit(SMALL, force=True).id, timeout=120).id


def test_a_job_from_submission_to_deletion(api: Client) -> None:
    job = api.submit(SMALL, force=True)
    assert job.status in ("queued", "running") and job.spec["training"]["iterations"] == 60
    done = api.wait(job.id, timeout=120, progress=True)
    assert done.status == "succeeded" and done.summary is not None
    assert isinstance(done.summary.final_cost, float) and done.summary.iterations_run == 60
    assert api.get(job.id).finished_at is not None
    records = api.records(job.id)
    assert [r.iteration for r in records] == list(range(61))
    assert records[0].layers is not None and records[0].layers[0].activations.std is not None
    assert records[-1].boundary is not None and records[-1].boundary.resolution == 11
    thin = api.records(job.id, fields=["cost"], every=10)
    assert [r.iteration for r in thin] == list(range(0, 61, 10)) and thin[0].layers is None
    frame = api.records_frame(job.id)
    assert list(frame.index) == list(range(61)) and frame["cost"].iloc[-1] == records[-1].cost
    snapshot = api.parameters(job.id, 0)
    assert snapshot.iteration == 0 and len(snapshot.layers[0].weights) == 6
    assert api.parameters(job.id).iteration == 60
    api.delete(job.id)
    with pytest.raises(NotFoundError):
        api.get(job.id)


def test_cancel_stops_a_running_job(api: Client) -> None:
    job = api.submit({"training": {"iterations": 100_000}}, force=True)
    assert api.cancel(job.id).id == job.id
    assert api.wait(job.id, timeout=60).status == "cancelled"
    with pytest.raises(ConflictError) as conflict:
        api.cancel(job.id)
    assert conflict.value.status == 409 and "cancelled" in conflict.value.detail


def test_menus_theory_and_a_sweep(api: Client) -> None:
    catalog = api.catalog()
    assert "xavier" in [init.name for init in catalog.initializers]
    presets = {preset.name: preset for preset in api.presets()}
    assert presets["playground"].spec["model"]["hidden"] == [6, 3]
    report = api.theory({"preset": "nine_layers"})
    assert len(report.layers) == 10 and report.layers[0].preactivations.measured is not None
    sweep = api.sweep(
        {"preset": "playground", "training": {"iterations": 30}},
        {"init.method": ["zero", "appropriate"]},
        target_cost=0.5,
        force=True,
    )
    done = api.wait_sweep(sweep.id, timeout=120)
    assert done.status == "succeeded" and sorted(done.ranking) == sorted(sweep.ranking)
    assert [v.values["init.method"] for v in done.variations] == ["zero", "appropriate"]
    assert all(v.summary is not None for v in done.variations)
    api.delete_sweep(sweep.id)
    with pytest.raises(NotFoundError):
        api.get_sweep(sweep.id)


def test_a_dropped_stream_resumes_after_the_last_record(api_url: str, finished: str) -> None:
    address = urlsplit(api_url)
    with Client(api_url) as direct:
        expected = direct.records(finished)
    upstream = (address.hostname or "127.0.0.1", address.port or 80)
    with (
        CuttingProxy(upstream, cut=20_000) as proxy,
        Client(f"http://127.0.0.1:{proxy.port}") as api,
    ):
        streamed = list(api.stream(finished))
        assert proxy.cuts == 1 and proxy.streams == 2  # it was cut, and it reconnected
    assert [r.iteration for r in streamed] == [r.iteration for r in expected]  # no gap, no repeat
    assert streamed == expected
    with Client(api_url) as direct:
        assert [r.iteration for r in direct.stream(finished, last_event_id=57)] == [58, 59, 60]


def test_each_error_is_its_own_class_with_the_servers_detail(api: Client) -> None:
    with pytest.raises(ValidationError) as invalid:
        api.submit({"init": {"method": "nope"}})
    assert invalid.value.status == 422 and ("body", "init", "method") in invalid.value.locations
    with pytest.raises(NotFoundError) as missing:
        api.get(UNKNOWN)
    assert UNKNOWN in missing.value.detail
    with pytest.raises(NotFoundError):
        list(api.stream(UNKNOWN))


def test_rate_limited_unauthorized_and_too_large_from_a_server_with_limits_and_keys(
    redis_server: RedisServer, celery_worker: subprocess.Popen, tmp_path: Path
) -> None:
    key = "client-test-key-0123456789"
    env = service_env(
        redis_server.url, SUBMISSIONS_PER_MINUTE="1", API_KEYS=f"ci:{key}", MAX_BODY_BYTES="4096"
    )
    with launch.api_server(env, tmp_path / "api.log") as server:
        with Client(server.url) as anonymous, pytest.raises(UnauthorizedError) as unknown:
            anonymous.catalog()
        assert unknown.value.status == 401 and "X-API-Key" in unknown.value.detail
        with Client(server.url, api_key=key) as api:
            with pytest.raises(PayloadTooLargeError) as large:  # refused before it is counted
                api.theory({"model": {"hidden": [1] * 3000}})  # ~6 kB
            assert large.value.status == 413 and "4096" in large.value.detail
            job = api.submit({"training": {"iterations": 5}}, force=True)
            with pytest.raises(RateLimitedError) as limited:
                api.submit({"training": {"iterations": 6}}, force=True)
            assert limited.value.retry_after is not None and 1 <= limited.value.retry_after <= 60
            assert "rate limit" in limited.value.detail
            assert api.wait(job.id, timeout=60).status == "succeeded"


def test_the_async_client_does_the_same(api_url: str, finished: str) -> None:
    async def flow() -> None:
        async with AsyncClient(api_url) as api:
            job = await api.submit({**SMALL, "training": {"iterations": 20}}, force=True)
            done = await api.wait(job.id, timeout=120)
            assert done.summary is not None and done.summary.iterations_run == 20
            assert len(await api.records(job.id)) == 21
            streamed = [record.iteration async for record in api.stream(finished, 50)]
            assert streamed == list(range(51, 61))
            assert (await api.parameters(job.id, 0)).iteration == 0
            assert (await api.theory({})).layers[0].fan_in == 2
            assert len(await api.presets()) >= 3 and (await api.catalog()).datasets
            sweep = await api.sweep({"training": {"iterations": 5}}, {"init.scale": [0.5, 2.0]})
            assert (await api.wait_sweep(sweep.id, timeout=120)).final
            await api.delete_sweep(sweep.id)
            long = await api.submit({"training": {"iterations": 100_000}}, force=True)
            await api.cancel(long.id)
            assert (await api.wait(long.id, timeout=60)).status == "cancelled"
            await api.delete(long.id)
            with pytest.raises(NotFoundError):
                await api.get(long.id)
            with pytest.raises(ValidationError):
                await api.sweep({}, {"nope": [1]})

    asyncio.run(flow())
