"""The worker's acknowledgements on a full store (worker/broker.py), against a real Redis of
its own pushed past its ``maxmemory``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from kombu import Connection

from scripts.redis_server import RedisServer
from worker import broker


@pytest.fixture
def full_redis() -> Iterator[RedisServer]:
    with RedisServer(maxmemory="64mb") as server:
        yield server


def fill(client: redis.Redis) -> None:
    """Lower maxmemory below what Redis holds: every write that may grow memory is refused."""
    client.set("ballast", b"x" * 2_000_000)
    client.config_set("maxmemory", int(client.info("memory")["used_memory"]) - 1_000_000)
    with pytest.raises(redis.OutOfMemoryError):
        client.set("probe", 1)


def test_an_acknowledgement_on_a_full_store_is_made_and_the_worker_lives(
    full_redis: RedisServer,
) -> None:
    broker.install()
    client = redis.Redis.from_url(full_redis.url)
    with Connection(full_redis.url) as connection:
        queue = connection.SimpleQueue("initlab-ack-test")
        queue.put({"job": 1})
        queue.put({"job": 2})
        first, second = queue.get(timeout=5), queue.get(timeout=5)
        assert client.hlen("unacked") == 2
        fill(client)
        first.ack()  # kombu's MULTI is refused; the plain removal is not
        second.reject()
        assert client.hlen("unacked") == 0 and client.zcard("unacked_index") == 0
        queue.close()
    client.close()
