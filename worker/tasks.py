"""The one Celery task: run a job by id. Everything it does is in worker/runner.py."""

from __future__ import annotations

import time
from functools import cache

from celery.exceptions import Reject

from store.settings import get_settings
from store.sync_store import JobStore
from worker.celery_app import RUN_JOB, app
from worker.runner import NotStartedError
from worker.runner import run_job as run

REQUEUE_PAUSE_SECONDS = 1.0  # a Redis that keeps refusing the start does not spin the queue


@cache
def _store() -> JobStore:
    """One client per worker process, made after the fork."""
    return JobStore.from_url(get_settings().redis_url)


@app.task(name=RUN_JOB, ignore_result=True)
def run_job(job_id: str) -> str | None:
    try:
        return run(_store(), job_id, get_settings())
    except NotStartedError as exc:  # back to the queue: acked, the job would stay queued forever
        time.sleep(REQUEUE_PAUSE_SECONDS)
        raise Reject(str(exc), requeue=True) from exc
