"""The reaper: marks a running job whose worker is gone failed ("worker lost").

A small loop of its own process (``python -m worker.reaper``), started beside the workers by
``make serve``, docker-compose and the test fixtures. Every ``HEARTBEAT_SECONDS`` it checks
each running job: one whose heartbeat is older than ``HEARTBEAT_GRACE_SECONDS`` ends
``failed`` with a ``WorkerLost`` error (``lua.READ_JOB``, one atomic step per job, allowed on
a full store). The API only reads; before the reaper existed, its job reads did this.
Several reapers may run at once: the step is a compare-and-set on the job's status.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import cast

import redis

from store import lua
from store.jobs import Job, read_job_call
from store.keys import status_index
from store.logs import configure
from store.settings import Settings, get_settings
from store.sync_store import connect

log = logging.getLogger("initlab.reaper")


class Reaper:
    def __init__(self, client: redis.Redis, grace: float) -> None:
        self.redis, self.grace = client, grace
        self._check = client.register_script(lua.READ_JOB)

    def reap(self) -> list[str]:
        """Check every running job once; the ids of those marked failed now."""
        failed = []
        running = cast(list[bytes], self.redis.zrange(status_index("running"), 0, -1))
        for raw in running:
            job_id = raw.decode()
            job = Job.from_reply(self._check(*read_job_call(job_id, self.grace)))
            if (
                job is not None
                and job.status == "failed"
                and job.error
                and (job.error.get("type") == "WorkerLost")
            ):
                failed.append(job_id)
        for job_id in failed:
            log.warning("job %s failed: its worker is lost (no heartbeat)", job_id)
        return failed


def run(settings: Settings, stop: threading.Event) -> None:
    """Reap every ``heartbeat_seconds`` until ``stop`` is set; Redis errors are waited out."""
    reaper = Reaper(connect(settings.redis_url), settings.heartbeat_grace_seconds)
    unreachable = False
    while not stop.wait(settings.heartbeat_seconds):
        try:
            reaper.reap()
        except redis.RedisError as exc:
            if not unreachable:
                log.warning("reaper: Redis unavailable, retrying: %s", exc)
            unreachable = True
            continue
        unreachable = False


def main() -> int:
    settings = get_settings()
    configure(settings.log_level, json=settings.log_json)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("reaper: checking running jobs every %g s", settings.heartbeat_seconds)
    run(settings, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
