"""Submission throughput (bench/service.py, part b): many concurrent clients POST jobs that
train nothing, with httpx and with a bare HTTP/1.1 client, while the worker does not consume.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from bench.jobs import cpu_seconds, fresh
from scripts import launch
from scripts.redis_server import RedisServer
from store.lanes import worker_queues
from store.queue import make_celery
from store.settings import Settings
from store.sync_store import JobStore

JSON_HEADERS = {"content-type": "application/json"}
EMPTY = {"preset": "playground", "training": {"iterations": 0}}  # (b): nothing to train


class RawHttp:
    """One bare HTTP/1.1 keep-alive connection: POST a JSON body, read the sized answer.

    Next to httpx it costs the client almost no CPU, so on a 2-core machine the API, not the
    client, sets the rate.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, url: str) -> RawHttp:
        host, _, port = url.removeprefix("http://").partition(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def post(self, body: bytes) -> tuple[int, bytes]:
        head = b"POST /v1/jobs HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        self.writer.write(b"%bcontent-length: %d\r\n\r\n%b" % (head, len(body), body))
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        sized = [line for line in lines if line.lower().startswith(b"content-length:")]
        content = await self.reader.readexactly(int(sized[0].partition(b":")[2]))
        return int(lines[0].split()[1]), content

    def close(self) -> None:
        self.writer.close()


async def _submissions(url: str, clients: int, total: int, cap: float, raw: bool) -> dict[str, Any]:
    """``total`` submissions (at most ``cap`` seconds) from ``clients`` concurrent clients."""
    latencies: list[float] = []
    ids: list[str] = []
    errors: dict[int, int] = {}
    counter = itertools.count()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http = httpx.AsyncClient(base_url=url, limits=limits, timeout=30)
    conns = [await RawHttp.connect(url) for _ in range(clients)] if raw else []

    async def via_httpx(body: bytes) -> tuple[int, bytes]:
        response = await http.post("/v1/jobs", content=body, headers=JSON_HEADERS)
        return response.status_code, response.content

    posts = [conn.post for conn in conns] if raw else [via_httpx] * clients

    async def client(post: Callable[[bytes], Awaitable[tuple[int, bytes]]]) -> None:
        while next(counter) < total and time.perf_counter() < deadline:
            body = orjson.dumps(fresh(EMPTY))
            sent = time.perf_counter()
            status, content = await post(body)
            latencies.append(time.perf_counter() - sent)
            if status == 202:
                ids.append(orjson.loads(content)["id"])
            else:
                errors[status] = errors.get(status, 0) + 1

    try:
        for _ in range(2):  # warm up: every connection and the API's code paths
            warm = await asyncio.gather(*(post(orjson.dumps(fresh(EMPTY))) for post in posts))
            ids += [orjson.loads(content)["id"] for _, content in warm]
        cpu, start = time.process_time(), time.perf_counter()
        deadline = start + cap
        gc.disable()  # the client's own collections would show up as server latency
        try:
            await asyncio.gather(*(client(post) for post in posts))
        finally:
            gc.enable()
        wall, client_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await http.aclose()
        for conn in conns:
            conn.close()
    return {
        "latencies": latencies,
        "wall": wall,
        "ids": ids,
        "errors": errors,
        "client": client_cpu,
    }


def bench_submit(
    api: launch.Api, server: RedisServer, queue: str, clients: int, total: int, cap: float
) -> dict[str, dict[str, Any]]:
    """Both clients in turn, the worker not consuming; then every job made is cancelled."""
    settings = Settings(redis_url=server.url, celery_queue=queue)
    celery, lists = make_celery(settings), worker_queues(settings)
    node = launch.worker_node(queue)
    for name in lists:  # every list of both lanes the worker consumes
        celery.control.cancel_consumer(name, destination=[node], reply=True)
    pids = {"api": api.process.pid, "redis": server.process.pid}  # type: ignore[union-attr]
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, raw in (("httpx.AsyncClient", False), ("bare HTTP/1.1", True)):
            before = {process: cpu_seconds(pid) for process, pid in pids.items()}
            # the warm-up's CPU is in the server's counts too: 2 % more than the run's
            results[name] = result = asyncio.run(_submissions(api.url, clients, total, cap, raw))
            result["cpu"] = {p: cpu_seconds(pid) - before[p] for p, pid in pids.items()}
            result["cpu"]["client"] = result.pop("client")
    finally:
        celery.control.purge()
        store = JobStore.from_url(server.url)
        for result in results.values():  # none reached a worker: they end cancelled
            for job_id in result["ids"]:
                store.transition(job_id, "cancelled", ("queued",))
        store.redis.close()
        for name in lists:
            celery.control.add_consumer(name, destination=[node], reply=True)
        celery.close()
    return results
