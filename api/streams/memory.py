"""Give freed heap back to the system after a big release (a replay's decoded body, a dropped
feed, the send buffers of hundreds of viewers).

glibc keeps freed memory in its arenas; a 20 MB body freed after a storm of viewers would stay
in the process's resident size for good. ``malloc_trim(0)`` returns the free pages of every
arena. It is asked for once, a moment after the last release of a burst (not per release), and
is a no-op where the C library has no ``malloc_trim`` (musl, macOS).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from collections.abc import Callable

DELAY_SECONDS = 0.5  # releases within this are trimmed together
M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
    return trim  # type: ignore[no-any-return]


_malloc_trim_fn = _malloc_trim()
_due: set[asyncio.AbstractEventLoop] = set()  # loops with a trim scheduled


def keep_big_blocks_mapped() -> bool:
    """Keep glibc's threshold for serving a block by its own mapping at 128 KiB.

    glibc raises it to the size of any mapped block freed (up to 32 MiB): after one 20 MB body
    is freed, the next ones, and every 256 KiB chunk, come from the heap, where what is freed
    stays resident. Fixed, a big block goes back to the system when it is freed. True if set
    here; API processes uvicorn spawns (``--workers``) get it from ``MALLOC_MMAP_THRESHOLD_``.
    """
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MMAP_THRESHOLD))  # for spawned workers
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    return bool(mallopt and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim_heap() -> bool:
    """Return free heap pages to the system now; True if any were."""
    return bool(_malloc_trim_fn(0)) if _malloc_trim_fn is not None else False


def return_freed_memory() -> None:
    """Trim the heap ``DELAY_SECONDS`` from now, unless a trim is already due (outside an event
    loop: at once)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        trim_heap()
        return
    if loop not in _due:
        _due.add(loop)
        loop.call_later(DELAY_SECONDS, _trim_for, loop)


def _trim_for(loop: asyncio.AbstractEventLoop) -> None:
    _due.discard(loop)
    trim_heap()
