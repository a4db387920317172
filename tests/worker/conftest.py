"""A worker's settings for runs against the test Redis: quick polls, heartbeats and batches."""

from __future__ import annotations

import pytest

from store.settings import Settings
from store.sync_store import JobStore


@pytest.fixture
def settings(redis_db: str) -> Settings:
    return Settings(
        redis_url=redis_db,
        cancel_poll_seconds=0.02,
        heartbeat_seconds=0.1,
        heartbeat_grace_seconds=1.0,
        record_batch_size=4,
    )


@pytest.fixture
def store(settings: Settings) -> JobStore:
    return JobStore.from_url(settings.redis_url)
