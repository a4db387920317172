"""Load: 1,000 small jobs from 50 concurrent clients on two workers; nothing lost, memory freed.

Starts its own redis-server, two Celery workers (one process each) and uvicorn on free loopback
ports (scripts/launch.py, as the tests do) with a short ``JOB_TTL_SECONDS``, then: Redis
``used_memory``; ``--jobs`` playground jobs (a distinct seed each, 21x21 boundary) submitted by
``--clients`` clients on their own keep-alive connections (latency p50/p99, submissions/s);
waits (watching ``/metrics``) until all ended; counts per job its status and its records, by
``XLEN`` with the first and last iteration (ids strictly increase, so the right count means
each iteration once) and through ``GET /v1/jobs/{id}/metrics``; ``used_memory`` after the run,
after every job key expired, and after one listing per index dropped the expired ids.

Loopback only, bounded by ``--deadline`` in all, stops by itself (SIGTERM too). Exits 1 if a
job did not succeed or a record is missing; ``--readme`` writes the numbers to its section of
bench/README.md, keeping the others.

    .venv/bin/python -m bench.load [--jobs 1000] [--clients 50] [--ttl 120] [--readme]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from scripts import launch
from store.keys import Keys, iteration_of

QUEUE = "initlab-load"
README = Path(__file__).parent / "README.md"
SECTION = "## Load (bench/load.py)"


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if time.monotonic() > self.end:
            raise TimeoutError(f"load: out of time during {stage}")


def spec(seed: int, iterations: int) -> dict[str, Any]:
    training = {"iterations": iterations, "seed": seed}
    return {
        "preset": "playground",
        "training": training,
        "record": {"boundary": {"resolution": 21}},
    }


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    families = text_string_to_metric_families(text)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


Work = Callable[[httpx.AsyncClient, int], Awaitable[None]]


async def pool(clients: int, count: int, work: Work, url: str, deadline: Deadline) -> None:
    """``work(client, i)`` for i < count, by ``clients`` concurrent clients of their own."""
    todo = iter(range(count))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for i in todo:
                deadline.check("requests")
                await work(http, i)

    await asyncio.gather(*(client() for _ in range(clients)))


async def submit_all(url: str, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    ids: list[str | None] = [None] * args.jobs
    latencies: list[float] = []
    refused: list[str] = []

    async def submit(http: httpx.AsyncClient, i: int) -> None:
        start = time.perf_counter()
        response = await http.post("/v1/jobs", json=spec(args.seed0 + i, args.iterations))
        latencies.append(time.perf_counter() - start)
        if response.status_code == 202:
            ids[i] = response.json()["id"]
        else:
            refused.append(f"{response.status_code} {response.text[:200]}")

    began = time.perf_counter()
    await pool(args.clients, args.jobs, submit, url, deadline)
    wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"ids": [i for i in ids if i], "refused": refused, "wall": wall,
            "p50": cuts[49], "p99": cuts[98], "max": max(latencies)}  # fmt: skip


async def wait_until_ended(url: str, n: int, deadline: Deadline) -> dict[str, float]:
    """Scrape /metrics until ``n`` jobs have a final status, or none is left to run (a job
    whose TTL passed while it was queued is gone unrun); the last scrape, the peak queue."""
    peak, idle, last_print = 0.0, 0, time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while True:
            values = samples((await http.get("/metrics")).text)
            jobs = {dict(k[1])["status"]: v for k, v in values.items() if k[0] == "initlab_jobs"}
            queue = next(v for k, v in values.items() if k[0] == "initlab_queue_length")
            peak = max(peak, queue)
            ended = sum(jobs.get(s, 0) for s in ("succeeded", "failed", "cancelled"))
            idle = idle + 1 if queue + jobs.get("queued", 0) + jobs.get("running", 0) == 0 else 0
            if time.monotonic() - last_print > 5:
                print(f"load: {ended:.0f} ended, {queue:.0f} in the queue", file=sys.stderr)
                last_print = time.monotonic()
            if ended >= n or idle >= 3:
                done = {f"jobs_{s}": v for s, v in jobs.items()}
                count = values[("initlab_job_duration_seconds_count", (("status", "succeeded"),))]
                total = values[("initlab_job_duration_seconds_sum", (("status", "succeeded"),))]
                return {**done, "queue_peak": peak, "run_mean_s": total / max(count, 1)}
            deadline.check("the jobs to end")
            await asyncio.sleep(0.5)


async def count_records(
    url: str,
    client: redis.Redis,
    ids: list[str],
    expected: int,
    args: argparse.Namespace,
    deadline: Deadline,
) -> dict[str, int]:
    """Jobs succeeded, and jobs whose records are all there: in Redis and through the API."""
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(Keys(job_id).job, "status")
        pipe.xlen(Keys(job_id).records)
        pipe.xrange(Keys(job_id).records, count=1)
        pipe.xrevrange(Keys(job_id).records, count=1)
    replies = pipe.execute()
    succeeded = whole_in_redis = 0
    for status, length, first, last in zip(*[iter(replies)] * 4, strict=True):
        succeeded += status == b"succeeded"
        ends = first and last and iteration_of(first[0][0]) == 0
        whole_in_redis += bool(
            length == expected and ends and iteration_of(last[0][0]) == expected - 1
        )
    whole_via_api = 0

    async def read(http: httpx.AsyncClient, i: int) -> None:
        nonlocal whole_via_api
        response = await http.get(f"/v1/jobs/{ids[i]}/metrics", params={"fields": "iteration"})
        records = response.json()["records"] if response.status_code == 200 else []
        whole_via_api += [record["iteration"] for record in records] == list(range(expected))

    await pool(args.clients, len(ids), read, url, deadline)
    return {
        "succeeded": succeeded,
        "whole_in_redis": whole_in_redis,
        "whole_via_api": whole_via_api,
    }


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def wait_for_expiry(client: redis.Redis, deadline: Deadline) -> float:
    """Seconds until no job key is left (Redis expires them itself)."""
    began = time.monotonic()
    while next(client.scan_iter("initlab:job:*", count=1000), None) is not None:
        deadline.check("the TTL to expire the jobs")
        time.sleep(1.0)
    return time.monotonic() - began


async def drop_expired_ids(url: str) -> None:
    """One listing per index: a listing drops the ids whose job has expired."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for status in (None, "succeeded", "failed", "cancelled", "queued", "running"):
            await http.get("/v1/jobs", params={"status": status} if status else {})


def run(args: argparse.Namespace) -> dict[str, Any]:
    deadline = Deadline(args.deadline)
    logs = Path(tempfile.mkdtemp(prefix="initlab-load-"))
    with launch.service_stack(
        QUEUE, logs, workers=2, JOB_TTL_SECONDS=str(args.ttl), LOG_LEVEL="WARNING"
    ) as stack:
        client = redis.Redis.from_url(stack.redis.url)
        url = stack.api.url
        result: dict[str, Any] = {"mem_before": used_memory(client), "load": os.getloadavg()[0]}
        submitted = asyncio.run(submit_all(url, args, deadline))
        ended = asyncio.run(wait_until_ended(url, len(submitted["ids"]), deadline))
        expected = args.iterations + 1  # iteration 0 and every update (record every 1)
        counts = asyncio.run(count_records(url, client, submitted["ids"], expected, args, deadline))
        result |= {**submitted, **ended, **counts, "expected": expected,
                   "mem_after": used_memory(client)}  # fmt: skip
        result["expired_after_s"] = wait_for_expiry(client, deadline)
        result["mem_expired"] = used_memory(client)
        asyncio.run(drop_expired_ids(url))
        result["mem_listed"] = used_memory(client)
        result["keys_left"] = sorted(k.decode() for k in client.scan_iter(count=1000))
    result["logs"] = str(logs)
    return result


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    mib = 1024 * 1024
    n = args.jobs
    return "\n".join([
        f"{n} jobs (playground, {args.iterations} iterations, 21x21 boundary, distinct seeds) from "
        f"{args.clients} concurrent clients; 2 Celery workers x 1 process, 1 uvicorn process, "
        f"JOB_TTL_SECONDS={args.ttl}; {os.cpu_count()} cores (load average {r['load']:.1f} at "
        f"the start, a shared machine), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| what | value |",
        "|---|---|",
        f"| accepted (202) | {len(r['ids'])} / {n} (refused: {len(r['refused'])}) |",
        f"| submission latency p50 / p99 / max | {r['p50'] * 1000:.1f} / {r['p99'] * 1000:.1f} / "
        f"{r['max'] * 1000:.1f} ms |",
        f"| submissions/s | {n / r['wall']:.0f} ({r['wall']:.1f} s for all) |",
        f"| succeeded | {r['succeeded']} / {n} |",
        f"| jobs with every record in Redis (XLEN = {r['expected']}, iterations "
        f"0..{args.iterations}) | {r['whole_in_redis']} / {n} |",
        f"| jobs with every record, read through the API | {r['whole_via_api']} / {n} |",
        f"| peak queue length (/metrics) | {r['queue_peak']:.0f} |",
        f"| mean job run time (/metrics histogram) | {r['run_mean_s'] * 1000:.0f} ms |",
        f"| Redis used_memory before / after the run | {r['mem_before'] / mib:.1f} / "
        f"{r['mem_after'] / mib:.1f} MiB |",
        f"| ... after the TTL expired ({r['expired_after_s']:.0f} s after the check) | "
        f"{r['mem_expired'] / mib:.1f} MiB |",
        f"| ... and after one listing per index dropped the expired ids | "
        f"{r['mem_listed'] / mib:.1f} MiB |",
        f"| keys left | {len(r['keys_left'])}: {', '.join(r['keys_left'])} |",
        "",
        "`.venv/bin/python -m bench.load --readme` (loopback only, bounded, stops by itself). "
        "Redis, both workers, uvicorn and the clients share the cores, so the submission "
        "latency includes the contention with two busy workers. The TTL counts from creation: "
        "it must exceed the longest wait in the queue (about 75 s for 1,000 jobs here). With "
        "20 s, a fifth of the jobs expired while queued and were never run (the worker logs "
        "`not started`); the run then ends early and exits 1. What stays after expiry is "
        "Celery's bindings and the job-duration histogram (cumulative counters).",
    ])  # fmt: skip


def write_section(text: str, path: Path = README) -> None:
    """Replace this bench's section of the README (or add it at the end); keep the others."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start < 0:
        new = f"{old.rstrip()}\n\n{SECTION}\n\n{text}\n"
    else:
        after = old.find("\n## ", start + len(SECTION))
        rest = old[after:] if after >= 0 else "\n"
        new = f"{old[:start]}{SECTION}\n\n{text}\n{rest}"
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=50)
    ttl_help = "JOB_TTL_SECONDS: over the last job's wait in the queue, or jobs expire unrun"
    parser.add_argument("--ttl", type=int, default=120, help=ttl_help)
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for everything")
    parser.add_argument("--seed0", type=int, default=time.time_ns() % 10**9)
    parser.add_argument("--readme", action="store_true", help=f"write {SECTION!r} in {README}")
    args = parser.parse_args()
    # SIGTERM (a timeout, CI) unwinds like Ctrl-C: every child process is stopped on the way
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(args)
    text = report(args, result)
    print(text, *result["refused"][:3], sep="\n")  # (and a few refusals, if any)
    if args.readme:
        write_section(text)
    whole = min(result["succeeded"], result["whole_in_redis"], result["whole_via_api"])
    return 0 if whole == args.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
