"""Job and sweep ids: 32 hex digits that start with the creation time, so they sort by it."""

from __future__ import annotations

import re
import secrets
import time

JOB_ID = re.compile(r"[0-9a-f]{32}")


def new_job_id(now: float | None = None) -> str:
    """32 hex digits: creation time in ms (12 digits), then 80 random bits."""
    return f"{_ms_hex(time.time() if now is None else now)}{secrets.token_hex(10)}"


def _ms_hex(seconds: float) -> str:
    return f"{max(0, int(seconds * 1000)):012x}"


def id_horizon(seconds: float) -> str:
    """The lexicographic bound below which ids were created before ``seconds``."""
    return _ms_hex(seconds)


def created_seconds(job_id: str) -> float:
    return int(job_id[:12], 16) / 1000


def expire_at_of(item_id: str, ttl: int) -> int:
    """When a job or sweep of id ``item_id`` expires (unix seconds): creation + ``ttl``."""
    return int(created_seconds(item_id) + ttl) + 1


def is_job_id(value: str) -> bool:
    return JOB_ID.fullmatch(value) is not None
