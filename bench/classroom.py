"""A classroom on one deployment: 40 page users run playground jobs while 2 run MNIST sweeps.

``.venv/bin/python -m bench.classroom [--seconds 180] [--users 40] [--sweepers 2]`` (about
four minutes, CPU-heavy). A stack of its own on loopback (scripts/launch.py: its redis-server,
an interactive and a batch worker of one process each, one uvicorn), then:

- **idle**: ``--idle`` playground jobs one after another, each followed over SSE to its end;
- **class**: for ``--seconds``, ``--users`` simulated page users each submit a playground job
  with their own seed, follow ``GET /v1/jobs/{id}/events`` to its ``end`` event, pause 2-5 s
  and go again; ``--sweepers`` users each post an MNIST sweep (one epoch, four initializers),
  poll it until it ends, and go again. A user's job in flight at the deadline is finished.

It prints playground submit-to-done p50 / p95 against idle, body bytes received per playground
job (POST + event stream, as sent), Redis bytes per job (``MEMORY USAGE`` of every key of one
job in ten), peak ``used_memory``, errors (any non-2xx answer, transport error or job that did
not succeed) and what ``/readyz`` says of the store. Users delete their jobs once measured
(``--keep`` keeps them). They reuse connections as a page does (bench/browser_http.py); any
transport error left counts, with its method and path. ``--logs DIR`` keeps the stack's logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis

from bench.browser_http import LIMITS, Resends, failed, get, open_stream
from bench.jobs import pct
from scripts import launch
from store.keys import Keys

QUEUE = "initlab-bench-classroom"
SWEEP = {
    "base": {"preset": "mnist"},
    "vary": {"init.method": ["zero", "uniform", "xavier", "standard_normal"]},
}
MAX_RESUMES = 20  # reconnections of one stream after a resume event
DRAIN_SECONDS = 120.0  # at most this long after the deadline for the jobs in flight


class Class:
    """What every simulated user adds to."""

    def __init__(self, redis_url: str, keep: bool) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.keep = keep
        self.resumes = 0  # streams cut off as slow readers and resumed (not errors)
        self.resend = Resends()  # GETs whose connection closed before any response
        self.refused = 0  # 507: the store was full and the submission was refused
        self.times: list[float] = []
        self.bytes: list[int] = []
        self.job_bytes: list[int] = []
        self.errors: list[str] = []
        self.sweeps = 0
        self.sweep_jobs = 0

    def sample_job_bytes(self, job_id: str) -> None:
        keys = Keys(job_id)
        names = keys.data()
        self.job_bytes.append(sum(self.redis.memory_usage(n, samples=0) or 0 for n in names))


async def play(http: httpx.AsyncClient, seed: int, room: Class, sample: bool) -> float | None:
    """One playground job: submit, follow its events to the end; its time, or None on error."""
    start = time.perf_counter()
    body = {"preset": "playground", "training": {"seed": seed}, "force": True}
    response = await http.post("/v1/jobs", json=body)
    received = response.num_bytes_downloaded
    if response.status_code == 507:  # the full-store policy refused it: counted, not an error
        room.refused += 1
        return None
    if response.status_code != 202:
        room.errors.append(f"POST /v1/jobs {response.status_code}: {response.text[:200]}")
        return None
    job_id = response.json()["id"]
    ended, streamed = await follow(http, job_id, room)
    if streamed is None:
        return None
    received += streamed
    seconds = time.perf_counter() - start
    if not ended.startswith(b"event: end") or b'"succeeded"' not in ended:
        said = ended[:120].decode(errors="replace")
        room.errors.append(f"job {job_id} ended {said}")
        return None
    room.bytes.append(received)
    if sample:
        await asyncio.to_thread(room.sample_job_bytes, job_id)
    if not room.keep:
        await http.delete(f"/v1/jobs/{job_id}")
    return seconds


Followed = tuple[bytes, int | None]


async def follow(http: httpx.AsyncClient, job_id: str, room: Class) -> Followed:
    """Read a job's events to its ``end`` event, reconnecting with ``Last-Event-ID`` after a
    ``resume`` event as a browser's EventSource does: (the end event, or the stream's last
    bytes when it did not end so; bytes as sent, None after an HTTP error)."""
    received, last_id = 0, None
    for _ in range(MAX_RESUMES + 1):
        headers = {"Last-Event-ID": last_id} if last_id is not None else None
        tail = b""
        async with open_stream(http, f"/v1/jobs/{job_id}/events", headers, room.resend) as stream:
            if stream.status_code != 200:
                room.errors.append(f"GET events {stream.status_code}")
                return b"", None
            async for chunk in stream.aiter_bytes():  # decoded: the stream may be compressed
                tail = (tail + chunk)[-4096:]
            received += stream.num_bytes_downloaded  # as sent: compressed when it was
        if b"event: end" in tail:
            return tail[tail.rindex(b"event: end") :], received
        if b"event: resume" not in tail:
            return tail[-200:], received
        room.resumes += 1  # cut off as a slow reader: go on after the last record it got
        data = tail[tail.rindex(b"event: resume") :].split(b"data: ", 1)[1].split(b"\n", 1)[0]
        after = orjson.loads(data)["after"]
        last_id = None if after is None else str(after)
    return b"resumed too often", received


async def page_user(url: str, user: int, room: Class, deadline: float) -> None:
    seeds = iter(range(user * 100_000, (user + 1) * 100_000))
    rng = random.Random(user)
    async with httpx.AsyncClient(base_url=url, timeout=DRAIN_SECONDS, limits=LIMITS) as http:
        await asyncio.sleep(rng.uniform(0, 5))  # the class does not press Play in one instant
        n = 0
        while time.monotonic() < deadline:
            try:
                seconds = await play(http, next(seeds), room, sample=n % 10 == 0)
            except httpx.HTTPError as exc:
                room.errors.append(f"user {user}: {failed(exc)}")
                seconds = None
            if seconds is not None:
                room.times.append(seconds)
            n += 1
            await asyncio.sleep(rng.uniform(2, 5))


async def sweeper(url: str, user: int, room: Class, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=LIMITS) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.post("/v1/sweeps", json={**SWEEP, "force": True})
                if response.status_code == 507:  # the store is full: try again later
                    room.refused += 1
                    await asyncio.sleep(5)
                    continue
                if response.status_code != 202:
                    room.errors.append(f"POST /v1/sweeps {response.status_code}")
                    return
                sweep = response.json()
                while True:
                    read = await get(http, f"/v1/sweeps/{sweep['id']}", room.resend)
                    if read.status_code != 200:
                        room.errors.append(f"GET /v1/sweeps {read.status_code}: {read.text[:200]}")
                        return
                    view = read.json()
                    if view["status"] not in ("queued", "running"):
                        break
                    if time.monotonic() > deadline + DRAIN_SECONDS:
                        break
                    await asyncio.sleep(2)
                bad = [v["status"] for v in view["variations"] if v["status"] != "succeeded"]
                if view["status"] not in ("queued", "running") and bad:
                    room.errors.append(f"sweep {sweep['id']}: {bad}")
                room.sweeps += 1
                room.sweep_jobs += len(view["variations"])
                if not room.keep:
                    await http.delete(f"/v1/sweeps/{sweep['id']}")
            except httpx.HTTPError as exc:
                room.errors.append(f"sweeper {user}: {failed(exc)}")


async def watch_memory(client: redis.Redis, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        used = int(await asyncio.to_thread(lambda: client.info("memory")["used_memory"]))
        peak[0] = max(peak[0], used)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def run_class(url: str, room: Class, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        idle = []
        for i in range(args.idle + 1):  # the first warms the interactive worker up
            seconds = await play(http, 10_000_000 + i, room, sample=i == 1)
            if seconds is not None and i:
                idle.append(seconds)
    peak, stop = [int(room.redis.info("memory")["used_memory"])], asyncio.Event()
    watcher = asyncio.create_task(watch_memory(room.redis, stop, peak))
    deadline = time.monotonic() + args.seconds
    idle_times, room.times = idle, []
    started = time.monotonic()
    await asyncio.gather(
        *(page_user(url, u, room, deadline) for u in range(args.users)),
        *(sweeper(url, u, room, deadline) for u in range(args.sweepers)),
    )
    wall = time.monotonic() - started
    stop.set()
    await watcher
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        ready = (await http.get("/readyz")).json()
        stored = (await http.get("/v1/jobs", params={"limit": 1})).json()["count"]
    return {"idle": idle_times, "peak": peak[0], "wall": wall, "ready": ready, "stored": stored}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--sweepers", type=int, default=2)
    parser.add_argument("--idle", type=int, default=5, help="idle playground jobs")
    parser.add_argument("--keep", action="store_true", help="do not delete measured jobs")
    parser.add_argument("--maxmemory", default=None, help="the stack's Redis limit, e.g. 128mb")
    parser.add_argument("--logs", type=Path, default=None,
                        help="keep the workers' and the API's logs in this directory")  # fmt: skip
    parser.add_argument("--policy", default="refuse", choices=["refuse", "expire_finished"],
                        help="STORE_FULL_POLICY of the stack")  # fmt: skip
    args = parser.parse_args()
    print(f"bench.classroom  {time.strftime('%Y-%m-%d %H:%M')}  python {platform.python_version()}")
    load = os.getloadavg()[0]
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    kept = contextlib.nullcontext(str(args.logs)) if args.logs else None
    with (
        kept or tempfile.TemporaryDirectory(prefix="initlab-bench-") as tmp,
        launch.service_stack(
            QUEUE,
            Path(tmp),
            lanes=True,
            maxmemory=args.maxmemory,
            LOG_LEVEL="WARNING",
            STORE_FULL_POLICY=args.policy,
        ) as stack,  # fmt: skip
    ):
        room = Class(stack.redis.url, args.keep)
        r = asyncio.run(run_class(stack.api.url, room, args))
        room.redis.close()
    report(args, room, r, load)
    return 0


def report(args: argparse.Namespace, room: Class, r: dict[str, Any], load: float) -> None:
    mb = 1e6
    idle, times = r["idle"], room.times
    end = os.getloadavg()[0]
    print(f"  cpus {os.cpu_count()}, load average {load:.1f} at the start, {end:.1f} at the "
          "end; workers: interactive 1 process, batch 1")  # fmt: skip
    print(f"  {args.users} page users, {args.sweepers} MNIST sweepers, {args.seconds:g} s "
          f"(all ended after {r['wall']:.0f} s)\n")  # fmt: skip
    rows: list[tuple[str, str]] = []
    if times and idle:
        p50, p95 = pct(times, 50), pct(times, 95)
        i50 = statistics.median(idle) * 1000
        i95 = pct(idle, 95) if len(idle) > 1 else i50
        what = "playground submit-to-done p50 / p95"
        rows += [
            (f"{what}, idle", f"{i50:.0f} / {i95:.0f} ms ({len(idle)} jobs)"),
            (f"{what}, class", f"{p50:.0f} / {p95:.0f} ms ({len(times)} jobs)"),
            ("class / idle", f"p50 **{p50 / i50:.2f}x**, p95 **{p95 / i95:.2f}x**"),
        ]
    if room.bytes:
        per_job = statistics.mean(room.bytes) / mb
        rows.append(("bytes received per playground job (POST + SSE)", f"{per_job:.2f} MB"))
    if room.job_bytes:
        what = f"Redis bytes per playground job (MEMORY USAGE, {len(room.job_bytes)} sampled)"
        rows.append((what, f"{statistics.mean(room.job_bytes) / mb:.2f} MB"))
    rows += [
        ("peak Redis used_memory", f"{r['peak'] / mb:.0f} MB"),
        ("MNIST sweeps ended (their jobs)", f"{room.sweeps} ({room.sweep_jobs})"),
        ("errors", str(len(room.errors))),
        ("streams resumed after a resume event", str(room.resumes)),
        ("GETs sent again (connection closed before a response)", str(room.resend.count)),
    ]
    store = r["ready"].get("store") or {}
    policy = f"{args.policy}, maxmemory {args.maxmemory or 'the default'}"
    rows += [
        ("full-store policy", policy),
        ("submissions refused (507)", str(room.refused)),
        ("jobs in the store at the end (listed)", str(r["stored"])),
        ("store at the end (/readyz)", ", ".join(f"{k} {v / mb:.0f} MB" for k, v in store.items())),
    ]
    print("| what | value |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")
    for error in room.errors[:10]:
        print(f"  error: {error}")


if __name__ == "__main__":
    raise SystemExit(main())
