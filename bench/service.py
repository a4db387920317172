"""The service end to end: submit-to-done, submissions/s, metrics reads, Redis bytes per record.

One run starts its own redis-server, one Celery worker (one process) and uvicorn on free
loopback ports (scripts/launch.py, the same launcher the test suite uses), then measures:

a. the playground preset (1,000 iterations, decision boundary every 10) from ``POST`` to
   ``succeeded`` as a client polling ``GET /v1/jobs/{id}`` sees it, against the bare engine
   (``Training(spec).run()`` consumed in this process, with the worker's BLAS threads); rounds
   alternate the two, every job has a fresh seed and ``force``, so no stored job is reused.
   Also the CPU time of the worker's processes against the bare engine's (steadier than wall
   time on a shared machine);
b. ``POST /v1/jobs`` with 20 concurrent keep-alive clients: throughput, p50/p99 latency and the
   CPU per request of the API, Redis and the client, once with httpx.AsyncClient and once with
   a bare HTTP/1.1 client (httpx costs the client more CPU than the API spends). The worker
   stops consuming meanwhile (the API alone is measured, and the jobs do not pile onto it);
   afterwards the queue is purged and the jobs cancelled;
c. ``GET /v1/jobs/{id}/metrics`` of a 1,000-record job, parsed by the client, against the
   same stream read straight from Redis (``XRANGE`` with redis-py, every record parsed), a few
   ``fields``/``every`` queries, and the same for the playground job;
d. Redis bytes per stored record: ``MEMORY USAGE`` of the stream over its length.

Nothing passes or fails: numbers and ratios are printed, with the targets of issue 3.
Part (b) is bench/submissions.py; what the benches share is bench/jobs.py.

    .venv/bin/python -m bench.service [--rounds 7] [--requests 2000] [--clients 20] [--reads 41]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
import orjson
import redis
from threadpoolctl import threadpool_limits

from bench.jobs import (
    add_clocks,
    alternate,
    bench_stack,
    fresh,
    median_ms,
    pct,
    submit,
    tree_cpu_seconds,
    wait_done,
)
from bench.submissions import bench_submit
from engine.spec import resolve
from engine.train import Training
from store.keys import Keys
from store.packing import entry_json

QUEUE = "initlab-bench"
TARGET_DONE_S = 0.5  # issue 3: the playground job done within 0.5 s of submission
TARGET_VS_ENGINE = 1.5  # ... and at most 1.5x the bare engine
TARGET_SUBMIT_RATE = 300.0  # at least 300 submissions/s with 20 clients
TARGET_READ_RATIO = 2.0  # a 1,000-record read within 2x the raw Redis read

PLAYGROUND = {"preset": "playground"}
# 999 updates recorded every iteration: 1,000 records (histograms every 10, no boundary)
THOUSAND = {"training": {"iterations": 999}, "record": {"boundary": {"every": 0}}}


# ------------------------------------------------------------------ (a) the playground job


def bench_playground(
    http: httpx.Client, rounds: int, blas_threads: int, worker: subprocess.Popen
) -> dict[str, list[float]]:
    """Alternating rounds of the bare engine and the service; wall and CPU seconds of each."""
    spec = resolve(PLAYGROUND)
    t: dict[str, list[float]] = {
        name: [] for name in ("done", "queued", "running", "server", "engine", "cpu", "engine_cpu")
    }

    def bare() -> None:
        with threadpool_limits(blas_threads):
            cpu, start = time.process_time(), time.perf_counter()
            for _ in Training(spec).run():
                pass
            t["engine"].append(time.perf_counter() - start)
            t["engine_cpu"].append(time.process_time() - cpu)

    def service() -> None:
        cpu, start = tree_cpu_seconds(worker.pid), time.perf_counter()
        job = wait_done(http, submit(http, fresh(PLAYGROUND))["id"])
        t["done"].append(time.perf_counter() - start)
        t["cpu"].append(tree_cpu_seconds(worker.pid) - cpu)
        add_clocks(job, t)

    alternate(rounds, bare, service, t)
    return t


# ------------------------------------------------------------------ (c) + (d) reads, memory


def bench_reads(
    http: httpx.Client, client: redis.Redis, job_id: str, reads: int, query: dict[str, Any]
) -> dict[str, Any]:
    key = Keys(job_id).records
    url = f"/v1/jobs/{job_id}/metrics"

    def api() -> int:
        response = http.get(url, params=query)
        assert response.status_code == 200, response.text
        body = orjson.loads(response.content)
        assert body["next"] is None
        return len(body["records"])

    def entries() -> list[tuple[bytes, dict[bytes, bytes]]]:
        return cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(key))

    def raw() -> int:
        return len([orjson.loads(entry_json(fields)) for _, fields in entries()])

    assert api() == raw()  # one full page: the same records
    timings: dict[str, list[float]] = {"api": [], "raw": []}
    contenders: list[tuple[str, Callable[[], int]]] = [("api", api), ("raw", raw)]
    for r in range(reads):
        for name, read in contenders if r % 2 == 0 else contenders[::-1]:
            start = time.perf_counter()
            read()
            timings[name].append(time.perf_counter() - start)
    stored = entries()
    return {
        **timings,
        "records": len(stored),
        "memory": client.memory_usage(key, samples=0),
        "payload": sum(len(entry_json(fields)) for _, fields in stored),
    }


def bench_variants(
    http: httpx.Client, job_id: str, reads: int, queries: list[dict[str, Any]]
) -> list[tuple[str, float, int]]:
    out = []
    for query in queries:
        times, n = [], 0
        for _ in range(reads):
            start = time.perf_counter()
            n = len(
                orjson.loads(http.get(f"/v1/jobs/{job_id}/metrics", params=query).content)[
                    "records"
                ]
            )
            times.append(time.perf_counter() - start)
        out.append(("&".join(f"{k}={v}" for k, v in query.items()), median_ms(times), n))
    return out


# ------------------------------------------------------------------ the run


def installed(name: str) -> str:
    try:
        importlib.import_module(name)
    except ImportError:
        return "no"
    return "yes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="playground rounds (a)")
    parser.add_argument("--requests", type=int, default=2000, help="submissions (b)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (b)")
    parser.add_argument("--cap", type=float, default=30.0, help="seconds at most (b)")
    parser.add_argument("--reads", type=int, default=41, help="reads per contender (c)")
    args = parser.parse_args()

    with bench_stack("bench.service", QUEUE) as (stack, http, settings):
        print(f"  uvloop {installed('uvloop')}, httptools {installed('httptools')}, "
              f"hiredis {installed('hiredis')}")  # fmt: skip
        server, api, (worker,) = stack.redis, stack.api, stack.workers
        client = redis.Redis.from_url(server.url)
        a = bench_playground(http, args.rounds, settings.worker_blas_threads, worker)
        b = bench_submit(api, server, QUEUE, args.clients, args.requests, args.cap)
        thousand = wait_done(http, submit(http, fresh(THOUSAND))["id"])
        c = bench_reads(http, client, thousand["id"], args.reads, {})
        queries: list[dict[str, Any]] = [
            {"fields": "cost"},
            {"fields": "cost,layers"},
            {"every": 10},
        ]
        variants = bench_variants(http, thousand["id"], args.reads, queries)
        play = wait_done(http, submit(http, fresh(PLAYGROUND))["id"])
        p = bench_reads(http, client, play["id"], max(5, args.reads // 4), {"limit": 1001})
        client.close()
    report(a, b, c, p, variants, args)
    return 0


def report(
    a: dict[str, Any],
    b: dict[str, Any],
    c: dict[str, Any],
    p: dict[str, Any],
    variants: list[tuple[str, float, int]],
    args: argparse.Namespace,
) -> None:
    done, engine = median_ms(a["done"]), median_ms(a["engine"])
    print(f"\n(a) playground preset, submit -> succeeded, median of {len(a['done'])} rounds")
    print(f"    service       {done:7.0f} ms   (target <= {TARGET_DONE_S * 1000:.0f} ms)")
    print(f"    bare engine   {engine:7.0f} ms")
    print(f"    ratio         {done / engine:7.2f} x   (target <= {TARGET_VS_ENGINE})")
    server = median_ms(a["server"])
    print(f"    server side   {server:7.0f} ms   ({server / engine:.2f} x; created_at -> "
          f"finished_at: {median_ms(a['queued']):.0f} ms queued, "
          f"{median_ms(a['running']):.0f} ms running)")  # fmt: skip
    cpu, engine_cpu = median_ms(a["cpu"]), median_ms(a["engine_cpu"])
    print(f"    CPU           {cpu:7.0f} ms   worker processes, against {engine_cpu:.0f} ms "
          f"for the bare engine: {cpu / engine_cpu:.2f} x (steadier under load)")  # fmt: skip

    for client, result in b.items():
        lat, n = result["latencies"], len(result["latencies"])
        rate = n / result["wall"]
        print(f"\n(b) POST /v1/jobs, {args.clients} concurrent {client} clients, {n} requests "
              f"in {result['wall']:.2f} s")  # fmt: skip
        print(f"    throughput    {rate:7.0f} /s   (target >= {TARGET_SUBMIT_RATE:.0f})")
        print(f"    latency       p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms")
        per = {name: cpu / n * 1000 for name, cpu in result["cpu"].items()}
        print(f"    CPU per POST  API {per['api']:.2f} ms, Redis {per['redis']:.2f} ms, "
              f"client {per['client']:.2f} ms (2 cores in all)")  # fmt: skip
        if result["errors"]:
            print(f"    non-202       {result['errors']}")

    for title, r in (("1,000-record job", c), ("playground job (boundary every 10)", p)):
        api, raw = median_ms(r["api"]), median_ms(r["raw"])
        mib = r["payload"] / 2**20
        print(f"\n(c) GET /metrics, {title}: {r['records']} records, {mib:.1f} MiB of JSON")
        print(f"    API           {api:7.1f} ms   (HTTP + client parse)")
        print(f"    raw Redis     {raw:7.1f} ms   (XRANGE + orjson.loads per record)")
        print(f"    ratio         {api / raw:7.2f} x   (target <= {TARGET_READ_RATIO})")
        if r is c:
            for query, ms, count in variants:
                print(f"    ?{query:<16}{ms:7.1f} ms   ({count} records)")
        per = r["memory"] / r["records"]
        print(f"(d) Redis bytes per record {per:8.0f}   (JSON {r['payload'] / r['records']:.0f} B)")


if __name__ == "__main__":
    sys.exit(main())
