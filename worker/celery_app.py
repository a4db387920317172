"""The worker's Celery app: the shared queue configuration (store/queue.py) plus the task.

Run a worker with ``celery -A worker.celery_app worker``: it consumes the queues of its lane
(``WORKER_LANE``: interactive or batch; unset, both) with that lane's concurrency
(store/lanes.py). BLAS threads are capped per worker
process here, before numpy is imported, so worker processes do not fight over the cores.
"""

from __future__ import annotations

import logging
import os

from store.settings import get_settings

# BLAS reads these when numpy is first imported, which in a worker happens after this line;
# threadpoolctl below covers a process that imported numpy earlier.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(get_settings().worker_blas_threads))

from celery.signals import setup_logging, worker_process_init  # noqa: E402
from kombu import Exchange, Queue  # noqa: E402

from store import logs  # noqa: E402
from store.lanes import worker_queues  # noqa: E402
from store.memory import cap_address_space  # noqa: E402
from store.queue import RUN_JOB, make_celery  # noqa: E402
from worker import broker  # noqa: E402

broker.install()  # an acknowledgement refused on a full store does not kill the worker

logs.JOB_TASKS.add(RUN_JOB)  # its task id is the job id: its log lines carry it


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


@worker_process_init.connect
def _yield_to_the_interactive_lane(**_: object) -> None:
    """On two shared cores a batch job at full priority halves an interactive one's speed."""
    settings = get_settings()
    if settings.worker_lane == "batch":
        os.nice(settings.batch_nice)


@worker_process_init.connect
def _cap_memory(**_: object) -> None:
    """A job over WORKER_MEMORY_BYTES fails with MemoryError; the process lives on."""
    cap_address_space(get_settings().worker_memory_bytes)


app = make_celery(get_settings(), include=["worker.tasks"])
# a worker started without -Q consumes these: its lane's lists, in turn (round-robin)
app.conf.task_queues = [Queue(q, Exchange(q), routing_key=q) for q in worker_queues(get_settings())]
