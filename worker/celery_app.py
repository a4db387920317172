"""The Celery app: Redis broker, JSON only, late acks, one job at a time per process.

Run a worker with ``celery -A worker.celery_app worker``. The API builds its own instance
with :func:`make_celery` (its settings may differ) and queues a job's task with the job itself,
in one Redis transaction, through :func:`task_message`.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid

from worker.config import Settings, get_settings

# BLAS reads these when numpy is first imported, which in a worker happens after this line;
# threadpoolctl below covers a process that imported numpy earlier.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(get_settings().worker_blas_threads))

import kombu.serialization  # noqa: E402
import kombu.utils.json  # noqa: E402
from celery import Celery  # noqa: E402
from celery.signals import setup_logging, worker_process_init  # noqa: E402

from worker import logs  # noqa: E402

RUN_JOB = "initlab.run_job"
logs.JOB_TASKS.add(RUN_JOB)  # its task id is the job id: its log lines carry it


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
        # a broker outage must not kill running jobs: the runner rides it out (retrying its
        # writes), and a job that ended is never run again if its message comes back
        worker_cancel_long_running_tasks_on_connection_loss=False,
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


def task_message(app: Celery, job_id: str) -> tuple[str, bytes]:
    """(Redis list, message): what :func:`enqueue` LPUSHes on the Redis broker, built offline.

    The API stores a job and queues its task in one Redis transaction with it: one round-trip,
    no thread, and never a stored job without its task. The message is Celery's own (protocol
    2, ``create_task_message``) in kombu's Redis envelope; tests/worker/test_enqueue.py checks
    that it equals ``send_task``'s.
    """
    queue = app.conf.task_default_queue
    headers, properties, body, _ = app.amqp.create_task_message(
        job_id, RUN_JOB, [job_id], {}, reply_to=app.thread_oid, ignore_result=None
    )
    content_type, encoding, data = kombu.serialization.dumps(body, app.conf.task_serializer)
    properties.update(
        delivery_mode=2,  # persistent, as kombu's Queue defaults it
        delivery_info={"exchange": "", "routing_key": queue},
        priority=0,  # the priority-0 list is the queue's own name
        body_encoding="base64",
        delivery_tag=str(uuid.uuid4()),
    )
    message = {
        "body": base64.b64encode(data.encode() if isinstance(data, str) else data).decode(),
        "content-encoding": encoding,
        "content-type": content_type,
        "headers": headers,
        "properties": properties,
    }
    return queue, kombu.utils.json.dumps(message).encode()


@setup_logging.connect
def _json_logs(loglevel: str | int | None = None, **_: object) -> None:
    """Celery's logs and ours as JSON lines (with the job id) instead of Celery's format."""
    settings = get_settings()
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
    logs.configure(level or settings.log_level, json=settings.log_json)


@worker_process_init.connect
def _limit_blas_threads(**_: object) -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(get_settings().worker_blas_threads)


app = make_celery(get_settings())
