"""The Redis job store: the one module that knows the key layout.

Keys of job ``{id}`` (every one expires at the job's ``expire_at``, creation + TTL):

- ``initlab:job:{id}`` hash: id, status, progress, iteration, iterations, spec, spec_hash,
  created_at, started_at, finished_at, summary, error, deliveries, heartbeat, expire_at,
  worker (the process running it), attempt (the token of its latest run), reused_from (the
  job whose results it copied), and with auth on ``owner``: the stable id of the API key that
  made it (never the key)
- ``initlab:job:{id}:records`` stream, one entry per record, entry id ``{iteration}-1``,
  so ranges by iteration are direct and a rewrite of an iteration is refused
- ``initlab:job:{id}:params`` hash iteration -> parameter snapshot JSON
- ``initlab:job:{id}:dataset`` string, the 2D data the job trained on
- ``initlab:job:{id}:cancel`` flag the training loop polls
- ``initlab:spec:{hash}`` string: the id of the latest job created with that resolved spec;
  when that job has succeeded, an identical submission gets a copy of it (``reuse_call``);
  with auth on ``initlab:spec:{owner}:{hash}``: a key only ever reuses its own jobs

A sweep ``{id}`` is the hash ``initlab:sweep:{id}`` (id, created_at, expire_at, base, vary,
target_cost, job_ids, values, owner, and per-job results cached once known) beside its jobs,
and its id sits in the sorted set ``initlab:sweeps``; it expires like a job.

With auth on, an owner's job and sweep ids also sit in ``initlab:owner:{owner}:jobs`` and
``...:sweeps`` (sorted like the indexes below; a listing by status intersects the owner's with
the status index, ``lua.INTERSECT``). Limits per subject (an owner, or ``ip:{address}`` with
auth off): ``initlab:limit:{subject}:submissions``, the times of the last window's submissions
(``lua.RATE``), and ``...:active``, ids that may still be queued or running (``lua.ADMIT``).
The service-wide limit counts the queued and running indexes plus ``initlab:limit:pending``,
ids admitted whose job is not stored yet (``lua.CAPACITY``).

Metrics: ``initlab:metrics:job_seconds:{status}`` hashes, the run-time histogram of the jobs
that ended with that status (``durations_key``); they never expire (cumulative counters).

Indexes: ``initlab:jobs`` and ``initlab:jobs:{status}``, sorted sets of ids at score 0, so
they sort by id, and ids start with the creation time: newest first is ``ZRANGE BYLEX REV``.
Ids older than the TTL are trimmed on creates (by each API process at most once a minute,
its owner's index on each of the owner's creates); ids whose hash is gone are dropped when
a listing meets them. Status changes are Lua scripts: a compare-and-set of the status field
that moves the id between status indexes in the same atomic step.

The worker uses :class:`worker.sync_store.JobStore`, the API :class:`worker.async_store.
AsyncJobStore`; both build their commands and parse their replies with the helpers here.
Ids are made in :mod:`worker.ids`, and values encoded to JSON in :mod:`worker.codec`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from worker.codec import dumps, error_json, loads, now_iso
from worker.ids import created_seconds, expire_at_of, id_horizon

PREFIX = "initlab"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "cancelled")
JOBS_INDEX = f"{PREFIX}:jobs"


def status_index(status: str | None) -> str:
    return JOBS_INDEX if status is None else f"{JOBS_INDEX}:{status}"


def spec_key(spec_hash: str, owner: str = "") -> str:
    return f"{PREFIX}:spec:{owner}:{spec_hash}" if owner else f"{PREFIX}:spec:{spec_hash}"


def owner_index(owner: str) -> str:
    """Sorted set of the ids of an owner's jobs (score 0, sorted by id like the indexes)."""
    return f"{PREFIX}:owner:{owner}:jobs"


def owner_sweeps(owner: str) -> str:
    return f"{PREFIX}:owner:{owner}:sweeps"


def rate_key(subject: str) -> str:
    return f"{PREFIX}:limit:{subject}:submissions"


def active_key(subject: str) -> str:
    return f"{PREFIX}:limit:{subject}:active"


PENDING_KEY = f"{PREFIX}:limit:pending"  # admitted by the service-wide limit, not yet stored


SWEEPS_INDEX = f"{PREFIX}:sweeps"


def sweep_key(sweep_id: str) -> str:
    return f"{PREFIX}:sweep:{sweep_id}"


class _Sub:
    """A key of a job beside its hash: ``{job}:{attribute name}``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.suffix = f":{name}"

    def __get__(self, keys: Keys, owner: type | None = None) -> str:
        return keys.job + self.suffix


@dataclass(frozen=True)
class Keys:
    """Every key of one job."""

    job_id: str
    records = _Sub()
    params = _Sub()
    dataset = _Sub()
    cancel = _Sub()

    @property
    def job(self) -> str:
        return f"{PREFIX}:job:{self.job_id}"

    def data(self) -> tuple[str, str, str, str]:
        return self.job, self.records, self.params, self.dataset


STREAM_ID_MAX = 2**64 - 1  # Redis stream ids are two unsigned 64-bit numbers


def stream_id(iteration: int) -> str:
    """The entry id of an iteration; one past any id Redis accepts is clamped (no such record)."""
    return f"{min(iteration, STREAM_ID_MAX)}-1"


def iteration_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[0])


@dataclass
class Job:
    """A job as stored in its hash."""

    id: str
    status: str
    spec: dict[str, Any]
    spec_hash: str
    iterations: int
    expire_at: int
    created_at: str
    progress: float = 0.0
    iteration: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    summary: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    deliveries: int = 0
    heartbeat: float | None = None
    reused_from: str | None = None  # the job whose results this one copied
    attempt: str | None = None  # the token of the run that started it last (worker/runner.py)
    owner: str | None = None  # the key id that made it (auth on); None: made with auth off

    @property
    def keys(self) -> Keys:
        return Keys(self.id)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @classmethod
    def from_reply(cls, reply: dict[bytes, bytes] | list[bytes]) -> Job | None:
        """From HGETALL (a dict) or a script's flat [field, value, ...] list; None if empty."""
        if isinstance(reply, list):
            reply = dict(zip(reply[::2], reply[1::2], strict=True))
        h = {k.decode(): v for k, v in reply.items()}
        if b"status" not in reply:
            return None

        def text(name: str) -> str | None:
            value = h.get(name)
            return value.decode() if value else None

        def json(name: str) -> Any:
            value = h.get(name)
            return loads(value) if value else None

        iteration, heartbeat = text("iteration"), text("heartbeat")
        return cls(
            id=h["id"].decode(),
            status=h["status"].decode(),
            spec=json("spec") or {},
            spec_hash=text("spec_hash") or "",
            iterations=int(h.get("iterations") or 0),
            expire_at=int(h.get("expire_at") or 0),
            created_at=text("created_at") or "",
            progress=float(h.get("progress") or 0.0),
            iteration=int(iteration) if iteration else None,
            started_at=text("started_at"),
            finished_at=text("finished_at"),
            summary=json("summary"),
            error=json("error"),
            deliveries=int(h.get("deliveries") or 0),
            heartbeat=float(heartbeat) if heartbeat else None,
            reused_from=text("reused_from"),
            attempt=text("attempt"),
            owner=text("owner"),
        )


def queue_create(
    pipe: Any, job_id: str, spec: dict[str, Any], spec_hash: str, ttl: int, owner: str = ""
) -> Job:
    """Queue on ``pipe`` (sync or async) the commands that store a new queued job; the job."""
    created, expire_at = created_seconds(job_id), expire_at_of(job_id, ttl)
    keys = Keys(job_id)
    fields: dict[str, Any] = {
        "id": job_id, "status": "queued", "progress": 0.0, "iteration": "",
        "iterations": spec["training"]["iterations"], "spec": dumps(spec),
        "spec_hash": spec_hash, "created_at": now_iso(created), "deliveries": 0,
        "expire_at": expire_at,
    }  # fmt: skip
    if owner:
        fields["owner"] = owner
        pipe.zadd(owner_index(owner), {job_id: 0})
    pipe.hset(keys.job, mapping=fields)
    pipe.expireat(keys.job, expire_at)
    pipe.set(spec_key(spec_hash, owner), job_id, exat=expire_at)
    for status in (None, "queued"):
        pipe.zadd(status_index(status), {job_id: 0})
    pipe.zrem(PENDING_KEY, job_id)  # admitted by the service limit: counted as queued from now
    job = Job.from_reply({k.encode(): str(v).encode() for k, v in fields.items() if k != "spec"})
    assert job is not None
    job.spec = spec
    return job


def queue_trim(pipe: Any, ttl: int, indexes: list[str] | None = None) -> None:
    """Queue on ``pipe`` the removal of the ids created over ``ttl`` ago from ``indexes``
    (default: every status index)."""
    horizon = f"({id_horizon(time.time() - ttl)}"
    for index in all_indexes() if indexes is None else indexes:
        pipe.zremrangebylex(index, "-", horizon)


def read_job_call(job_id: str, grace: float | None) -> tuple[list[str], list[Any]]:
    """Keys and args of the read_job script; with ``grace``, a silent running job fails."""
    message = f"worker lost: no heartbeat for more than {grace:g} s" if grace else ""
    keys = [Keys(job_id).job, status_index("running"), status_index("failed")]
    return keys, [job_id, grace or "", error_json("WorkerLost", message), now_iso()]


def transition_call(
    job_id: str, target: str, sources: tuple[str, ...], fields: dict[str, Any]
) -> tuple[list[str], list[Any]]:
    """Keys and args of the transition script: status ``sources`` -> ``target`` + ``fields``."""
    keys = [Keys(job_id).job, status_index(target), *map(status_index, sources)]
    flat = [part for item in fields.items() for part in item]
    return keys, [job_id, target, len(sources), *sources, *flat]


def transition_reply(reply: list[Any]) -> tuple[bool, str | None]:
    """(applied, the status before) from the transition script's reply."""
    applied, before = reply
    return bool(applied), (before.decode() or None) if before else None


def append_call(
    job: Job,
    records: list[tuple[int, bytes]],
    snapshots: list[tuple[int, bytes]],
    dataset: bytes | None,
    fields: dict[str, Any],
) -> tuple[list[str], list[Any]]:
    """Keys and args of the append script (records, snapshots, dataset, hash ``fields``)."""
    args: list[Any] = [job.expire_at, len(records), len(snapshots), dataset or ""]
    for iteration, record in records:
        args += [stream_id(iteration), record]
    for iteration, snapshot in snapshots:
        args += [iteration, snapshot]
    for item in fields.items():
        args += item
    return list(job.keys.data()), args


def reuse_call(
    source_id: str, new_id: str, spec_hash: str, ttl: int, owner: str = ""
) -> tuple[list[str], list[Any]]:
    """Keys and args of the reuse script: job ``new_id`` as a copy of succeeded ``source_id``.

    The source must belong to ``owner`` ("" with auth off): a key never reuses another's job.
    """
    source, copy = Keys(source_id), Keys(new_id)
    keys = [*source.data(), *copy.data(), status_index(None), status_index("succeeded")]
    keys += [spec_key(spec_hash, owner), owner_index(owner) if owner else status_index(None)]
    created_at = now_iso(created_seconds(new_id))
    return keys, [new_id, created_at, expire_at_of(new_id, ttl), owner]


def all_indexes(owner: str | None = None) -> list[str]:
    """Every index an id may sit in: by status, and the owner's when given."""
    indexes = [status_index(None), *map(status_index, STATUSES)]
    return [*indexes, owner_index(owner)] if owner else indexes


def durations_key(status: str) -> str:
    """Hash of the run-time histogram of jobs that ended ``status`` (worker/durations.py)."""
    return f"{PREFIX}:metrics:job_seconds:{status}"
