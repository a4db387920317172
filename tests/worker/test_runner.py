"""The job runner with a fake training loop, against a real Redis (no Celery here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from engine.spec import resolve
from store.codec import loads
from store.keys import Keys
from store.packing import entry_json, is_snapshot_field, snapshot_json
from store.settings import Settings
from store.sync_store import JobStore
from worker.runner import run_job

SPEC = resolve({"training": {"iterations": 20}, "record": {"every": 5}}).model_dump(mode="json")


class WorkerDied(BaseException):
    """Stands for a killed worker process: nothing after it runs."""


class FakeTraining:
    """Yields records at 0, every, ..., last like engine.train.Training."""

    def __init__(
        self,
        spec: Any,
        *,
        mnist_dir: str | None = None,
        delay: float = 0.0,
        raise_at: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.last, self.every = spec.training.iterations, spec.record.every
        self.delay, self.raise_at, self.error = delay, raise_at, error
        self.summary: dict[str, Any] | None = None

    def run_with_snapshots(
        self, should_stop: Callable[[], bool] | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        for it in range(self.last + 1):
            if it == self.raise_at:
                raise self.error or RuntimeError("boom")
            if it % self.every == 0 or it == self.last:
                record: dict[str, Any] = {"iteration": it, "cost": 1.0 / (it + 1)}
                snapshot: dict[str, Any] | None = None
                if it in (0, self.last):
                    snapshot = {
                        "iteration": it,
                        "layers": [{"weights": [[it]], "biases": [0.0]}],
                    }
                yield record, snapshot
            if it == self.last:
                break
            if should_stop is not None and should_stop():
                self.summary = {"stopped": True, "iterations_run": it}
                return
            time.sleep(self.delay)
        self.summary = {"final_cost": 0.5, "stopped": False, "iterations_run": self.last}

    def dataset_payload(self) -> dict[str, Any]:
        return {"train": {"x": [[0.0, 1.0]], "y": [1]}, "test": {"x": [], "y": []}}


def iterations(store: JobStore, job_id: str) -> list[int]:
    return [loads(entry_json(f))["iteration"] for _, f in store.redis.xrange(Keys(job_id).records)]


def test_a_job_runs_to_success_with_every_record_once(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"
    job = store.get(job_id)
    assert job is not None and job.status == "succeeded" and job.progress == 1.0
    assert job.started_at and job.finished_at and job.iteration == 20
    assert job.summary == {"final_cost": 0.5, "stopped": False, "iterations_run": 20}
    assert iterations(store, job_id) == [0, 5, 10, 15, 20]
    assert loads(store.redis.get(Keys(job_id).dataset))["train"]["y"] == [1]


def test_parameter_snapshots_are_stored_apart_from_records(
    store: JobStore, settings: Settings
) -> None:
    job_id = store.create(SPEC, "h", 100)
    run_job(store, job_id, settings, FakeTraining)
    snapshots = store.redis.hgetall(Keys(job_id).params)
    assert sorted(int(k) for k in snapshots if is_snapshot_field(k)) == [0, 20]
    assert loads(snapshot_json(snapshots[b"20"], []))["layers"][0]["weights"] == [[20]]
    first = loads(entry_json(store.redis.xrange(Keys(job_id).records)[0][1]))
    assert "parameters" not in first


def test_a_job_cancelled_while_queued_never_starts(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    assert store.transition(job_id, "cancelled", ("queued",))[0]

    def must_not_run(*_: Any, **__: Any) -> FakeTraining:
        raise AssertionError("a cancelled job was started")

    assert run_job(store, job_id, settings, must_not_run) is None
    job = store.get(job_id)
    assert job is not None and job.status == "cancelled" and job.started_at is None


def test_the_cancel_flag_stops_a_running_job_within_a_second(
    store: JobStore, settings: Settings
) -> None:
    spec = resolve({"training": {"iterations": 100_000}, "record": {"every": 10}})
    job_id = store.create(spec.model_dump(mode="json"), "h", 100)
    result: list[str | None] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_job(store, job_id, settings, partial(FakeTraining, delay=0.001))
        )
    )
    thread.start()
    while not store.redis.exists(Keys(job_id).records):
        time.sleep(0.01)
    asked = time.monotonic()
    store.redis.set(Keys(job_id).cancel, 1)
    thread.join(5)
    assert time.monotonic() - asked < 1.0
    assert result == ["cancelled"]
    job = store.get(job_id)
    assert job is not None and job.status == "cancelled" and job.summary["stopped"]  # type: ignore[index]
    kept = iterations(store, job_id)
    assert kept and kept == sorted(set(kept))


def test_a_failure_keeps_its_type_message_and_records(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    training = partial(FakeTraining, raise_at=12, error=FloatingPointError("overflow in layer 2"))
    assert run_job(store, job_id, settings, training) == "failed"
    job = store.get(job_id)
    assert job is not None and job.status == "failed" and job.finished_at
    assert job.error == {"type": "FloatingPointError", "message": "overflow in layer 2"}
    assert iterations(store, job_id) == [0, 5, 10]


def test_a_redelivered_job_resumes_without_duplicates(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    with pytest.raises(WorkerDied):
        run_job(store, job_id, settings, partial(FakeTraining, raise_at=17, error=WorkerDied()))
    assert store.get(job_id).status == "running"  # type: ignore[union-attr]
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"
    assert iterations(store, job_id) == [0, 5, 10, 15, 20]
    assert store.get(job_id).deliveries == 2  # type: ignore[union-attr]


def test_a_job_delivered_too_often_fails(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    store.redis.hset(Keys(job_id).job, "deliveries", settings.max_deliveries)
    assert run_job(store, job_id, settings, FakeTraining) is None
    job = store.get(job_id)
    assert job is not None and job.status == "failed"
    assert job.error is not None and job.error["type"] == "RedeliveryLimit"


def test_a_job_deleted_while_running_stops_and_writes_nothing_more(
    store: JobStore, settings: Settings
) -> None:
    job_id = store.create(SPEC, "h", 100)
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (
            run_job(store, job_id, settings, partial(FakeTraining, delay=0.05)),
            done.set(),
        )
    )
    thread.start()
    while not store.redis.exists(Keys(job_id).records):
        time.sleep(0.01)
    keys = Keys(job_id)
    store.redis.set(keys.cancel, 1)
    store.redis.delete(*keys.data())
    assert done.wait(2)
    assert not store.redis.exists(*keys.data())


def test_a_job_over_its_time_limit_fails_saying_so(store: JobStore, settings: Settings) -> None:
    job_id = store.create(SPEC, "h", 100)
    training = partial(FakeTraining, raise_at=7, error=SoftTimeLimitExceeded())
    assert run_job(store, job_id, settings, training) == "failed"
    job = store.get(job_id)
    assert job is not None and job.error is not None
    assert job.error["type"] == "SoftTimeLimitExceeded" and "time limit" in job.error["message"]
