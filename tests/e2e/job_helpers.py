"""Small clients for the service's e2e tests: polling a job, reading every metric, reading SSE."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx

FINAL = {"succeeded", "failed", "cancelled"}
_seed = count(1000)


def long_spec(iterations: int = 20_000, every: int = 100, **extra: Any) -> dict[str, Any]:
    """A cheap 2-6-3-1 run (about 13k iterations/s) with a fresh seed, so it is a new job."""
    return {
        "training": {"iterations": iterations, "seed": next(_seed)},
        "record": {"every": every, "boundary": {"every": 0}, "histograms": {"every": 0}},
        "force": True,
        **extra,
    }


def submit(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_for(
    client: httpx.Client, job_id: str, until: set[str] = FINAL, timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in until:
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout} s"
        time.sleep(0.02)


def wait_for_records(client: httpx.Client, job_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not client.get(f"/v1/jobs/{job_id}/metrics?limit=1").json()["records"]:
        assert time.monotonic() < deadline, "no record written"
        time.sleep(0.02)


def all_iterations(client: httpx.Client, job_id: str, **query: Any) -> list[int]:
    """Every recorded iteration, following `next` page by page."""
    iterations: list[int] = []
    params: dict[str, Any] = {"fields": "iteration", **query}
    while True:
        page = client.get(f"/v1/jobs/{job_id}/metrics", params=params).json()
        iterations += [record["iteration"] for record in page["records"]]
        if page["next"] is None:
            return iterations
        params["start"] = page["next"]


@dataclass
class Event:
    event: str
    data: str
    id: str | None = None


def sse(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> Iterator[Event]:
    """Events of a text/event-stream until the server closes it (comments skipped)."""
    with client.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if not line:
                if "event" in fields:
                    yield Event(fields["event"], fields.get("data", ""), fields.get("id"))
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
