"""Head-of-line blocking: a playground job idle and behind two 10-epoch MNIST jobs, before and
after lanes.

``.venv/bin/python -m bench.lanes [--rounds 5]`` (about a minute). Two stacks in turn, each
with its own redis-server, uvicorn and workers on loopback (scripts/launch.py):

- **single lane** (as on main before lanes): one worker of one process and one first-in
  first-out list (every job interactive, ``LANE_SHARES=1``);
- **two lanes**: an interactive and a batch worker, one process each (the defaults).

In each: ``rounds`` playground jobs one after another on an idle service (after a warm-up of
each worker), then two MNIST jobs of 1,000 batches (10 epochs of the 10,000 test images) and,
once the first runs, playground jobs one after another until the MNIST jobs end (at least
one). Times are submit-to-succeeded at the client (POST, then polling every 20 ms). Prints
median busy / median idle per stack; the target (issue 9) is at most 1.5x with two lanes.
Every job is deleted once measured, so Redis stays small.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.jobs import fresh, submit, wait_done
from scripts import launch

QUEUE = "initlab-bench-lanes"
PLAYGROUND: dict[str, Any] = {"preset": "playground"}
MNIST_10_EPOCHS: dict[str, Any] = {"preset": "mnist", "training": {"iterations": 1000}}
TARGET = 1.5


def playground_seconds(http: httpx.Client) -> float:
    """Submit a fresh playground job, wait until it succeeded; its time, then delete it."""
    start = time.perf_counter()
    job = wait_done(http, submit(http, fresh(PLAYGROUND))["id"], timeout=600)
    seconds = time.perf_counter() - start
    http.delete(f"/v1/jobs/{job['id']}")
    return seconds


def status(http: httpx.Client, job_id: str) -> str:
    return str(http.get(f"/v1/jobs/{job_id}").json()["status"])


def measure(http: httpx.Client, rounds: int) -> dict[str, list[float]]:
    """Idle times, then times while two long MNIST jobs are queued or running."""
    warm = fresh({"preset": "mnist", "training": {"iterations": 3}})
    wait_done(http, submit(http, warm)["id"], timeout=600)  # MNIST read, the batch worker warm
    playground_seconds(http)
    idle = [playground_seconds(http) for _ in range(rounds)]
    longs = [submit(http, fresh(MNIST_10_EPOCHS))["id"] for _ in range(2)]
    while status(http, longs[0]) == "queued":
        time.sleep(0.05)
    busy: list[float] = []
    while not busy or any(status(http, job_id) in ("queued", "running") for job_id in longs):
        busy.append(playground_seconds(http))
    for job_id in longs:
        http.delete(f"/v1/jobs/{job_id}")
    return {"idle": idle, "busy": busy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="idle playground jobs per stack")
    args = parser.parse_args()
    print(f"bench.lanes  {time.strftime('%Y-%m-%d %H:%M')}  python {platform.python_version()}")
    print(f"  cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the start")
    results = {}
    single: dict[str, str] = {"INTERACTIVE_MAX_FLOPS": "1e30", "LANE_SHARES": "1"}
    stacks: list[tuple[str, bool, dict[str, str]]] = [
        ("single lane", False, single),
        ("two lanes", True, {}),
    ]
    for name, lanes, env in stacks:
        with (
            tempfile.TemporaryDirectory(prefix="initlab-bench-") as tmp,
            launch.service_stack(QUEUE, Path(tmp), 1, lanes, **env) as stack,
            httpx.Client(base_url=stack.api.url, timeout=60) as http,
        ):
            results[name] = measure(http, args.rounds)
    print(f"  load average {os.getloadavg()[0]:.1f} at the end")
    print("\nplayground preset, submit -> succeeded (s)")
    print("| stack | idle median | busy median | busy max | busy jobs | busy / idle |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        idle, busy = statistics.median(r["idle"]), statistics.median(r["busy"])
        print(f"| {name} | {idle:.2f} | {busy:.2f} | {max(r['busy']):.2f} | {len(r['busy'])} "
              f"| **{busy / idle:.2f}x** |")  # fmt: skip
    print(f"\ntarget (issue 9): two lanes busy / idle <= {TARGET}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
