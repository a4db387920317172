"""What the benches share: fresh job bodies, submit and wait, the jobs' own clocks, rounds
that alternate two contenders, percentiles, and the CPU time of processes.
"""

from __future__ import annotations

import itertools
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from scripts import launch
from store.keys import FINAL
from store.settings import Settings

# how often the client asks for a job's status in (a): often enough to see the end within
# 10 ms on average, seldom enough not to take CPU from the worker on a 2-core machine
POLL_SECONDS = 0.02

_seeds = itertools.count(1_000_000 + os.getpid() % 1000 * 10_000)


def fresh(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a seed no stored job has, and ``force``: always a new job."""
    training = {**body.get("training", {}), "seed": next(_seeds)}
    return {**body, "training": training, "force": True}


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def pct(values: list[float], p: int) -> float:
    """The p-th percentile, in ms."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def submit(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_done(
    http: httpx.Client, job_id: str, timeout: float = 120.0, poll: float = POLL_SECONDS
) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` every ``poll`` seconds until it ends; it must succeed."""
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in FINAL:
            assert job["status"] == "succeeded", job
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(poll)


def stamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def add_clocks(job: dict[str, Any], timings: dict[str, list[float]]) -> None:
    """The job's own clocks: created -> started (queued), started -> finished (running), both."""
    created, started = stamp(job["created_at"]), stamp(job["started_at"])
    finished = stamp(job["finished_at"])
    timings["queued"].append(started - created)
    timings["running"].append(finished - started)
    timings["server"].append(finished - created)


def alternate(
    rounds: int,
    bare: Callable[[], None],
    service: Callable[[], None],
    timings: dict[str, list[float]],
) -> None:
    """One untimed warm-up of each, then ``rounds`` of both, alternating which goes first."""
    service()  # warm up: the worker's first job imports and reads what later ones reuse
    bare()
    for values in timings.values():
        values.clear()
    for r in range(rounds):
        for contender in (bare, service) if r % 2 == 0 else (service, bare):
            contender()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its children (a Celery worker and its pool processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


@contextmanager
def bench_stack(name: str, queue: str) -> Iterator[tuple[launch.Stack, httpx.Client, Settings]]:
    """Print the bench's header line, then yield a service of its own (its redis-server, one
    one-process worker and uvicorn: scripts/launch.py), a client of it and the settings."""
    settings = Settings()
    print(f"{name}  {time.strftime('%Y-%m-%d %H:%M')}  python {platform.python_version()}")
    print(
        f"  cpus {os.cpu_count()}, worker: 1 process, {settings.worker_blas_threads} BLAS thread(s)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="initlab-bench-") as tmp,
        launch.service_stack(queue, Path(tmp)) as stack,
        httpx.Client(base_url=stack.api.url, timeout=60) as http,
    ):
        yield stack, http, settings
