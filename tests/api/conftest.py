"""The real app in-process (TestClient) on database 2 of the test Redis; no worker behind it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from api.main import create_app
from scripts.redis_server import RedisServer
from store.settings import Settings
from store.sync_store import JobStore
from tests.conftest import QUEUE


@pytest.fixture(scope="module")
def api_settings(redis_server: RedisServer) -> Settings:
    url = f"redis://{redis_server.host}:{redis_server.port}/2"
    redis.Redis.from_url(url).flushdb()
    return Settings(redis_url=url, celery_queue=QUEUE + "-api", cors_origins=["https://a.example"])


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(api_settings: Settings) -> JobStore:
    return JobStore.from_url(api_settings.redis_url)
