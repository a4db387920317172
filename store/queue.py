"""The task queue as producer (the API) and consumer (the worker) share it.

The task's name, Celery's configuration and the broker message that queues a job. The API
builds its own app with :func:`make_celery` and sends tasks by name: it never imports the
worker's code. The worker's app (worker/celery_app.py) is the same configuration plus the
module that defines the task.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence

import kombu.serialization
import kombu.utils.json
from celery import Celery

from store.lanes import queue_name, worker_processes
from store.settings import Settings

RUN_JOB = "initlab.run_job"


def make_celery(settings: Settings, include: Sequence[str] = ()) -> Celery:
    app = Celery("initlab", broker=settings.redis_url, include=list(include))
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=queue_name(settings, "interactive", 0),
        # a job is acknowledged when it ends, so a worker that dies hands it to another one
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # a broker outage must not kill running jobs: the runner rides it out (retrying its
        # writes), and a job that ended is never run again if its message comes back
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_concurrency=worker_processes(settings),
        # both limits below the visibility timeout: the broker never redelivers a live task
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout,
            # a worker takes from its lists in turn: the fair sharing of store/lanes.py
            "queue_order_strategy": "round_robin",
        },
        broker_connection_retry_on_startup=True,
        # a submission fails fast (503) rather than waiting for a broker that is down
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
    )
    return app


def enqueue(app: Celery, job_id: str, queue: str) -> None:
    """Publish the job's task by name on ``queue``; its Celery task id is the job id."""
    app.send_task(RUN_JOB, args=[job_id], task_id=job_id, queue=queue)


def task_message(app: Celery, job_id: str, queue: str) -> tuple[str, bytes]:
    """(Redis list, message): what :func:`enqueue` LPUSHes on ``queue``, built offline.

    The API stores a job and queues its task in one Redis transaction with it: one round-trip,
    no thread, and never a stored job without its task. The message is Celery's own (protocol
    2, ``create_task_message``) in kombu's Redis envelope; tests/store/test_queue.py checks
    that it equals ``send_task``'s.
    """
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
