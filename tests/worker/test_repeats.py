"""Repeated steps against a real Redis: a start or finish whose reply was lost, a rerun of a
redelivered job, a write or a start that Redis refuses. None may count a delivery twice, move
a job's progress back, leave a gap in its records or strand it queued.
"""

from __future__ import annotations

from functools import partial

import pytest
import redis
from celery.exceptions import Reject

from store import durations
from store.codec import dumps
from store.keys import Keys, durations_key
from store.settings import Settings
from store.sync_store import JobStore
from tests.worker.test_outage import flaky
from tests.worker.test_runner import SPEC, FakeTraining, WorkerDied, iterations
from worker import tasks
from worker.runner import NotStartedError, run_job

ALL = [0, 5, 10, 15, 20]  # the iterations FakeTraining records for SPEC


def succeeded_count(store: JobStore) -> int:
    replies = [store.redis.hgetall(durations_key(status)) for status in durations.FINAL]
    buckets, _ = durations.parse(replies)["succeeded"]
    return int(buckets[-1][1])  # the +Inf bucket: the count


def test_a_start_whose_reply_was_lost_counts_one_delivery(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"max_deliveries": 1})
    job_id = store.create(SPEC, "h", 100)
    monkeypatch.setattr(store, "start", flaky(store.start, 1, after=True))
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"
    job = store.get(job_id)
    assert job is not None and job.deliveries == 1 and iterations(store, job_id) == ALL


def test_a_finish_whose_reply_was_lost_reports_and_counts_the_end_once(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = succeeded_count(store)
    job_id = store.create(SPEC, "h", 100)
    transition, lost = store.transition, [1]

    def end_reply_lost(job_id: str, target: str, *args: object, **fields: object) -> object:
        result = transition(job_id, target, *args, **fields)  # type: ignore[arg-type]
        if target == "succeeded" and lost[0]:
            lost[0] -= 1
            raise redis.ConnectionError("Connection reset by peer")
        return result

    monkeypatch.setattr(store, "transition", end_reply_lost)
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"
    assert lost == [0] and succeeded_count(store) == before + 1


def test_another_runs_finish_is_not_taken_for_this_ones(store: JobStore) -> None:
    job_id = store.create(SPEC, "h", 100)
    assert store.start(job_id, 3, attempt="a") is not None
    assert store.finish(job_id, "succeeded", attempt="a")
    assert store.finish(job_id, "succeeded", attempt="a")  # this run's own, repeated
    assert not store.finish(job_id, "succeeded", attempt="b")
    assert not store.finish(job_id, "succeeded")


def test_a_rerun_never_moves_iteration_or_progress_back(store: JobStore) -> None:
    job = store.start(store.create(SPEC, "h", 100), 3, attempt="a")
    assert job is not None
    records = [(i, dumps({"iteration": i})) for i in (0, 5, 10, 15)]
    store.append(job, records, [], iteration=15, progress=0.75)
    store.append(job, records[:2], [], iteration=5, progress=0.25)  # a redelivery starts over
    assert (store.get(job.id).iteration, store.get(job.id).progress) == (15, 0.75)  # type: ignore[union-attr]
    store.append(job, [(20, dumps({"iteration": 20}))], [], iteration=20, progress=1.0)
    assert (store.get(job.id).iteration, store.get(job.id).progress) == (20, 1.0)  # type: ignore[union-attr]


def test_a_redelivered_job_cancelled_early_keeps_how_far_it_got(
    store: JobStore, settings: Settings
) -> None:
    settings = settings.model_copy(update={"record_batch_size": 2})  # 5 and 10 stored by 17
    job_id = store.create(SPEC, "h", 100)
    with pytest.raises(WorkerDied):
        run_job(store, job_id, settings, partial(FakeTraining, raise_at=17, error=WorkerDied()))
    stored = iterations(store, job_id)
    assert stored[-1] > 0
    store.redis.set(Keys(job_id).cancel, 1)
    slow = partial(FakeTraining, delay=0.05)
    assert run_job(store, job_id, settings, slow) == "cancelled"  # stops near its iteration 0
    job = store.get(job_id)
    assert job is not None and job.iteration == stored[-1] and job.progress == stored[-1] / 20
    assert iterations(store, job_id) == stored


def test_a_write_redis_refuses_fails_the_job_with_no_gap(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"record_batch_size": 2})  # records 15, 20 come later
    job_id = store.create(SPEC, "h", 100)
    append, calls = store.append, [0]

    def second_write_refused(*args: object, **kwargs: object) -> str | None:
        calls[0] += 1
        if calls[0] == 2:
            raise redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'")
        return append(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "append", second_write_refused)
    assert run_job(store, job_id, settings, FakeTraining) == "failed"
    stored = iterations(store, job_id)
    assert stored == ALL[: len(stored)] and stored != ALL  # a prefix: nothing after the loss
    job = store.get(job_id)
    assert job is not None and job.error is not None and job.error["type"] == "ResponseError"


def test_a_read_only_redis_is_waited_out_at_start(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = store.create(SPEC, "h", 100)
    start, left = store.start, [2]

    def demoted_twice(*args: object, **kwargs: object) -> object:
        if left[0]:
            left[0] -= 1
            raise redis.ReadOnlyError("You can't write against a read only replica.")
        return start(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "start", demoted_twice)
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"


def test_a_start_redis_refuses_goes_back_to_the_queue(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = store.create(SPEC, "h", 100)

    def busy(*args: object, **kwargs: object) -> None:
        raise redis.ResponseError("BUSY Redis is busy running a script")

    monkeypatch.setattr(store, "start", busy)
    with pytest.raises(NotStartedError, match="BUSY"):
        run_job(store, job_id, settings, FakeTraining)
    assert store.get(job_id).status == "queued"  # type: ignore[union-attr]

    monkeypatch.setattr(tasks, "_store", lambda: store)
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    with pytest.raises(Reject) as rejected:  # not acked: the broker hands the task out again
        tasks.run_job.run(job_id)
    assert rejected.value.requeue is True
