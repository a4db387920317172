"""Reading a finished sweep (``GET /v1/sweeps/{id}``): ended jobs' results remembered by the
API process (``SWEEP_CACHE_ENTRIES``) against read from their records on every request.

One run starts its own redis-server and two uvicorn APIs on it, one remembering (the default
10000 entries) and one not (0); no Celery worker: the sweep's jobs go to a queue nobody
consumes and each is run in this process by the worker's own runner (worker/runner.py), so
their records are what a worker writes. Then ``--reads`` GETs of the finished sweep go to
each API in turn (alternating which goes first, after a warm-up read of each), and it prints
the median and p90 latency, the ratio, and checks that both answer the same body.

    .venv/bin/python -m bench.sweep_reads [--variations 8] [--iterations 1000] [--reads 40]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.jobs import median_ms, pct
from scripts import launch
from scripts.redis_server import RedisServer
from store.settings import Settings
from store.sync_store import JobStore
from worker.runner import run_job

QUEUE = "initlab-bench-sweep-reads"  # nobody consumes it


def finished_sweep(http: httpx.Client, store: JobStore, variations: int, iterations: int) -> str:
    """A sweep of ``variations`` playground runs (a seed each), every one run to its end."""
    base = {"preset": "playground", "training": {"iterations": iterations}}
    body = {"base": base, "vary": {"init.seed": list(range(1, variations + 1))}, "force": True}
    response = http.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    sweep = response.json()
    settings = Settings(celery_queue=QUEUE)
    for variation in sweep["variations"]:
        assert run_job(store, variation["job_id"], settings) == "succeeded"
    return str(sweep["id"])


def timed_get(http: httpx.Client, path: str, times: list[float]) -> dict[str, Any]:
    start = time.perf_counter()
    response = http.get(path)
    times.append(time.perf_counter() - start)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variations", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=40)
    args = parser.parse_args()
    print(f"sweep reads  {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC  "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="initlab-bench-") as tmp, RedisServer() as server:
        env = {**os.environ, "REDIS_URL": server.url, "CELERY_QUEUE": QUEUE}
        with (
            launch.api_server({**env, "SWEEP_CACHE_ENTRIES": "10000"}, Path(tmp) / "a.log") as on,
            launch.api_server({**env, "SWEEP_CACHE_ENTRIES": "0"}, Path(tmp) / "b.log") as off,
            httpx.Client(base_url=on.url, timeout=60) as remembering,
            httpx.Client(base_url=off.url, timeout=60) as reading,
        ):
            store = JobStore.from_url(server.url)
            sweep_id = finished_sweep(remembering, store, args.variations, args.iterations)
            path = f"/v1/sweeps/{sweep_id}"
            times: dict[str, list[float]] = {"remembered": [], "read": []}
            bodies = {  # a warm-up read of each, untimed
                "remembered": timed_get(remembering, path, []),
                "read": timed_get(reading, path, []),
            }
            assert bodies["remembered"] == bodies["read"]
            for r in range(args.reads):
                order = [("remembered", remembering), ("read", reading)]
                for name, http in order if r % 2 == 0 else order[::-1]:
                    assert timed_get(http, path, times[name]) == bodies[name]
    print(f"  {args.variations} finished jobs of {args.iterations + 1} records (playground), "
          f"{args.reads} reads each")  # fmt: skip
    for name, values in times.items():
        print(f"  {name:>10}: median {median_ms(values):7.1f} ms   p90 {pct(values, 90):7.1f} ms")
    ratio = median_ms(times["read"]) / median_ms(times["remembered"])
    print(f"  read from the records / remembered (median): {ratio:.1f}x")


if __name__ == "__main__":
    main()
