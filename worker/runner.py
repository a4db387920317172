"""One job's run: the engine's records into the store, in batches, until done or cancelled.

The Celery task only calls :func:`run_job`; tests call it directly with a fake training.
Every store write is retried with backoff while Redis is unreachable (a restart, a failover),
for up to ``heartbeat_grace_seconds``: training waits meanwhile, so nothing is lost or written
twice (a write whose reply was lost is repeated, and the store skips iterations it has). Past
that, the API's reaper has reported the job failed ("worker lost") and the run gives up.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import redis
from celery.exceptions import SoftTimeLimitExceeded

from engine.experiment import ExperimentSpec
from engine.train import Training
from store.codec import dumps
from store.jobs import Job
from store.logs import job_context
from store.memory import out_of_memory
from store.settings import Settings
from store.sync_store import JobStore, Record

log = logging.getLogger(__name__)
T = TypeVar("T")
# LOADING after a restart included; READONLY is a demoted master during a failover, until the
# clients reach the new one
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)


class StoreUnavailableError(Exception):
    """Redis stayed unreachable for longer than the run waits for it."""


class NotStartedError(Exception):
    """The job could not be marked running; it is still queued, so its task must be again."""


def retry_while_unreachable(call: Callable[[], T], patience: float, what: str) -> T:
    """``call()``, retried with exponential backoff (50 ms to 1 s) for ``patience`` seconds."""
    delay, give_up = 0.05, time.monotonic() + patience
    while True:
        try:
            return call()
        except UNREACHABLE as exc:
            if time.monotonic() + delay > give_up:
                raise StoreUnavailableError(
                    f"Redis unreachable for {patience:g} s ({what})"
                ) from exc
            log.warning("%s: Redis unreachable, retrying in %.2f s: %s", what, delay, exc)
            time.sleep(delay)
            delay = min(2 * delay, 1.0)


class TrainingLike(Protocol):
    summary: dict[str, Any] | None

    def run_with_snapshots(
        self, should_stop: Callable[[], bool] | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]: ...

    def dataset_payload(self) -> dict[str, Any] | None: ...


MakeTraining = Callable[..., TrainingLike]


class Monitor(threading.Thread):
    """Polls the cancel flag and writes heartbeats beside the training loop.

    ``stop`` is set once the job is cancelled, deleted, or no longer ``running``; the loop
    reads it through an ``Event`` (no round-trip per iteration).
    """

    def __init__(self, store: JobStore, job_id: str, poll: float, heartbeat: float) -> None:
        super().__init__(name=f"monitor-{job_id}", daemon=True)
        self.store, self.job_id, self.poll, self.heartbeat = store, job_id, poll, heartbeat
        self.stop = threading.Event()
        self._closed = threading.Event()

    def run(self) -> None:
        with job_context(self.job_id):
            self._loop()

    def _loop(self) -> None:
        last_beat, unreachable = 0.0, False
        while not self._closed.wait(self.poll):
            beat = time.monotonic() - last_beat >= self.heartbeat
            try:
                status, cancel = self.store.tick(self.job_id, beat)
            except redis.RedisError as exc:  # the loop goes on; the next tick retries
                if not unreachable:  # once per outage, not once per poll
                    log.warning("job %s: monitor could not reach Redis: %s", self.job_id, exc)
                unreachable = True
                continue
            except MemoryError:  # the job hit WORKER_MEMORY_BYTES: its own thread fails it with
                continue  # that reason; a monitor dead here would let the reaper call it lost
            if unreachable:
                log.info("job %s: monitor reached Redis again", self.job_id)
                unreachable = False
            if beat:
                last_beat = time.monotonic()
            if cancel or status != "running":
                self.stop.set()

    def close(self) -> None:
        self._closed.set()
        self.join()


class Writer:
    """Buffers records and snapshots; flushes them with one script call by size or time.

    A flush is written by a thread of its own while training goes on (the write is mostly a
    wait on Redis, which runs on the other core); at most one is in flight, so batches land in
    order, and a failed write surfaces at the next flush.
    """

    def __init__(self, store: JobStore, job: Job, settings: Settings) -> None:
        self.store, self.job = store, job
        self.batch_size = settings.record_batch_size
        self.flush_seconds = settings.record_flush_seconds
        self.patience = settings.heartbeat_grace_seconds
        self.records: list[tuple[int, Record]] = []
        self.snapshots: list[tuple[int, Record]] = []
        self.dataset: bytes | None = None
        self.iteration: int | None = None
        self.status: str | None = "running"
        self._last_flush = float("-inf")  # the first record goes out at once
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")
        self._pending: Future[str | None] | None = None
        self.broken = False  # a write failed: nothing after it may be written (no gap)

    @property
    def progress(self) -> float:
        """How far the job got: a redelivered run counts what earlier deliveries stored."""
        total = self.job.iterations
        reached = max(self.iteration or 0, self.job.iteration or 0)
        return 1.0 if total == 0 else min(1.0, reached / total)

    def add(self, record: dict[str, Any], snapshot: dict[str, Any] | None) -> None:
        if snapshot is not None:
            self.snapshots.append((int(snapshot["iteration"]), snapshot))
        self.iteration = int(record["iteration"])
        # the store skips iterations already written (a redelivered job starts over); it packs
        # them (store/packing.py) in the writer's thread
        self.records.append((self.iteration, record))
        full = len(self.records) >= self.batch_size
        if full or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Send what is buffered; with ``wait``, return once everything sent is stored."""
        self._collect()
        if self.records or self.snapshots or self.dataset:
            fields: dict[str, Any] = {"progress": self.progress}
            if self.iteration is not None:
                fields["iteration"] = self.iteration
            records, snapshots, dataset = self.records, self.snapshots, self.dataset
            self._pending = self._executor.submit(
                retry_while_unreachable,
                lambda: self.store.append(self.job, records, snapshots, dataset, **fields),
                self.patience,
                "write records",
            )
            self.records, self.snapshots, self.dataset = [], [], None
            self._last_flush = time.monotonic()
        if wait:
            self._collect()

    def close(self) -> None:
        """Wait for a write in flight (its error, if any, is dropped) and end the thread."""
        self._executor.shutdown(wait=True)

    def _collect(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                self.status = pending.result()  # re-raises the write's error here
            except Exception:
                self.broken = True
                raise


def run_job(
    store: JobStore, job_id: str, settings: Settings, make_training: MakeTraining | None = None
) -> str | None:
    """Run a queued job to its end; returns the final status (None if it did not run)."""
    with job_context(job_id):
        return _run(store, job_id, settings, make_training or Training)


def _run(
    store: JobStore, job_id: str, settings: Settings, make_training: MakeTraining
) -> str | None:
    patience = settings.heartbeat_grace_seconds
    attempt = secrets.token_hex(8)  # makes a start or finish repeated after a lost reply safe
    try:
        job = retry_while_unreachable(
            lambda: store.start(job_id, settings.max_deliveries, attempt), patience, "start"
        )
    except (redis.RedisError, StoreUnavailableError) as exc:
        raise NotStartedError(f"job {job_id} could not be started: {exc}") from exc
    if job is None:
        log.info("job %s not started: deleted, cancelled, finished or over its deliveries", job_id)
        return None
    log.info("job %s started (delivery %d)", job_id, job.deliveries)

    monitor = Monitor(store, job_id, settings.cancel_poll_seconds, settings.heartbeat_seconds)
    writer = Writer(store, job, settings)
    monitor.start()
    try:
        spec = ExperimentSpec.model_validate(job.spec)
        training = make_training(spec, mnist_dir=settings.mnist_dir)
        dataset = training.dataset_payload()
        writer.dataset = dumps(dataset) if dataset is not None else None

        def should_stop() -> bool:
            return monitor.stop.is_set() or writer.status != "running"

        for record, snapshot in training.run_with_snapshots(should_stop=should_stop):
            writer.add(record, snapshot)
        writer.flush()
    except Exception as exc:  # the job fails, the worker lives on; the traceback goes to its log
        log.exception("job %s failed", job_id)
        message = str(exc)[:2000] or type(exc).__name__
        if isinstance(exc, SoftTimeLimitExceeded):
            message = f"ran over the time limit of {settings.task_soft_time_limit} s"
        elif isinstance(exc, MemoryError):
            message = out_of_memory(settings.worker_memory_bytes)
        error = {"type": type(exc).__name__, "message": message}
        try:
            if not writer.broken:  # records after a failed write would leave a gap
                writer.flush()
            store.finish(job_id, "failed", error=error, progress=writer.progress, attempt=attempt)
        except (redis.RedisError, StoreUnavailableError):
            log.warning("job %s: could not record its failure; the reaper will", job_id)
            return None
        return "failed"
    finally:
        monitor.close()
        writer.close()
    summary = training.summary or {}
    status = "cancelled" if summary.get("stopped") else "succeeded"
    progress = 1.0 if status == "succeeded" else writer.progress

    def finish() -> bool:
        return store.finish(job_id, status, summary=summary, progress=progress, attempt=attempt)

    if not retry_while_unreachable(finish, patience, "finish"):
        log.info("job %s ended while no longer running (deleted or marked failed)", job_id)
        return None
    log.info("job %s %s", job_id, status, extra={"iterations": writer.iteration})
    return status
