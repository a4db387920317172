"""The job store as the worker sees it: a synchronous redis-py client."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

import redis

from store import durations, lua
from store.codec import dumps, loads, now_iso
from store.ids import new_job_id
from store.jobs import (
    Job,
    append_call,
    queue_create,
    queue_trim,
    read_job_call,
    transition_call,
    transition_reply,
)
from store.keys import ACTIVE, RESERVED_KEY, Keys
from store.lanes import parse_queue
from store.packing import is_snapshot_field, pack_record, pack_snapshot

log = logging.getLogger(__name__)
Record = dict[str, Any] | bytes  # a record or snapshot, or its JSON
# one append script call: packed records, params-hash fields, the dataset, job hash fields
Call = tuple[
    list[tuple[int, tuple[bytes, bytes]]], list[tuple[str, bytes]], bytes | None, dict[str, Any]
]


def as_dict(record: Record) -> dict[str, Any]:
    return loads(record) if isinstance(record, bytes) else record


def worker_name() -> str:
    """host:pid of this process, kept on the job it runs (for logs and operators)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)


class JobStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._read_job = client.register_script(lua.READ_JOB)
        self._transition = client.register_script(lua.TRANSITION)
        self._append = client.register_script(lua.APPEND)
        self._tick = client.register_script(lua.TICK)

    @classmethod
    def from_url(cls, url: str) -> JobStore:
        return cls(connect(url))

    def create(self, spec: dict[str, Any], spec_hash: str, ttl: int) -> str:
        """Store a new queued job (tests and scripts; the API has its own async twin)."""
        job_id = new_job_id()
        pipe = self.redis.pipeline()
        queue_create(pipe, job_id, spec, spec_hash, ttl)
        queue_trim(pipe, ttl)
        pipe.execute()
        return job_id

    def get(self, job_id: str) -> Job | None:
        keys, args = read_job_call(job_id, None)
        return Job.from_reply(self._read_job(keys, args))

    def transition(
        self, job_id: str, target: str, sources: tuple[str, ...], **fields: Any
    ) -> tuple[bool, str | None]:
        """Set status ``target`` (and ``fields``) if the status is one of ``sources``."""
        keys, args = transition_call(job_id, target, sources, fields)
        return transition_reply(self._transition(keys, args))

    def start(self, job_id: str, max_deliveries: int, attempt: str = "") -> Job | None:
        """Mark a queued (or redelivered running) job running; None if it must not run.

        ``attempt`` names this run: a start repeated because its reply was lost finds the job
        already started by it, and neither counts another delivery nor refuses it.
        """
        job = self.get(job_id)
        if job is not None and attempt and job.status == "running" and job.attempt == attempt:
            return job
        if job is None or job.status not in ACTIVE:
            return None
        deliveries = job.deliveries + 1
        if deliveries > max_deliveries:
            message = (
                f"delivered {deliveries} times, over the limit of {max_deliveries}: "
                "the worker running it was lost each time"
            )
            error = {"type": "RedeliveryLimit", "message": message}
            self.finish(job_id, "failed", ACTIVE, error=error)
            return None
        fields: dict[str, Any] = {"deliveries": deliveries, "worker": worker_name()}
        if attempt:
            fields["attempt"] = attempt
        if job.started_at is None:
            fields["started_at"] = now_iso()
        applied, _ = self.transition(job_id, "running", ACTIVE, **fields)
        return self.get(job_id) if applied else None

    def finish(
        self,
        job_id: str,
        status: str,
        sources: tuple[str, ...] = ("running",),
        *,
        summary: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        attempt: str = "",
        **fields: Any,
    ) -> bool:
        """End the job ``status`` if its status is one of ``sources``. With ``attempt``, a
        repeat of this run's own finish whose reply was lost counts as applied."""
        finished = time.time()
        fields["finished_at"] = now_iso(finished)
        if summary is not None:
            fields["summary"] = dumps(summary)
        if error is not None:
            fields["error"] = dumps(error)
        applied, before = self.transition(job_id, status, sources, **fields)
        if not applied and attempt and before == status:
            applied = self.redis.hget(Keys(job_id).job, "attempt") == attempt.encode()
        if applied:
            self._observe_duration(job_id, status, finished)
            self._release(job_id)
        return applied

    def _release(self, job_id: str) -> None:
        """Free the job's storage reservation: its real bytes count from now (best effort:
        the next reservation drops it anyway)."""
        try:
            self.redis.hdel(RESERVED_KEY, job_id)
        except redis.RedisError as exc:
            log.warning("job %s: storage reservation not freed: %s", job_id, exc)

    def _observe_duration(self, job_id: str, status: str, finished: float) -> None:
        """Count the run time in the shared histogram (best effort: the job has ended)."""
        try:
            started_at, queue = self.redis.hmget(Keys(job_id).job, "started_at", "queue")
            seconds = durations.run_seconds(started_at, finished)
            if seconds is not None:
                pipe = self.redis.pipeline(transaction=True)
                durations.queue_observe(pipe, status, seconds)
                name = queue.decode() if isinstance(queue, bytes) else queue
                where = parse_queue(name) if name else None
                if where is not None:  # the lane's mean run time: queued jobs' estimated start
                    durations.queue_observe_lane(pipe, where[0], seconds)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("job %s: run time not counted in the metrics: %s", job_id, exc)

    def append(
        self,
        job: Job,
        records: list[tuple[int, Record]],
        snapshots: list[tuple[int, Record]],
        dataset: bytes | None = None,
        **fields: Any,
    ) -> str | None:
        """Write records, snapshots, dataset and ``fields`` while the job runs; its status.

        Records and snapshots are dicts (their lists may be NumPy arrays, as the engine hands
        them) or their JSON, stored packed (store/packing.py). The records, dataset and
        ``fields`` go first; a snapshot's chunks one per script call, its header in the last,
        so Redis never holds more than one chunk beyond what it keeps.
        """
        packed = [(i, pack_record(as_dict(record))) for i, record in records]
        chunks: list[tuple[str, bytes]] = []
        headers: list[tuple[str, bytes]] = []
        for iteration, snapshot in snapshots:
            *parts, header = pack_snapshot(iteration, as_dict(snapshot))
            chunks += parts
            headers.append(header)
        calls: list[Call] = [(packed, [], dataset, fields)]  # the records first: they show
        calls += [([], [chunk], None, {}) for chunk in chunks]
        if headers:
            calls.append(([], headers, None, {}))
        status, written = b"", []
        try:
            for call_records, call_snapshots, call_dataset, call_fields in calls:
                status = self._append(
                    *append_call(job, call_records, call_snapshots, call_dataset, call_fields)
                )
                written += [name for name, _ in call_snapshots if not is_snapshot_field(name)]
                if status != b"running":
                    break
        except redis.OutOfMemoryError:  # a full store: the chunks without a header are freed
            if written:
                self.redis.hdel(Keys(job.id).params, *written)
            raise
        return status.decode() or None

    def tick(self, job_id: str, heartbeat: bool) -> tuple[str | None, bool]:
        """(status, cancel requested), writing a heartbeat if asked and the job runs."""
        keys = Keys(job_id)
        status, cancel = self._tick([keys.job, keys.cancel], [int(heartbeat)])
        return status.decode() or None, bool(cancel)
