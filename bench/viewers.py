"""Viewers: hundreds of event streams of one job against ONE API process (issue 12).

Starts its own redis-server, one one-process Celery worker and one uvicorn process on free
loopback ports (scripts/launch.py), then for each scenario opens N concurrent
``GET /v1/jobs/{id}/events`` at once from ``--clients`` processes (bench/viewer_client.py,
the viewers split evenly) and reads every byte:

- 50, 200 and 500 viewers of a finished playground job (1,001 records, boundary every 10);
- 200 viewers of a live one: a fresh playground job queued behind a short blocker job, so
  every viewer is connected before its first record is written.

Per scenario: errors (HTTP status other than 200, an ``error`` event, a broken connection or a
stream without ``end``), streams complete with every record 0..1000 in order, time to first
body byte p50/p95 (and to the response head), time until every stream has ended, the most
Redis connections of the API seen meanwhile (CLIENT LIST on the server, matched to the API's
own sockets through /proc), and the API's resident memory before, at its peak and 10 s after
the streams ended. ``--probes`` of the viewers read in a client process of their own: with
few streams its loop is never late, so their first byte is the server's, not the crowd
client's backlog (the crowd's own first bytes are stamped by loops that lag seconds behind
the bytes they read). Where the time goes: a ``/healthz`` request every 0.1 s meanwhile (its
latency: the API's event loop), the clients' own loop lag, and the CPU seconds of the API and
of the clients.

A finished job's streams are compared byte for byte with the stream its stored records give
(built here with the API's own encoder and scanned first: records 0..1000 in order, one end);
a stream that differs is scanned on its own. ``--accept`` sets the viewers' Accept-Encoding
(``identity`` by default, as in the issue). Loopback only, bounded by ``--deadline``.

    .venv/bin/python -m bench.viewers [--viewers 50,200,500] [--live 200] [--clients 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis

from api.streams.feed import Feed
from api.streams.hub import end_event, job_status
from bench.jobs import bench_stack, cpu_seconds, fresh, pct, submit, wait_done
from bench.viewer_client import Scan
from bench.viewer_watch import Watch, probe_health
from store.async_store import AsyncJobStore, connect
from store.keys import FINAL

QUEUE = "initlab-viewers"
PLAYGROUND = {"preset": "playground"}
BLOCKER = {"preset": "playground", "training": {"iterations": 3000}, "record": {"every": 1000}}
RECORDS = 1001  # the playground preset's records: iterations 0..1000
SETTLE_SECONDS = 10.0
LAUNCH_SECONDS = 2.0  # the clients start this long after they are spawned (their imports)


async def expected_stream(redis_url: str, job_id: str) -> bytes:
    """A replay of the finished job from its stored records, encoded as the API encodes it."""
    store = AsyncJobStore(connect(redis_url), grace=30.0)
    try:
        job = await store.get(job_id)
        assert job is not None and job.final
        feed = Feed(job_id, 1 << 40)
        feed.add_status(job_status(job))
        after = None
        while entries := await store.read_after(job_id, after, None, 500):
            for iteration, raw in entries:
                feed.add_record(iteration, raw)
            after = entries[-1][0]
        feed.end(end_event(job))
    finally:
        await store.redis.aclose()
    body = b"".join(feed.events)
    scan = Scan()
    scan.feed(body)
    assert scan.complete(RECORDS) and not scan.events.get("error"), "the reference is incomplete"
    return body


def wait_ended(http: httpx.Client, job_id: str, timeout: float = 120.0) -> None:
    """Until the job has ended; answers other than 200 (a 503 under load) are asked again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(f"/v1/jobs/{job_id}")
        if response.status_code == 200 and response.json()["status"] in FINAL:
            return
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not end in {timeout:g} s")


async def client(job: dict[str, Any], ready: asyncio.Event) -> dict[str, Any]:
    """One client process (bench/viewer_client.py): its result; ``ready`` once it said so."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.viewer_client", orjson.dumps(job).decode(),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    result: dict[str, Any] = {}
    async for line in process.stdout:
        message = orjson.loads(line)
        if "ready" in message:
            ready.set()
        else:
            result = message
    await process.wait()
    return result


async def scenario(
    url: str, pid: int, rdb: redis.Redis, job_id: str, n: int, args: argparse.Namespace,
    reference: Path | None, start_job: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``n`` viewers of ``job_id`` at once; ``start_job`` once every viewer got its first byte."""
    parsed = httpx.URL(url)
    watch = Watch(pid, rdb)
    start = time.monotonic() + LAUNCH_SECONDS
    probes = min(args.probes, n)  # viewers in a client process of their own (few streams)
    crowd = n - probes
    share = [crowd // args.clients + (k < crowd % args.clients) for k in range(args.clients)]
    share.append(probes)
    jobs = [
        {"host": parsed.host, "port": parsed.port, "path": f"/v1/jobs/{job_id}/events",
         "viewers": m, "accept": args.accept, "start": start, "deadline": args.deadline,
         "reference": str(reference) if reference else None, "records": RECORDS}
        for m in share if m
    ]  # fmt: skip
    readies = [asyncio.Event() for _ in jobs]
    cpu_before = cpu_seconds(pid)
    async with watch.running(), probe_health(parsed.host, parsed.port or 80) as health:
        clients = asyncio.gather(*(client(j, r) for j, r in zip(jobs, readies, strict=True)))
        released = start
        if start_job is not None:
            await asyncio.gather(*(ready.wait() for ready in readies))
            await start_job()
            released = time.monotonic() - start  # "all ended" counts from the job's start
        results = await clients
    api_cpu = cpu_seconds(pid) - cpu_before
    await asyncio.sleep(SETTLE_SECONDS)
    viewers = [v for r in results for v in r.get("viewers", [])]
    firsts = [v["first"] for v in viewers if "first" in v]
    probed = results[-1].get("viewers", []) if probes else []
    probe_firsts = [v["first"] for v in probed if "first" in v]
    heads = [v["head"] for v in viewers if "head" in v]
    return {
        **watch.memory(),
        "viewers": n,
        "connections": watch.connections,
        "errors": sum(1 for v in viewers if v["error"]) + n - len(viewers),
        "kinds": sorted({v["error"] for v in viewers if v["error"]})[:3],
        "complete": sum(v["complete"] for v in viewers),
        "ttfb": (pct(firsts, 50), pct(firsts, 95)) if len(firsts) > 1 else (0.0, 0.0),
        "head": (pct(heads, 50), pct(heads, 95)) if len(heads) > 1 else (0.0, 0.0),
        "probe": (pct(probe_firsts, 50), pct(probe_firsts, 95)) if len(probe_firsts) > 1 else None,
        "wall": max((v.get("ended", args.deadline) for v in viewers), default=0.0)
        - (released if start_job is not None else 0.0),
        "health": health.summary(),
        "client_lag_ms": max((r["lag"][2] * 1000 for r in results if r), default=0.0),
        "cpu": (api_cpu, sum(r["cpu"] for r in results if r)),
    }


def line(r: dict[str, Any]) -> str:
    return (
        f"| {r['name']} | {r['errors']} | {r['complete']}/{r['viewers']} | "
        f"{r['ttfb'][0]:.0f} / {r['ttfb'][1]:.0f} ms | {r['wall']:.1f} s | "
        f"{r['connections']:.0f} | {r['before_mb']:.0f} / {r['peak_mb']:.0f} / "
        f"{r['after_mb']:.0f} MB |"
    )


def diagnosis(r: dict[str, Any]) -> str:
    health = " / ".join(f"{ms:.0f}" for ms in r["health"])
    probe = "n/a" if r["probe"] is None else f"{r['probe'][0]:.0f} / {r['probe'][1]:.0f} ms"
    return (
        f"| {r['name']} | {r['head'][0]:.0f} / {r['head'][1]:.0f} ms | {probe} | {health} ms | "
        f"{r['client_lag_ms']:.0f} ms | {r['cpu'][0]:.1f} / {r['cpu'][1]:.1f} s |"
    )


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    with (
        bench_stack("bench.viewers", QUEUE) as (stack, http, _settings),
        tempfile.TemporaryDirectory(prefix="initlab-viewers-") as tmp,
    ):
        pid = stack.api.process.pid
        rdb = redis.Redis.from_url(stack.redis.url)
        finished = wait_done(http, submit(http, fresh(PLAYGROUND))["id"])
        reference = Path(tmp) / "reference"
        reference.write_bytes(await expected_stream(stack.redis.url, finished["id"]))
        for n in args.viewers:
            r = await scenario(stack.api.url, pid, rdb, finished["id"], n, args, reference)
            results.append({**r, "name": f"finished, {n}"})
            print(line(results[-1]), flush=True)
        if args.live:
            blocker = submit(http, fresh(BLOCKER))  # holds the worker: the job stays queued
            job = submit(http, fresh(PLAYGROUND))

            async def release() -> None:  # every viewer is connected: let the job run
                await asyncio.to_thread(wait_ended, http, blocker["id"])

            r = await scenario(stack.api.url, pid, rdb, job["id"], args.live, args, None, release)
            results.append({**r, "name": f"live, {args.live}"})
            print(line(results[-1]), flush=True)
        rdb.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="50,200,500", help="finished-job scenarios")
    parser.add_argument("--live", type=int, default=200, help="viewers of a live job (0: none)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--probes", type=int, default=20,
                        help="viewers read in one more process of their own, whose clock is "
                             "not late behind the crowd's bytes")  # fmt: skip
    parser.add_argument("--accept", default="identity", help="the viewers' Accept-Encoding")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds per scenario")
    args = parser.parse_args()
    args.viewers = [int(n) for n in args.viewers.split(",") if n]
    print(f"clients: {args.clients} processes + {args.probes} probe viewers in one more, "
          f"Accept-Encoding: {args.accept}")  # fmt: skip
    print("| viewers | errors | complete | first byte p50 / p95 | all ended | API Redis "
          "connections (most) | API RSS before / peak / 10 s after |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    results = asyncio.run(run(args))
    print("\n| viewers | response head p50 / p95 | probes' first byte p50 / p95 | /healthz p50 / "
          "p95 / most | client loop lag (most) | CPU API / clients |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in results:
        print(diagnosis(r))
    kinds = {r["name"]: r["kinds"] for r in results if r["kinds"]}
    if kinds:
        print(f"error kinds: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
