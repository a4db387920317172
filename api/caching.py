"""HTTP caching of a finished job's resources: an ``ETag``, ``Cache-Control`` and 304s.

A finished job's records, parameters, dataset and plots never change, so its answers are
immutable, validated by a weak ETag of the job, its finish time, the path and the query (the
share token left out). A sweep's plots are the same once every one of its jobs has ended.
A running job's answers are ``no-cache`` and carry no ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request, Response

from store.jobs import Job

YEAR = 365 * 24 * 3600
LIVE = "no-cache"


@dataclass(frozen=True)
class Finished:
    """What an answer is about, as far as caching goes: a job, or a sweep's jobs together."""

    identity: str  # the job's id and finish time; a sweep's id and its jobs'
    final: bool  # nothing it is drawn from can change any more

    @classmethod
    def of_job(cls, job: Job) -> Finished:
        return cls(f"{job.id}|{job.finished_at}", job.final)

    @classmethod
    def of_sweep(cls, sweep_id: str, jobs: Sequence[Job | None]) -> Finished:
        """A deleted job (None) no longer changes; the sweep is final once the rest are."""
        stamps = ",".join(job.finished_at or "" if job else "gone" for job in jobs)
        return cls(f"{sweep_id}|{stamps}", all(job is None or job.final for job in jobs))


def etag(job: Job | Finished, request: Request) -> str | None:
    """The validator of this answer about ``job``; None while the job may still change."""
    about = job if isinstance(job, Finished) else Finished.of_job(job)
    if not about.final:
        return None
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "share")
    key = f"{about.identity}|{request.url.path}|{query}".encode()
    return f'W/"{hashlib.sha256(key).hexdigest()[:32]}"'


def cache_control(job: Job | Finished, public: bool) -> str:
    """Immutable once finished; ``private`` when a key or a share token was needed."""
    if not job.final:
        return LIVE
    return f"{'public' if public else 'private'}, max-age={YEAR}, immutable"


def headers(job: Job | Finished, request: Request, public: bool) -> dict[str, str]:
    out = {"Cache-Control": cache_control(job, public)}
    tag = etag(job, request)
    if tag is not None:
        out["ETag"] = tag
    return out


def not_modified(job: Job | Finished, request: Request, public: bool) -> Response | None:
    """A 304 when ``If-None-Match`` names this answer's ETag (weak comparison), else None."""
    tag = etag(job, request)
    wanted = request.headers.get("if-none-match")
    if tag is None or wanted is None:
        return None
    given = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    if "*" in given or tag.removeprefix("W/") in given:
        return Response(status_code=304, headers=headers(job, request, public))
    return None
