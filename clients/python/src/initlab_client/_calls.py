"""Each API call as data (method, path, query, body, what it returns), shared by both clients."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from initlab_client.models import (
    Catalog,
    Job,
    MetricsPage,
    Parameters,
    Preset,
    Sweep,
    VarianceReport,
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    model: type[BaseModel] | None = None  # None: no body worth parsing
    many: str | None = None  # the list field to parse (e.g. "data" of a listing)


def submit(spec: dict[str, Any], force: bool) -> Call:
    body = {**spec, "force": True} if force else spec
    return Call("POST", "/v1/jobs", body=body, model=Job)


def get(job_id: str) -> Call:
    return Call("GET", f"/v1/jobs/{job_id}", model=Job)


def metrics(job_id: str, start: int, fields: list[str] | None, every: int | None) -> Call:
    params: dict[str, Any] = {"start": start}  # pages of the server's default size
    if fields:
        params["fields"] = ",".join(fields)
    if every:
        params["every"] = every
    return Call("GET", f"/v1/jobs/{job_id}/metrics", params, model=MetricsPage)


def parameters(job_id: str, iteration: int | None) -> Call:
    params = {} if iteration is None else {"iteration": iteration}
    return Call("GET", f"/v1/jobs/{job_id}/parameters", params, model=Parameters)


def cancel(job_id: str) -> Call:
    return Call("POST", f"/v1/jobs/{job_id}/cancel", model=Job)


def delete(job_id: str) -> Call:
    return Call("DELETE", f"/v1/jobs/{job_id}")


def sweep(base: dict[str, Any], vary: dict[str, list[Any]], options: dict[str, Any]) -> Call:
    return Call("POST", "/v1/sweeps", body={"base": base, "vary": vary, **options}, model=Sweep)


def get_sweep(sweep_id: str) -> Call:
    return Call("GET", f"/v1/sweeps/{sweep_id}", model=Sweep)


def cancel_sweep(sweep_id: str) -> Call:
    return Call("POST", f"/v1/sweeps/{sweep_id}/cancel", model=Sweep)


def delete_sweep(sweep_id: str) -> Call:
    return Call("DELETE", f"/v1/sweeps/{sweep_id}")


def catalog() -> Call:
    return Call("GET", "/v1/catalog", model=Catalog)


def presets() -> Call:
    return Call("GET", "/v1/presets", model=Preset, many="data")


def theory(spec: dict[str, Any]) -> Call:
    return Call("POST", "/v1/theory/variance", body=spec, model=VarianceReport)


def parse(call: Call, payload: Any) -> Any:
    if call.model is None:
        return None
    if call.many is not None:
        return [call.model.model_validate(item) for item in payload[call.many]]
    return call.model.model_validate(payload)


def events(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/events"


def resume_headers(last_event_id: int | None) -> dict[str, str]:
    return {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}


class Deadline:
    """``timeout`` seconds from now (None: never), and the poll interval to use meanwhile."""

    def __init__(self, timeout: float | None, interval: float) -> None:
        self.end = None if timeout is None else time.monotonic() + timeout
        self.interval = interval

    def check(self, what: str) -> None:
        if self.end is not None and time.monotonic() >= self.end:
            raise TimeoutError(f"{what} has not ended in time")

    @property
    def pause(self) -> float:
        if self.end is None:
            return self.interval
        return max(0.0, min(self.interval, self.end - time.monotonic()))


def headers(api_key: str | None) -> dict[str, str]:
    return {"X-API-Key": api_key} if api_key else {}
