"""A stored job (:class:`Job`) and the commands that create, move and copy one.

The worker uses :class:`store.sync_store.JobStore`, the API :class:`store.async_store.
AsyncJobStore`; both build their commands and parse their replies with the helpers here. Key
names come from :mod:`store.keys`, ids from :mod:`store.ids`, JSON from :mod:`store.codec`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from store.codec import dumps, error_json, loads, now_iso
from store.ids import created_seconds, expire_at_of, id_horizon
from store.keys import (
    FINAL,
    PENDING_KEY,
    RESERVED_KEY,
    Keys,
    all_indexes,
    owner_index,
    spec_key,
    status_index,
    stream_id,
)


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
    queue: str | None = None  # the Redis list its task was pushed on (store/lanes.py)
    queue_seq: int | None = None  # that list's pushed count just after its push

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
            queue=text("queue"),
            queue_seq=int(h["queue_seq"]) if h.get("queue_seq") else None,
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
    records: list[tuple[int, tuple[bytes, bytes]]],
    snapshots: list[tuple[str, bytes]],
    dataset: bytes | None,
    fields: dict[str, Any],
) -> tuple[list[str], list[Any]]:
    """Keys and args of the append script: records (iteration, :func:`store.packing.
    pack_record`'s parts), params-hash fields (:func:`store.packing.pack_snapshot`), the
    dataset and the job hash's ``fields``."""
    args: list[Any] = [job.expire_at, len(records), len(snapshots), dataset or ""]
    for iteration, (skeleton, arrays) in records:
        args += [stream_id(iteration), skeleton, arrays]
    for name, value in snapshots:
        args += [name, value]
    for item in fields.items():
        args += item
    return list(job.keys.data()), args


def delete_call(
    job_id: str, expire_at: int, owner: str | None = None
) -> tuple[list[str], list[Any]]:
    """Keys and args of the delete script: every key of the job, its storage reservation and
    its index entries; the cancel flag set until ``expire_at``."""
    keys = Keys(job_id)
    return [*keys.data(), keys.cancel, RESERVED_KEY, *all_indexes(owner)], [job_id, expire_at]


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
