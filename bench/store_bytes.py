"""Redis bytes per finished job, against issue 9's targets, and the peak during its writes.

One run starts its own redis-server (no ``maxmemory`` unless ``--maxmemory``), one Celery
worker, the reaper and uvicorn on free loopback ports (scripts/launch.py). A first small job
(``nine_layers``) pays what only the first job costs (Redis loading the scripts, the queue's
own keys); then for each preset, one at a time on an otherwise empty store, it submits it
(``force``, a seed of its own), waits for it to succeed and reports

- ``used_memory`` growth: ``INFO memory`` after the job minus before it (the store is emptied
  of job keys between presets, so each starts from the same base);
- ``MEMORY USAGE`` (``SAMPLES 0``: every element) of each of the job's keys, and their sum;
- the peak: ``used_memory_peak`` (reset by ``CONFIG RESETSTAT`` before the job) minus the base,
  over the bytes that stay stored: the write's overhead (target: at most 1.25x);
- the ratio of the bytes to the target (at most 1.0 meets it);
- the admission estimate of the job (store/estimate.py) over the bytes it took: at least 1.0
  (a reservation never falls short), and how far above.

    .venv/bin/python -m bench.store_bytes [--presets playground,mnist,glorot_2010]
                                          [--maxmemory 256mb]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx
import redis

from bench.jobs import bench_stack, fresh, submit, wait_done
from engine.spec import resolve
from store.estimate import storage_bytes
from store.keys import Keys

QUEUE = "initlab-bench-store"
MB = 1_000_000
TARGETS = {"playground": 1.5 * MB, "mnist": 4 * MB, "glorot_2010": 45 * MB}
PEAK_TARGET = 1.25
TIMEOUT = 600.0  # seconds a job may take (glorot_2010 is the slowest)


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def peak(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory_peak"])


def measure(http: httpx.Client, client: redis.Redis, preset: str) -> dict[str, Any]:
    for key in client.scan_iter("initlab:job:*", count=1000):
        client.delete(key)
    before = used(client)
    client.config_resetstat()
    job = submit(http, fresh({"preset": preset}))
    done = wait_done(http, job["id"], timeout=TIMEOUT, poll=0.2)
    assert done["status"] == "succeeded", done
    after, top = used(client), peak(client)
    keys = Keys(job["id"])
    usage = {
        name: int(client.memory_usage(key, samples=0) or 0)
        for name, key in zip(("job", "records", "params", "dataset"), keys.data(), strict=True)
    }
    estimate = storage_bytes(resolve({"preset": preset}))
    return {"growth": after - before, "keys": usage, "peak": top - before, "estimate": estimate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(TARGETS))
    parser.add_argument("--maxmemory", default="", help="e.g. 256mb: the issue's tight store")
    args = parser.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    with bench_stack("bench.store_bytes", QUEUE) as (stack, http, _settings):
        client = redis.Redis.from_url(stack.redis.url)
        if args.maxmemory:
            client.config_set("maxmemory", args.maxmemory)
            print(f"  maxmemory {args.maxmemory}")
        measure(http, client, "nine_layers")  # one-time costs (scripts, queue keys) paid here
        results = {preset: measure(http, client, preset) for preset in presets}
        client.close()
    print(f"\n{'preset':<12} {'used_memory':>12} {'MEMORY USAGE':>13} {'target':>8} "
          f"{'ratio':>6} {'peak/stored':>11} {'estimate':>9}   per key (MB)")  # fmt: skip
    for preset, r in results.items():
        total = sum(r["keys"].values())
        target = TARGETS.get(preset, float("nan"))
        keys = ", ".join(f"{k} {v / MB:.2f}" for k, v in r["keys"].items())
        print(f"{preset:<12} {r['growth'] / MB:9.2f} MB {total / MB:10.2f} MB "
              f"{target / MB:5.1f} MB {max(r['growth'], total) / target:6.2f} "
              f"{r['peak'] / max(r['growth'], 1):11.2f} "
              f"{r['estimate'] / max(r['growth'], total):8.2f}x   {keys}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
