"""A memory ceiling for a process that runs a job or a theory report (``WORKER_MEMORY_BYTES``).

The ceiling is on the address space (``RLIMIT_AS``): an allocation over it raises
``MemoryError`` in that process, which fails the one job with a clear reason, instead of the
kernel's OOM killer taking the whole worker (or another process of the machine).
"""

from __future__ import annotations

import resource


def cap_address_space(limit: int) -> None:
    """Lower this process's address-space limit to ``limit`` bytes (0: leave it as it is)."""
    if limit <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def out_of_memory(limit: int) -> str:
    """The reason a job over the ceiling failed."""
    if limit <= 0:
        return "ran out of memory"
    return f"ran out of memory: over the worker's ceiling of {limit:,} bytes (WORKER_MEMORY_BYTES)"
