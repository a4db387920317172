"""The variance theory of a spec, computed in a small process pool, off the API's event loop.

A report builds the network and runs one forward and backward pass on up to a thousand
samples: seconds of NumPy and hundreds of MB for the widest specs the budget admits. In a
thread of the API it would share the API's memory and, between NumPy calls, its GIL; so it runs
in ``THEORY_PROCESSES`` processes of its own (spawned, each under the worker's memory ceiling,
``WORKER_MEMORY_BYTES``), answered in the request like before. A Celery task would need a
result backend and a worker lane the API cannot see from here; the pool needs neither.
Requests beyond the pool's processes wait their turn; the submission rate limit bounds them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from fastapi import HTTPException

from engine.experiment import ExperimentSpec
from store.memory import cap_address_space, out_of_memory

log = logging.getLogger("api.theory")
T = TypeVar("T")


def _start(memory_limit: int) -> None:
    cap_address_space(memory_limit)


def _report(spec: ExperimentSpec) -> dict[str, Any]:
    from engine.theory import variance_report

    return variance_report(spec)


class TheoryPool:
    """``processes`` spawned processes that compute variance reports, signal propagation
    and phase diagrams (api/services/signal.py)."""

    def __init__(self, processes: int, memory_limit: int) -> None:
        self.processes, self.memory_limit = processes, memory_limit
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded server
            initializer=_start,
            initargs=(self.memory_limit,),
        )

    async def variance(self, spec: ExperimentSpec) -> dict[str, Any]:
        """The report of ``spec`` (resolved, iterations 0)."""
        return await self.run(_report, spec)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in one of the pool's processes (``work`` importable, its arguments
        and result picklable); 503 if its process failed."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, work, *args)
        except MemoryError:
            raise HTTPException(503, f"theory {out_of_memory(self.memory_limit)}") from None
        except BrokenProcessPool:  # a process was killed: later requests get a new pool
            log.warning("the theory pool broke; starting a new one")
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._new()
            raise HTTPException(503, "theory process lost; retry") from None

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
