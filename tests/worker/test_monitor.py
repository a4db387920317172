"""The monitor thread beside a job's training loop: it outlives a moment at the memory ceiling,
so the job fails for its own reason instead of being reaped as lost."""

from __future__ import annotations

import time

from worker.runner import Monitor


class CeilingStore:
    """A store whose first ``fails`` ticks meet the process's memory ceiling."""

    def __init__(self, fails: int) -> None:
        self.fails, self.ticks = fails, 0

    def tick(self, job_id: str, beat: bool) -> tuple[str, bool]:
        self.ticks += 1
        if self.ticks <= self.fails:
            raise MemoryError
        return "running", False


def test_the_monitor_keeps_beating_after_a_memory_error() -> None:
    store = CeilingStore(fails=3)
    monitor = Monitor(store, "0" * 32, poll=0.01, heartbeat=0.01)  # type: ignore[arg-type]
    monitor.start()
    deadline = time.monotonic() + 5
    while store.ticks < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    monitor.close()
    assert store.ticks >= 10  # alive past the three ticks that hit the ceiling
    assert not monitor.stop.is_set()
