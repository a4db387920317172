"""What a sweep's view derives from an ended job's records, kept in process memory.

A sweep's view reports, per variation, the activation std at iteration 0 and the iteration
at which the cost first reached the sweep's target. Both come from the job's record stream,
which no longer changes once the job has ended, so each API process keeps them for ended jobs
in a least-recently-used map of at most ``SWEEP_CACHE_ENTRIES`` jobs: polling a finished
sweep then reads its jobs' hashes, not their streams. A deleted or expired job's hash is gone,
which every read sees first (the view shows it ``deleted``), and its entry is dropped then.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Derived:
    """An ended job's results as a sweep of ``target_cost`` shows them."""

    init_std: list[float | None] | None  # per layer, at iteration 0 (None: no record)
    target_cost: float
    reach: int | None  # the first iteration whose cost is at most the target


class SweepResults:
    """An LRU of :class:`Derived` by job id, at most ``size`` jobs (0 keeps none)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Derived] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, job_id: str, target_cost: float) -> Derived | None:
        """The job's results for this target (None when unknown or for another target)."""
        found = self._entries.get(job_id)
        if found is None or found.target_cost != target_cost:
            return None
        self._entries.move_to_end(job_id)
        return found

    def put(self, job_id: str, derived: Derived) -> None:
        if self.size <= 0:
            return
        self._entries[job_id] = derived
        self._entries.move_to_end(job_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, job_id: str) -> None:
        self._entries.pop(job_id, None)

    def clear(self) -> None:
        self._entries.clear()
