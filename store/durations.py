"""The job run-time histogram, kept in Redis so it is one histogram for the whole service.

A worker observes a job's run time (``started_at`` to the moment it ends) once, right after
its status change to a final status applied: that change is a compare-and-set, so each job
is counted at most once however many workers and API processes there are. Every API
process exposes the same cumulative counters at ``/metrics`` (api/observability.py), so a
Prometheus scraping any of them reads the same series, and none is double counted.

Jobs that never ran (cancelled while queued, copied results) and jobs the reaper marked
failed (their worker vanished, so there is no end time) are not observed.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from store.keys import FINAL, durations_key, lane_runs_key

# seconds: a small playground run takes ~0.1 s, the time limit is 30 min
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0)
INF = "+Inf"


def bucket_of(seconds: float) -> str:
    """The field of the (non-cumulative) bucket ``seconds`` falls in."""
    return next((f"{bound:g}" for bound in BUCKETS if seconds <= bound), INF)


def run_seconds(started_at: str | bytes | None, finished: float) -> float | None:
    """Seconds from the ISO ``started_at`` to ``finished`` (epoch); None if it never started."""
    if not started_at:
        return None
    text = started_at.decode() if isinstance(started_at, bytes) else started_at
    return max(0.0, finished - datetime.fromisoformat(text).timestamp())


def queue_observe(pipe: Any, status: str, seconds: float) -> None:
    """Queue on ``pipe`` the commands that count one job of ``status`` that ran ``seconds``."""
    key = durations_key(status)
    pipe.hincrby(key, bucket_of(seconds), 1)
    pipe.hincrby(key, "count", 1)
    pipe.hincrbyfloat(key, "sum", seconds)


def queue_observe_lane(pipe: Any, lane: str, seconds: float) -> None:
    """Queue on ``pipe`` the commands that count a run of ``seconds`` in ``lane``."""
    key = lane_runs_key(lane)
    pipe.hincrby(key, "count", 1)
    pipe.hincrbyfloat(key, "sum", seconds)


def queue_read(pipe: Any) -> None:
    """Queue on ``pipe`` one HGETALL per final status (parse the replies with ``parse``)."""
    for status in FINAL:
        pipe.hgetall(durations_key(status))


def parse(replies: list[dict[bytes, bytes]]) -> dict[str, tuple[list[tuple[str, float]], float]]:
    """Per final status: (cumulative ``(le, count)`` buckets ending with +Inf, sum)."""
    histograms: dict[str, tuple[list[tuple[str, float]], float]] = {}
    for status, reply in zip(FINAL, replies, strict=True):
        fields = {key.decode(): value for key, value in reply.items()}
        running, buckets = 0, []
        for bound in (*(f"{b:g}" for b in BUCKETS), INF):
            running += int(fields.get(bound, 0))
            buckets.append((bound, float(running)))
        total = float(fields.get("sum", 0.0))
        histograms[status] = (buckets, total if math.isfinite(total) else 0.0)
    return histograms
