"""The Celery app: Redis broker, JSON only, late acks, one job at a time per process.

Run a worker with ``celery -A worker.celery_app worker``. The API builds its own instance
with :func:`make_celery` (its settings may differ) and publishes with :func:`enqueue`.
"""

from __future__ import annotations

import os

from worker.config import Settings, get_settings

# BLAS reads these when numpy is first imported, which in a worker happens after this line;
# threadpoolctl below covers a process that imported numpy earlier.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(get_settings().worker_blas_threads))

from celery import Celery  # noqa: E402
from celery.signals import worker_process_init  # noqa: E402

RUN_JOB = "initlab.run_job"


def make_celery(settings: Settings) -> Celery:
    app = Celery("initlab", broker=settings.redis_url, include=["worker.tasks"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=settings.celery_queue,
        # a job is acknowledged when it ends, so a worker that dies hands it to another one
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_concurrency=settings.worker_concurrency,
        # both limits below the visibility timeout: the broker never redelivers a live task
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        broker_connection_retry_on_startup=True,
        # a submission fails fast (503) rather than waiting for a broker that is down
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
    )
    return app


def enqueue(app: Celery, job_id: str) -> None:
    """Publish the job's task; its Celery task id is the job id."""
    app.send_task(RUN_JOB, args=[job_id], task_id=job_id)


@worker_process_init.connect
def _limit_blas_threads(**_: object) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(get_settings().worker_blas_threads)


app = make_celery(get_settings())
