"""What bench/viewers.py watches of the API process while its viewers read: resident memory,
Redis connections (its sockets matched to the server's CLIENT LIST) and how long a
``/healthz`` takes (a request queued behind the streams' work on its event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import redis

from bench.jobs import pct

SAMPLE_SECONDS = 0.2
PROBE_SECONDS = 0.1


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


async def read_chunk(reader: asyncio.StreamReader) -> bytes:
    """One chunk of a chunked body (b"" at its end)."""
    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
    data = await reader.readexactly(size + 2)
    return data[:-2]


class Watch:
    """The API's most Redis connections and its resident memory: before, peak, now."""

    def __init__(self, pid: int, client: redis.Redis) -> None:
        self.pid = pid
        self.client = client
        self.connections = 0
        self.before_mb = self.peak_mb = rss_mb(pid)

    async def _sample(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                conns = await asyncio.to_thread(api_redis_connections, self.client, self.pid)
            except (OSError, redis.RedisError):
                conns = 0
            self.connections = max(self.connections, conns)
            self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            await asyncio.sleep(SAMPLE_SECONDS)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Watch]:
        stop = asyncio.Event()
        task = asyncio.create_task(self._sample(stop))
        try:
            yield self
        finally:
            stop.set()
            await task

    def memory(self) -> dict[str, float]:
        return {"before_mb": self.before_mb, "peak_mb": self.peak_mb, "after_mb": rss_mb(self.pid)}


class Health:
    """Latencies of ``GET /healthz`` on one kept-alive connection, in seconds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []

    def summary(self) -> tuple[float, float, float]:
        """p50, p95 and the most, in ms."""
        got = self.latencies
        if len(got) < 2:
            return (0.0, 0.0, 0.0)
        return (pct(got, 50), pct(got, 95), max(got) * 1000)

    async def probe(self, host: str, port: int, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        try:
            while not stop.is_set():
                before = time.monotonic()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.latencies.append(time.monotonic() - before)
                await asyncio.sleep(PROBE_SECONDS)
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def probe_health(host: str, port: int) -> AsyncIterator[Health]:
    """Probe ``/healthz`` every 0.1 s while the block runs."""
    health = Health()
    stop = asyncio.Event()
    task = asyncio.create_task(health.probe(host, port, stop))
    try:
        yield health
    finally:
        stop.set()
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await task
