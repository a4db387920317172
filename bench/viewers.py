"""Viewers: hundreds of event streams of one job against ONE API process (issue 12).

Starts its own redis-server, one one-process Celery worker and one uvicorn process on free
loopback ports (scripts/launch.py), then for each scenario opens N concurrent
``GET /v1/jobs/{id}/events`` at once on raw keep-alive-free sockets and reads every byte:

- 50, 200 and 500 viewers of a finished playground job (1,001 records, boundary every 10);
- 200 viewers of a live one: a fresh playground job queued behind a short blocker job, so
  every viewer is connected before its first record is written.

Per scenario: errors (HTTP status other than 200, an ``error`` event, a broken connection or a
stream without ``end``), streams complete with every record 0..1000 in order, time to first
body byte p50/p95, time until every stream has ended, the most Redis connections of the API
seen meanwhile (CLIENT LIST on the server, matched to the API's own sockets through /proc), and
the API's resident memory before, at its peak and 10 s after the streams ended.

``--accept`` sets the viewers' Accept-Encoding (``identity`` by default: the client reads every
byte uncompressed, as in the issue). Loopback only, bounded by ``--deadline`` per scenario.

    .venv/bin/python -m bench.viewers [--viewers 50,200,500] [--live 200] [--deadline 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis
import zstandard

from bench.jobs import bench_stack, fresh, pct, submit, wait_done
from store.keys import FINAL

QUEUE = "initlab-viewers"
PLAYGROUND = {"preset": "playground"}
BLOCKER = {"preset": "playground", "training": {"iterations": 3000}, "record": {"every": 1000}}
RECORDS = 1001  # the playground preset's records: iterations 0..1000
SETTLE_SECONDS = 10.0


class Viewer:
    """One stream read to its end: what it saw and when."""

    def __init__(self) -> None:
        self.first_byte: float | None = None
        self.ended: float | None = None
        self.ids: list[int] = []
        self.events: dict[str, int] = {}
        self.error = ""

    @property
    def complete(self) -> bool:
        return self.ids == list(range(RECORDS)) and self.events.get("end") == 1


def scan(viewer: Viewer, text: bytes) -> None:
    """Record ids and event names of ``text`` (whole lines, each starting after a newline)."""
    for field, into in ((b"\nid: ", "id"), (b"\nevent: ", "event")):
        at = text.find(field)
        while at >= 0:
            start = at + len(field)
            end = text.find(b"\n", start)
            value = text[start:end].rstrip(b"\r")
            if into == "id":
                viewer.ids.append(int(value))
            else:
                name = value.decode()
                viewer.events[name] = viewer.events.get(name, 0) + 1
            at = text.find(field, end)


async def read_chunk(reader: asyncio.StreamReader) -> bytes:
    """One chunk of a chunked body (b"" at its end)."""
    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
    data = await reader.readexactly(size + 2)
    return data[:-2]


async def view(host: str, port: int, path: str, accept: str, viewer: Viewer) -> None:
    """GET ``path`` over a raw socket, reading the (chunked) body to the end."""
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 21)
    except OSError as exc:
        viewer.error = f"connect: {exc}"
        return
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
    writer.write(f"{request}Accept-Encoding: {accept}\r\nConnection: close\r\n\r\n".encode())
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            viewer.error = f"HTTP {status}"
            return
        zstd = b"content-encoding: zstd" in head.lower()
        decoder = zstandard.ZstdDecompressor().decompressobj() if zstd else None
        chunked = b"transfer-encoding: chunked" in head.lower()
        carry = b"\n"
        while chunk := await (read_chunk(reader) if chunked else reader.read(1 << 20)):
            if viewer.first_byte is None:
                viewer.first_byte = time.perf_counter()
            data = decoder.decompress(chunk) if decoder else chunk
            text = carry + data
            cut = text.rfind(b"\n")
            scan(viewer, text[: cut + 1])
            carry = text[cut:]
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        viewer.error = f"{type(exc).__name__}: {exc}"
    finally:
        viewer.ended = time.perf_counter()
        writer.close()
    if viewer.events.get("error"):
        viewer.error = "error event"
    elif not viewer.events.get("end"):
        viewer.error = viewer.error or "no end event"


def wait_ended(http: httpx.Client, job_id: str, timeout: float = 120.0) -> None:
    """Until the job has ended; answers other than 200 (a 503 under load) are asked again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(f"/v1/jobs/{job_id}")
        if response.status_code == 200 and response.json()["status"] in FINAL:
            return
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not end in {timeout:g} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def local_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets process ``pid`` holds (its fds, /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[9] in inodes:
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def api_redis_connections(client: redis.Redis, pid: int) -> int:
    ports = local_ports(pid)
    clients = client.client_list()
    return sum(1 for c in clients if int(c["addr"].rsplit(":", 1)[1]) in ports)


async def watch(client: redis.Redis, pid: int, out: dict[str, float], stop: asyncio.Event) -> None:
    """Sample the API's Redis connections and resident memory every 0.2 s until ``stop``."""
    while not stop.is_set():
        try:
            conns = await asyncio.to_thread(api_redis_connections, client, pid)
        except (OSError, redis.RedisError):
            conns = 0
        out["connections"] = max(out["connections"], conns)
        out["peak_mb"] = max(out["peak_mb"], rss_mb(pid))
        await asyncio.sleep(0.2)


async def scenario(
    url: str, pid: int, client: redis.Redis, job_id: str, n: int, args: argparse.Namespace,
    start_job: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """``n`` viewers of ``job_id`` at once; ``start_job`` (a coroutine) once all connected."""
    parsed = httpx.URL(url)
    host, port = parsed.host, parsed.port or 80
    out: dict[str, Any] = {"viewers": n, "connections": 0.0, "before_mb": rss_mb(pid)}
    out["peak_mb"] = out["before_mb"]
    stop = asyncio.Event()
    released = 0.0
    watcher = asyncio.create_task(watch(client, pid, out, stop))
    viewers = [Viewer() for _ in range(n)]
    t0 = time.perf_counter()
    path = f"/v1/jobs/{job_id}/events"
    tasks = [asyncio.create_task(view(host, port, path, args.accept, v)) for v in viewers]
    if start_job is not None:
        while time.perf_counter() - t0 < 60:  # every viewer connected (or failed)
            if all(v.first_byte is not None or v.ended is not None for v in viewers):
                break
            await asyncio.sleep(0.05)
        await start_job()
        released = time.perf_counter()  # the live job runs now: "all ended" counts from here
    _, pending = await asyncio.wait(tasks, timeout=args.deadline)
    for task in pending:
        task.cancel()
    ends = [v.ended or time.perf_counter() for v in viewers]
    out["wall"] = max(ends) - (released if start_job is not None else t0)
    stop.set()
    await watcher
    await asyncio.sleep(SETTLE_SECONDS)
    out["after_mb"] = rss_mb(pid)
    out["errors"] = sum(1 for v in viewers if v.error) + len(pending)
    out["kinds"] = sorted({v.error for v in viewers if v.error})[:3]
    out["complete"] = sum(v.complete for v in viewers)
    firsts = [v.first_byte - t0 for v in viewers if v.first_byte is not None]
    out["ttfb"] = (pct(firsts, 50), pct(firsts, 95)) if len(firsts) > 1 else (0.0, 0.0)
    return out


def line(r: dict[str, Any]) -> str:
    return (
        f"| {r['name']} | {r['errors']} | {r['complete']}/{r['viewers']} | "
        f"{r['ttfb'][0]:.0f} / {r['ttfb'][1]:.0f} ms | {r['wall']:.1f} s | "
        f"{r['connections']:.0f} | {r['before_mb']:.0f} / {r['peak_mb']:.0f} / "
        f"{r['after_mb']:.0f} MB |"
    )


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with bench_stack("bench.viewers", QUEUE) as (stack, http, _settings):
        pid = stack.api.process.pid
        client = redis.Redis.from_url(stack.redis.url)
        finished = wait_done(http, submit(http, fresh(PLAYGROUND))["id"])
        for n in args.viewers:
            r = await scenario(stack.api.url, pid, client, finished["id"], n, args)
            results.append({**r, "name": f"finished, {n}"})
            print(line(results[-1]), flush=True)
        if args.live:
            blocker = submit(http, fresh(BLOCKER))  # holds the worker: the job stays queued
            job = submit(http, fresh(PLAYGROUND))

            async def release() -> None:  # every viewer is connected: let the job run
                await asyncio.to_thread(wait_ended, http, blocker["id"])

            r = await scenario(stack.api.url, pid, client, job["id"], args.live, args, release)
            results.append({**r, "name": f"live, {args.live}"})
            print(line(results[-1]), flush=True)
        client.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="50,200,500", help="finished-job scenarios")
    parser.add_argument("--live", type=int, default=200, help="viewers of a live job (0: none)")
    parser.add_argument("--accept", default="identity", help="the viewers' Accept-Encoding")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds per scenario")
    args = parser.parse_args()
    args.viewers = [int(n) for n in args.viewers.split(",") if n]
    print("| viewers | errors | complete | first byte p50 / p95 | all ended | API Redis "
          "connections (most) | API RSS before / peak / 10 s after |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    results = asyncio.run(run(args))
    kinds = {r["name"]: r["kinds"] for r in results if r["kinds"]}
    if kinds:
        print(f"error kinds: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
