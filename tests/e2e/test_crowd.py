"""Many viewers of one job against an API with a small Redis pool (issue 12), and a viewer that
stops reading: cut off with a ``resume`` event, then resumed from its ``Last-Event-ID``.

The API here is a process of its own (``REDIS_MAX_CONNECTIONS=4``, ``STREAM_VIEWER_LAG_MB=1``)
on the session's Redis and worker.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis

from bench.viewer_watch import api_redis_connections, read_chunk
from scripts import launch
from scripts.redis_server import RedisServer
from tests.conftest import LOGS, service_env
from tests.e2e.job_helpers import long_spec, sse, submit, wait_for

POOL = 4
VIEWERS = 3 * POOL


@pytest.fixture(scope="module")
def small_pool_api(
    redis_server: RedisServer, celery_worker: subprocess.Popen, tmp_path_factory: Any
) -> Iterator[launch.Api]:
    LOGS["api (small pool)"] = log = tmp_path_factory.mktemp("crowd") / "api.log"
    env = service_env(redis_server.url, REDIS_MAX_CONNECTIONS=str(POOL), STREAM_VIEWER_LAG_MB="1")
    with launch.api_server(env, log) as api:
        yield api


async def read_stream(client: httpx.AsyncClient, url: str) -> list[tuple[str, str | None]]:
    """(event, id) of every event until the server closes the stream."""
    out: list[tuple[str, str | None]] = []
    fields: dict[str, str] = {}
    async with client.stream("GET", url, timeout=120) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if not line:
                if "event" in fields:
                    out.append((fields["event"], fields.get("id")))
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return out


async def crowd(api: launch.Api, server: RedisServer, job_id: str) -> tuple[list[Any], int, int]:
    """``VIEWERS`` streams of the job and job reads meanwhile; (streams, most Redis connections
    of the API seen, job reads answered 200)."""
    watcher = redis.Redis.from_url(server.url)
    most, reads, done = 0, 0, False

    async def watch() -> None:
        nonlocal most
        while not done:
            most = max(
                most, await asyncio.to_thread(api_redis_connections, watcher, api.process.pid)
            )
            await asyncio.sleep(0.05)

    async def poll(client: httpx.AsyncClient) -> None:
        nonlocal reads
        while not done:  # with every pooled connection busy, a request waits for one
            response = await client.get(f"/v1/jobs/{job_id}")
            assert response.status_code == 200, response.text
            reads += 1

    limits = httpx.Limits(max_connections=VIEWERS + 2)
    async with httpx.AsyncClient(base_url=api.url, limits=limits, timeout=120) as client:
        side = [asyncio.create_task(watch()), asyncio.create_task(poll(client))]
        url = f"/v1/jobs/{job_id}/events"
        streams = await asyncio.gather(*(read_stream(client, url) for _ in range(VIEWERS)))
        done = True
        await asyncio.gather(*side)
    watcher.close()
    return streams, most, reads


def test_three_times_more_viewers_than_the_pool_get_every_record_in_order(
    small_pool_api: launch.Api, redis_server: RedisServer
) -> None:
    with httpx.Client(base_url=small_pool_api.url, timeout=30) as client:
        job = submit(client, long_spec(iterations=40_000, every=40))  # 1,001 records, 2-3 s
    expected = [str(i) for i in range(0, 40_001, 40)]
    for phase in ("live", "finished"):
        streams, most, reads = asyncio.run(crowd(small_pool_api, redis_server, job["id"]))
        for events in streams:
            assert [i for e, i in events if e == "record"] == expected, phase
            assert events[-1][0] == "end", phase
        assert 0 < most <= POOL, phase
        assert reads > 0
        if phase == "live":
            assert streams[0][0][0] == "status"


def slow_socket(url: str) -> socket.socket:
    """A connection with a small receive buffer: it holds little of what it does not read."""
    parsed = httpx.URL(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.connect((parsed.host, parsed.port or 80))
    return sock


async def stalled_stream(api: launch.Api, job_id: str) -> list[tuple[str, str | None, bytes]]:
    """Open the job's stream, read nothing until the job has ended, then read it all."""
    reader, writer = await asyncio.open_connection(sock=slow_socket(api.url), limit=8192)
    path = f"/v1/jobs/{job_id}/events"
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    async with httpx.AsyncClient(base_url=api.url) as client:  # not reading meanwhile
        while (await client.get(f"/v1/jobs/{job_id}")).json()["status"] != "succeeded":
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    body = b""
    while chunk := await asyncio.wait_for(read_chunk(reader), 30):
        body += chunk
    writer.close()
    events = []
    for block in body.split(b"\n\n"):
        fields = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line)
        if b"event" in fields:
            event_id = fields[b"id"].decode() if b"id" in fields else None
            events.append((fields[b"event"].decode(), event_id, fields[b"data"]))
    return events


def test_a_viewer_that_stops_reading_is_cut_off_and_resumes_to_the_end(
    small_pool_api: launch.Api,
) -> None:
    # 2,001 records of about 180 kB every 10th (the boundary): far more than socket buffers
    spec = {"preset": "playground", "training": {"iterations": 2000}, "force": True}
    with httpx.Client(base_url=small_pool_api.url, timeout=30) as client:
        job = submit(
            client, {**spec, "training": {**spec["training"], "seed": time.time_ns() % 10**6}}
        )
        events = asyncio.run(stalled_stream(small_pool_api, job["id"]))
        assert events[-1][0] == "resume", [e for e, _, _ in events[-3:]]
        after = orjson.loads(events[-1][2])["after"]
        got = [int(i) for e, i, _ in events if e == "record" and i is not None]
        assert got == list(range(after + 1))
        assert after < 1500  # cut off well before the end
        rest = list(sse(client, f"/v1/jobs/{job['id']}/events", {"Last-Event-ID": str(after)}))
        assert rest[0].event == "status" and rest[-1].event == "end"
        got += [int(e.id) for e in rest if e.event == "record" and e.id is not None]
        assert got == list(range(2001))
        assert wait_for(client, job["id"])["status"] == "succeeded"
