"""Lanes: which Celery queue a job's task goes to, and where a queued job stands.

A job whose estimated work (``ExperimentSpec.work_flops``, the engine's own estimate behind
its work budget) is at most ``INTERACTIVE_MAX_FLOPS`` runs in the ``interactive`` lane, any
other in the ``batch`` lane; each lane has its own workers (``WORKER_LANE``), so a long job
never holds up a short one.

Fair sharing: a lane is ``LANE_SHARES`` Redis lists, ``{CELERY_QUEUE}.{lane}.{share}``, and a
job goes to the share its submitter's subject (API key id, or client address with auth off)
hashes to. A worker consumes all of its lane's lists; kombu's Redis transport BRPOPs them
in a round-robin order, moving the list it just took a task from to the end
(``kombu.utils.scheduling.round_robin_cycle``), so each non-empty share gets a turn in
each round, however long another share's list is. Two subjects that hash to one share
(chance ``1 / LANE_SHARES`` for a pair) queue first-in first-out between themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, cast

from store.settings import Settings

Lane = Literal["interactive", "batch"]
LANES: tuple[Lane, ...] = ("interactive", "batch")


def lane_of(work_flops: float, settings: Settings) -> Lane:
    """The lane of a job of ``work_flops`` estimated floating-point operations."""
    return "interactive" if work_flops <= settings.interactive_max_flops else "batch"


def share_of(subject: str, shares: int) -> int:
    """The share (0 .. shares-1) of a subject: a stable hash, the same in every process."""
    digest = hashlib.sha256(subject.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shares


def queue_name(settings: Settings, lane: Lane, share: int) -> str:
    return f"{settings.celery_queue}.{lane}.{share}"


def lane_queues(settings: Settings, lane: Lane) -> list[str]:
    return [queue_name(settings, lane, share) for share in range(settings.lane_shares)]


def worker_queues(settings: Settings) -> list[str]:
    """The lists a worker consumes: its lane's (``WORKER_LANE``), or both lanes' when unset."""
    lanes = LANES if settings.worker_lane is None else (settings.worker_lane,)
    return [queue for lane in lanes for queue in lane_queues(settings, lane)]


def worker_processes(settings: Settings) -> int:
    """Processes of one worker: its lane's concurrency, ``WORKER_CONCURRENCY`` for both."""
    if settings.worker_lane is None:
        return settings.worker_concurrency
    return concurrency(settings, settings.worker_lane)


def concurrency(settings: Settings, lane: Lane) -> int:
    return settings.interactive_concurrency if lane == "interactive" else settings.batch_concurrency


def route(settings: Settings, work_flops: float, subject: str) -> str:
    """The queue (Redis list) of a new job's task."""
    share = share_of(subject, settings.lane_shares)
    return queue_name(settings, lane_of(work_flops, settings), share)


def parse_queue(queue: str) -> tuple[Lane, int] | None:
    """(lane, share) of a queue name :func:`queue_name` made; None for any other name."""
    rest, _, share = queue.rpartition(".")
    lane = rest.rpartition(".")[2]
    if lane not in LANES or not share.isdigit():
        return None
    return cast(Lane, lane), int(share)


@dataclass(frozen=True)
class Standing:
    """Where a queued job stands in its lane."""

    lane: Lane
    position: int  # tasks of the lane that may start before it (0: it is next)
    wait_seconds: float | None  # estimated; None while the lane has no ended job to go by


def ahead_in_share(length: int, pushed: int, seq: int) -> int:
    """Tasks before a job's own in its list: the list's ``length`` less the ones pushed after
    it (``pushed - seq``, all still queued while it is), less itself; clamped to the list."""
    return max(0, min(length - 1 - (pushed - seq), length - 1))


def lane_position(lengths: list[int], share: int, ahead: int) -> int:
    """Tasks of the lane that may start before a job with ``ahead`` tasks before it in its
    share's list: at most this many, whatever the worker's place in its cycle.

    The round-robin worker takes one task from each non-empty list per round, so until the
    job's own turn each other list gives up to ``ahead + 1`` of its tasks.
    """
    others = sum(min(length, ahead + 1) for i, length in enumerate(lengths) if i != share)
    return ahead + others


def wait_seconds(position: int, processes: int, runs: int, total_seconds: float) -> float | None:
    """Estimated seconds until a job at ``position`` starts, from the lane's mean run time:
    ``position / processes`` rounds of the lane's processes, plus half a run for the jobs
    running now. None before the lane has ended a job."""
    if runs <= 0:
        return None
    mean = total_seconds / runs
    return mean * (position / processes + 0.5)
