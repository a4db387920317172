"""A run rides out a short Redis outage; job durations are counted once; logs carry the job id.

Outages are simulated by a store whose writes fail a few times (real Redis behind it); the
real restart of a real server is tests/e2e/test_redis_restart.py.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import redis

from store import durations
from store.keys import durations_key
from store.logs import JsonFormatter
from store.settings import Settings
from store.sync_store import JobStore
from tests.worker.test_runner import SPEC, FakeTraining, iterations
from worker.runner import StoreUnavailableError, retry_while_unreachable, run_job


@pytest.fixture
def settings(redis_db: str) -> Settings:
    return Settings(
        redis_url=redis_db, heartbeat_seconds=0.1, heartbeat_grace_seconds=2.0, record_batch_size=2
    )


@pytest.fixture
def store(settings: Settings) -> JobStore:
    return JobStore.from_url(settings.redis_url)


def flaky(call: Callable[..., Any], failures: int, *, after: bool = False) -> Callable[..., Any]:
    """``call`` that raises ConnectionError ``failures`` times: before it runs, or ``after``
    it ran (the reply was lost: the write is done but the caller cannot know)."""
    left = [failures]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if left[0] and not after:
            left[0] -= 1
            raise redis.ConnectionError("Connection refused")
        result = call(*args, **kwargs)
        if left[0] and after:
            left[0] -= 1
            raise redis.ConnectionError("Connection reset by peer")
        return result

    return wrapped


def test_persist_retries_until_the_call_succeeds() -> None:
    assert retry_while_unreachable(flaky(lambda: "ok", 3), patience=5, what="test") == "ok"


def test_persist_gives_up_after_its_patience() -> None:
    with pytest.raises(StoreUnavailableError, match=r"unreachable for 0\.2 s"):
        retry_while_unreachable(flaky(lambda: "ok", 1000), patience=0.2, what="test")


@pytest.mark.parametrize("after", [False, True], ids=["refused", "reply-lost"])
def test_a_run_rides_out_failing_writes_with_every_record_once(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch, after: bool
) -> None:
    job_id = store.create(SPEC, "h", 100)
    monkeypatch.setattr(store, "append", flaky(store.append, 4, after=after))
    monkeypatch.setattr(store, "finish", flaky(store.finish, 2))
    assert run_job(store, job_id, settings, FakeTraining) == "succeeded"
    assert iterations(store, job_id) == [0, 5, 10, 15, 20]
    assert store.get(job_id).status == "succeeded"  # type: ignore[union-attr]


def test_a_run_whose_store_stays_down_gives_up_without_crashing_the_worker(
    store: JobStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"heartbeat_grace_seconds": 0.3})
    job_id = store.create(SPEC, "h", 100)
    monkeypatch.setattr(store, "append", flaky(store.append, 10**6))
    monkeypatch.setattr(store, "finish", flaky(store.finish, 10**6))
    assert run_job(store, job_id, settings, FakeTraining) is None
    job = store.get(job_id)
    assert job is not None and job.status == "running"  # the reaper reports it (WorkerLost)


def test_an_ended_job_is_counted_once_in_the_duration_histogram(store: JobStore) -> None:
    before = durations.parse([store.redis.hgetall(durations_key(s)) for s in durations.FINAL])
    job_id = store.create(SPEC, "h", 100)
    store.start(job_id, 3)
    assert store.finish(job_id, "succeeded", summary={})
    assert not store.finish(job_id, "succeeded", summary={})  # not applied: not counted again
    after = durations.parse([store.redis.hgetall(durations_key(s)) for s in durations.FINAL])
    (buckets, _), (old, _) = after["succeeded"], before["succeeded"]
    assert buckets[-1][1] - old[-1][1] == 1  # +Inf bucket = count
    assert buckets[0] == ("0.1", old[0][1] + 1)  # started and ended within 0.1 s
    assert after["failed"] == before["failed"]


def test_buckets_are_cumulative_and_end_with_inf() -> None:
    assert durations.bucket_of(0.05) == "0.1" and durations.bucket_of(7) == "10"
    assert durations.bucket_of(10**5) == "+Inf"
    reply = {b"0.1": b"2", b"10": b"1", b"+Inf": b"1", b"sum": b"1e5", b"count": b"4"}
    buckets, total = durations.parse([reply, {}, {}])["succeeded"]
    assert buckets[0] == ("0.1", 2.0) and dict(buckets)["10"] == 3.0
    assert buckets[-1] == ("+Inf", 4.0) and total == 1e5


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_worker_log_lines_are_json_carrying_the_job_id(
    store: JobStore, settings: Settings, json_lines: io.StringIO
) -> None:
    job_id = store.create(SPEC, "h", 100)
    run_job(store, job_id, settings, FakeTraining)
    lines = [orjson.loads(line) for line in json_lines.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"] == "worker.runner"]
    assert [line["msg"] for line in ours][-1] == f"job {job_id} succeeded"
    assert all(line["job_id"] == job_id and line["level"] == "info" for line in ours)
    assert ours[-1]["iterations"] == 20 and ours[-1]["ts"].endswith("Z")


def test_a_terminal_only_extra_stays_out_of_the_json(json_lines: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").warning(
        "Uvicorn running on %s", "http://x", extra={"color_message": "\x1b[1m%s\x1b[0m"}
    )
    [line] = [orjson.loads(line) for line in json_lines.getvalue().splitlines()]
    assert line["msg"] == "Uvicorn running on http://x" and "color_message" not in line


def test_celery_task_lines_carry_the_job_id(json_lines: io.StringIO) -> None:
    from store.queue import RUN_JOB

    data = {"id": "ab" * 16, "name": RUN_JOB, "runtime": 0.1}
    logging.getLogger("celery.app.trace").info("Task %(name)s succeeded", {"name": RUN_JOB})
    logging.getLogger("celery.app.trace").info("Task succeeded", extra={"data": data})
    first, second = (orjson.loads(line) for line in json_lines.getvalue().splitlines())
    assert "job_id" not in first and second["job_id"] == "ab" * 16
