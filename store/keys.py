"""The Redis key layout of the job store: every key name the service uses, and the job statuses.

Keys of job ``{id}`` (every one expires at the job's ``expire_at``, creation + TTL):

- ``initlab:job:{id}`` hash: id, status, progress, iteration, iterations, spec, spec_hash,
  created_at, started_at, finished_at, summary, error, deliveries, heartbeat, expire_at,
  worker (the process running it), attempt (the token of its latest run), reused_from (the
  job whose results it copied), queue and queue_seq (where its task was pushed, while it is
  queued), and with auth on ``owner``: the stable id of the API key that
  made it (never the key)
- ``initlab:job:{id}:records`` stream, one entry per record, entry id ``{iteration}-1``,
  so ranges by iteration are direct and a rewrite of an iteration is refused; fields ``z``
  (the record's JSON skeleton, zstd) and ``b`` (its arrays, binary): store/packing.py
- ``initlab:job:{id}:params`` hash: ``{iteration}`` -> a snapshot's header (its skeleton and
  chunk count), ``{iteration}.{k}`` -> its arrays' frame in chunks (store/packing.py)
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
(``lua_limits.RATE``), and ``...:active``, ids that may still be queued or running
(``lua_limits.ADMIT``). The service-wide limit counts the queued and running indexes plus
``initlab:limit:pending``, ids admitted whose job is not stored yet (``lua_limits.CAPACITY``).
Storage: ``initlab:store:reserved`` holds each queued or running job's estimated bytes
(``lua_limits.RESERVE``, store/capacity.py).

Queues (store/lanes.py): the Celery queues are Redis lists named ``{CELERY_QUEUE}.{lane}.{share}``;
``initlab:queue:{list}:pushed`` counts the tasks ever pushed on one, and a queued job's hash
holds its list (``queue``) and that count after its push (``queue_seq``), so its place is
read without a scan. ``initlab:lane:{lane}:runs`` hash: count and sum of the run times of the
lane's ended jobs (never expires), for a queued job's estimated start.

Metrics: ``initlab:metrics:job_seconds:{status}`` hashes, the run-time histogram of the jobs
that ended with that status (``durations_key``); they never expire (cumulative counters).

Indexes: ``initlab:jobs`` and ``initlab:jobs:{status}``, sorted sets of ids at score 0, so
they sort by id, and ids start with the creation time: newest first is ``ZRANGE BYLEX REV``.
Ids older than the TTL are trimmed on creates (by each API process at most once a minute,
its owner's index on each of the owner's creates); ids whose hash is gone are dropped when
a listing meets them. Status changes are Lua scripts: a compare-and-set of the status field
that moves the id between status indexes in the same atomic step.

The stored :class:`~store.jobs.Job` and the commands on it are in :mod:`store.jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PREFIX = "initlab"


class JobStatus(StrEnum):
    """The one list of a job's states; a job moves queued -> running -> one of the final three."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUSES = tuple(JobStatus)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
JOBS_INDEX = f"{PREFIX}:jobs"


def status_index(status: str | None) -> str:
    return JOBS_INDEX if status is None else f"{JOBS_INDEX}:{status}"


def spec_key(spec_hash: str, owner: str = "") -> str:
    return f"{PREFIX}:spec:{owner}:{spec_hash}" if owner else f"{PREFIX}:spec:{spec_hash}"


OWNER_INDEX = (f"{PREFIX}:owner:", ":jobs")  # an owner's index: prefix + owner + suffix


def owner_index(owner: str) -> str:
    """Sorted set of the ids of an owner's jobs (score 0, sorted by id like the indexes)."""
    return f"{OWNER_INDEX[0]}{owner}{OWNER_INDEX[1]}"


def owner_sweeps(owner: str) -> str:
    return f"{PREFIX}:owner:{owner}:sweeps"


def rate_key(subject: str) -> str:
    return f"{PREFIX}:limit:{subject}:submissions"


def active_key(subject: str) -> str:
    return f"{PREFIX}:limit:{subject}:active"


PENDING_KEY = f"{PREFIX}:limit:pending"  # admitted by the service-wide limit, not yet stored
# job id -> "bytes:time": the storage queued and running jobs may still write (lua_limits.RESERVE)
RESERVED_KEY = f"{PREFIX}:store:reserved"


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


JOB_PREFIX = Keys("").job  # + id: a job's hash, for scripts that name keys from ids
JOB_DATA_SUFFIXES = tuple(key.removeprefix(JOB_PREFIX) for key in Keys("").data()[1:])
CANCEL_SUFFIX = Keys("").cancel.removeprefix(JOB_PREFIX)

STREAM_ID_MAX = 2**64 - 1  # Redis stream ids are two unsigned 64-bit numbers


def stream_id(iteration: int) -> str:
    """The entry id of an iteration; one past any id Redis accepts is clamped (no such record)."""
    return f"{min(iteration, STREAM_ID_MAX)}-1"


def iteration_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[0])


def all_indexes(owner: str | None = None) -> list[str]:
    """Every index an id may sit in: by status, and the owner's when given."""
    indexes = [status_index(None), *map(status_index, STATUSES)]
    return [*indexes, owner_index(owner)] if owner else indexes


def durations_key(status: str) -> str:
    """Hash of the run-time histogram of jobs that ended ``status`` (store/durations.py)."""
    return f"{PREFIX}:metrics:job_seconds:{status}"


def pushed_key(queue: str) -> str:
    """Count of the tasks ever pushed on the Celery queue (Redis list) ``queue``."""
    return f"{PREFIX}:queue:{queue}:pushed"


def lane_runs_key(lane: str) -> str:
    """Hash ``count``, ``sum``: run times (seconds) of the lane's ended jobs."""
    return f"{PREFIX}:lane:{lane}:runs"
