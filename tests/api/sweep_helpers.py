"""Helpers of the sweep tests: create a sweep, write a run by hand, count Redis traffic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio.client import Pipeline as AsyncPipeline
from redis.asyncio.client import Redis as AsyncRedis

from store.codec import dumps
from store.sync_store import JobStore

UNKNOWN = "0123456789abcdef0123456789abcdef"
LAYERS = [{"layer": i + 1, "activations": {"std": 1.0 / (i + 1)}} for i in range(2)]
PLAYGROUND = {"base": {"preset": "playground"}, "vary": {"init.method": ["zero", "appropriate"]}}


def create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/v1/sweeps/{response.json()['id']}"
    return response.json()  # type: ignore[no-any-return]


def job_count(client: TestClient) -> int:
    return client.get("/v1/jobs").json()["count"]  # type: ignore[no-any-return]


def finish(store: JobStore, job_id: str, costs: list[float | None], status: str) -> None:
    """Write a run by hand: one record per cost (layer stds 1, 0.5), then end ``status``."""
    job = store.start(job_id, max_deliveries=3)
    assert job is not None
    records = [
        (i, dumps({"iteration": i, "epoch": 0.0, "cost": cost, "layers": LAYERS}))
        for i, cost in enumerate(costs)
    ]
    store.append(job, records, [])
    store.finish(job_id, status, summary={"final_cost": costs[-1]})


@dataclass
class Traffic:
    """What the app sent Redis while answering one GET."""

    round_trips: int  # times it waited on Redis: a command alone or a pipeline's execute
    commands: Counter[str]  # by name, pipelined ones included
    body: Any


def traffic(client: TestClient, path: str, monkeypatch: pytest.MonkeyPatch) -> Traffic:
    """GET ``path`` (a 200), counting the app's round-trips to Redis and its commands."""
    trips, commands = 0, Counter[str]()
    command, execute = AsyncRedis.execute_command, AsyncPipeline.execute

    async def counted_command(self: AsyncRedis, *args: Any, **options: Any) -> Any:
        nonlocal trips
        if not isinstance(self, AsyncPipeline):  # a pipeline's commands only queue
            trips += 1
            commands[str(args[0]).upper()] += 1
        return await command(self, *args, **options)

    async def counted_execute(self: AsyncPipeline, *args: Any, **options: Any) -> Any:
        nonlocal trips
        trips += 1
        commands.update(str(queued[0]).upper() for queued, _ in self.command_stack)
        return await execute(self, *args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncRedis, "execute_command", counted_command)
        patch.setattr(AsyncPipeline, "execute", counted_execute)
        response = client.get(path)
    assert response.status_code == 200, response.text
    return Traffic(trips, commands, response.json())
