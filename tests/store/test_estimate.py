"""The admission estimate against the bytes real jobs take in Redis: never below, at most
TOLERANCE times above (a reservation that falls short could let Redis fill up)."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from engine.spec import resolve
from engine.train import Training
from store.codec import dumps
from store.estimate import recorded, storage_bytes
from store.sync_store import JobStore

TOLERANCE = 3.5  # measured 1.15-3.0x: arrays are counted uncompressed, grids at a byte a cell

CASES = {
    "playground": {"preset": "playground"},
    "playground, 3 classes": {"preset": "playground", "dataset": {"name": "gauss"},
                              "training": {"iterations": 200}},
    "nine_layers": {"preset": "nine_layers"},
    "mnist, 4 steps": {"preset": "mnist", "training": {"iterations": 4}},
    "he_2015, 10 steps": {"preset": "he_2015", "training": {"iterations": 10}},
    "snapshots every 50": {"training": {"iterations": 200},
                           "record": {"every": 5, "parameters": {"every": 50}}},
    "signal every iteration": {"model": {"hidden": [8] * 30, "activation": "tanh"},
                               "init": {"method": "mean_field", "weight_variance": 1.5,
                                        "bias_variance": 0.05},
                               "training": {"iterations": 100},
                               "record": {"every": 1, "histograms": {"every": 0},
                                          "boundary": {"every": 0},
                                          "signal": {"every": 1, "bins": 30}}},
}  # fmt: skip


def stored_bytes(store: JobStore, request: dict[str, Any]) -> tuple[int, int]:
    """(Redis bytes of a real run's keys, its estimate)."""
    spec = resolve(request)
    job_id = store.create(spec.model_dump(mode="json"), spec.spec_hash(), 3600)
    job = store.start(job_id, max_deliveries=3)
    assert job is not None
    training = Training(spec)
    dataset = training.dataset_payload()
    store.append(job, [], [], dataset=dumps(dataset) if dataset is not None else None)
    batch: list[tuple[int, dict[str, Any]]] = []
    for record, snapshot in training.run_with_snapshots():
        batch.append((record["iteration"], record))
        snapshots = [(snapshot["iteration"], snapshot)] if snapshot is not None else []
        if len(batch) == 64 or snapshots:
            store.append(job, batch, snapshots, iteration=record["iteration"])
            batch = []
    store.append(job, batch, [])
    assert store.finish(job_id, "succeeded", summary=training.summary)
    total = sum(int(store.redis.memory_usage(key, samples=0) or 0) for key in job.keys.data())
    return total, storage_bytes(spec)


@pytest.mark.parametrize("name", list(CASES))
def test_the_estimate_bounds_what_a_real_job_stores(name: str, redis_db: str) -> None:
    store = JobStore(redis.Redis.from_url(redis_db))
    measured, estimate = stored_bytes(store, CASES[name])
    assert measured <= estimate <= TOLERANCE * measured, (measured, estimate)


def test_recorded_counts_the_due_iterations_and_the_last() -> None:
    assert recorded(1000, 10) == 101 and recorded(1005, 10) == 102
    assert recorded(1000, 0) == 0 and recorded(0, 1) == 1
    assert [recorded(n, 3) for n in range(7)] == [len({*range(0, n + 1, 3), n}) for n in range(7)]
