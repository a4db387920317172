"""The worker's hot path: a playground job's records as arrays or as lists, packed and stored.

Everything runs in this one process, against a redis-server of its own (no Celery, no API), with
the worker's BLAS threads. Each round runs every contender once, in an order that alternates;
the ratios compare medians of the same run:

a. ``engine``: ``Training(spec).run_with_snapshots()`` consumed, the engine alone;
b. ``pack``: one job's records and snapshots through ``pack_record``/``pack_snapshot``, as the
   engine hands them now (arrays) and as it handed them before (``listed``: the boundary grids,
   image predictions and snapshot weights as Python lists, which packing turned back into arrays);
c. ``job``: ``worker.runner.run_job`` of the job, the worker's whole path (training, packing,
   the writer thread's Redis writes, the cancel monitor), once with the engine as it is and
   once with ``ListedTraining``, which hands every record as lists the way the engine did;
d. ``snapshot``: one parameter snapshot of the ``mnist`` preset's network (535,000 float32
   weights, random) packed from arrays, and from lists (made by ``plain``, as the engine did).

    .venv/bin/python -m bench.hotpath [--rounds 9] [--preset playground]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from engine.records import Recorded, Snapshot, plain
from engine.spec import resolve
from engine.train import Training
from scripts.redis_server import RedisServer
from store.packing import pack_record, pack_snapshot
from store.settings import Settings
from store.sync_store import JobStore
from worker.runner import run_job

_BULKY = {"boundary": ("p", "label"), "predictions": ("indices", "labels", "predicted", "correct")}


def listed(recorded: Recorded) -> Recorded:
    """``recorded`` with exactly the arrays the engine used to hand as lists turned into them."""
    record = dict(recorded.record)
    for part, names in _BULKY.items():
        if part in record:
            record[part] = {k: plain(v) if k in names else v for k, v in record[part].items()}
    snapshot: Snapshot | None = None
    if recorded.snapshot is not None:
        snapshot = {**recorded.snapshot, "layers": plain(recorded.snapshot["layers"])}
    return Recorded(record, snapshot)


class ListedTraining(Training):
    """The engine as before: its records' bulky arrays already turned into lists."""

    def run_with_snapshots(
        self, should_stop: Callable[[], bool] | None = None
    ) -> Iterator[Recorded]:
        for recorded in super().run_with_snapshots(should_stop):
            yield listed(recorded)


def pack_all(recorded: list[Recorded]) -> int:
    size = 0
    for record, snapshot in recorded:
        skeleton, frame = pack_record(record)
        size += len(skeleton) + len(frame)
        if snapshot is not None:
            size += sum(len(part) for _, part in pack_snapshot(record["iteration"], snapshot))
    return size


def mnist_snapshot() -> Snapshot:
    sizes = resolve({"preset": "mnist"}).sizes
    rng = np.random.default_rng(0)
    layers = [
        {
            "weights": rng.normal(0, 0.05, (n, m)).astype(np.float32),
            "biases": np.zeros(n, np.float32),
        }
        for m, n in itertools.pairwise(sizes)
    ]
    return {"iteration": 0, "layers": layers}


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``call()``; the CPU time is this process's, every thread's (the
    writer's and the monitor's too, not Redis's), and steadier than wall time under load."""
    start, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--preset", default="playground")
    args = parser.parse_args()
    spec = resolve({"preset": args.preset})
    body = spec.model_dump(mode="json")
    settings = Settings()
    print(f"bench.hotpath  {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, preset {args.preset}, "
          f"{settings.worker_blas_threads} BLAS thread(s)")  # fmt: skip

    records = list(Training(spec).run_with_snapshots())
    snapshot = mnist_snapshot()
    as_lists = [listed(r) for r in records]
    assert pack_all(records) == pack_all(as_lists)  # the same bytes (tests/store prove it)

    with RedisServer() as server, threadpool_limits(settings.worker_blas_threads):
        store = JobStore.from_url(server.url)
        job_settings = settings.model_copy(update={"redis_url": server.url})

        def job(make: type[Training]) -> Callable[[], object]:
            def run() -> object:
                job_id = store.create(body, spec.spec_hash(), 600)
                assert run_job(store, job_id, job_settings, make) == "succeeded"
                return store.redis.delete(*store.get(job_id).keys.data())  # type: ignore[union-attr]

            return run

        contenders: dict[str, Callable[[], object]] = {
            "engine": lambda: list(Training(spec).run_with_snapshots()),
            "pack arrays": lambda: pack_all(records),
            "pack lists": lambda: pack_all(as_lists),
            "job arrays": job(Training),
            "job lists": job(ListedTraining),
            "snapshot arrays": lambda: pack_snapshot(0, snapshot),
            "snapshot lists": lambda: pack_snapshot(0, plain(snapshot)),
        }
        wall: dict[str, list[float]] = {name: [] for name in contenders}
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        for call in contenders.values():  # warm up: imports, first allocations
            call()
        for r in range(args.rounds):
            order = list(contenders.items())
            for name, call in order if r % 2 == 0 else order[::-1]:
                seconds, cpu_seconds = timed(call)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
        store.redis.close()
    print(f"\nmedians of {args.rounds} alternated rounds")
    report("wall", wall)
    report("CPU", cpu)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def report(what: str, times: dict[str, list[float]]) -> None:
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"\n{what}: " + ", ".join(f"{name} {value:.1f} ms" for name, value in ms.items()))
    engine = ms["engine"]
    print(f"  packing: lists / arrays            {ms['pack lists'] / ms['pack arrays']:5.2f} x")
    print(f"  job lists / engine alone           {ms['job lists'] / engine:5.2f} x")
    print(f"  job arrays / engine alone          {ms['job arrays'] / engine:5.2f} x")
    print(f"  job lists / job arrays             {ms['job lists'] / ms['job arrays']:5.2f} x")
    over = (ms["job lists"] - engine, ms["job arrays"] - engine)
    print(f"  worker time over the engine: lists {over[0]:.0f} ms, arrays {over[1]:.0f} ms")
    snapshot = ms["snapshot lists"] / ms["snapshot arrays"]
    print(f"  mnist snapshot: lists / arrays     {snapshot:5.2f} x")


if __name__ == "__main__":
    sys.exit(main())
