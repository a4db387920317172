"""``Client``: the blocking client (``AsyncClient`` in async_client.py is its twin)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
from httpx_sse import connect_sse

from initlab_client import _calls as calls
from initlab_client.errors import raise_for
from initlab_client.frames import frame, progress_bar
from initlab_client.models import (
    Catalog,
    Job,
    MetricsPage,
    Parameters,
    Preset,
    Record,
    Sweep,
    VarianceReport,
)

STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)  # the server pings an idle stream every 15 s


class Client:
    """The initlab API: ``Client(base_url, api_key=...)``; use it as a context manager."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=calls.headers(api_key), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: calls.Call) -> Any:
        response = self._http.request(call.method, call.path, params=call.params, json=call.body)
        raise_for(response)
        return calls.parse(call, response.json() if call.model else None)

    # jobs
    def submit(self, spec: dict[str, Any] | None = None, *, force: bool = False) -> Job:
        """Submit an experiment spec (``{}``: the playground); the job, queued or reused."""
        return self._send(calls.submit(spec or {}, force))  # type: ignore[no-any-return]

    def get(self, job_id: str) -> Job:
        return self._send(calls.get(job_id))  # type: ignore[no-any-return]

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        progress: bool = False,
        interval: float = 0.2,
    ) -> Job:
        """Poll until the job has ended (a TimeoutError after ``timeout`` seconds); with
        ``progress``, a tqdm bar (``pip install initlab-client[progress]``)."""
        deadline, job = calls.Deadline(timeout, interval), self.get(job_id)
        with progress_bar(progress, job_id) as bar:
            while not job.final:
                bar(job.progress)
                deadline.check(f"job {job_id}")
                time.sleep(deadline.pause)
                job = self.get(job_id)
            bar(job.progress)
        return job

    def records(
        self, job_id: str, fields: list[str] | None = None, every: int | None = None
    ) -> list[Record]:
        """Every record stored now, all pages read (``fields`` trims them, ``every`` thins)."""
        found, start = [], 0
        while True:
            page: MetricsPage = self._send(calls.metrics(job_id, start, fields, every))
            found += page.records
            if page.next is None:
                return found
            start = page.next

    def records_frame(
        self, job_id: str, fields: list[str] | None = None, every: int | None = None
    ) -> Any:
        """The records as a pandas DataFrame, one row per iteration (needs pandas)."""
        return frame(self.records(job_id, fields, every))

    def stream(
        self, job_id: str, last_event_id: int | None = None, reconnects: int = 5
    ) -> Iterator[Record]:
        """Records live, from after ``last_event_id``, until the job ends. A dropped connection
        is resumed after the last record received (``reconnects`` times in a row at most)."""
        last, failures = last_event_id, 0
        while True:
            try:
                with connect_sse(
                    self._http, "GET", calls.events(job_id),
                    headers=calls.resume_headers(last), timeout=STREAM_TIMEOUT,
                ) as source:  # fmt: skip
                    if not source.response.is_success:
                        source.response.read()
                        raise_for(source.response)
                    for event in source.iter_sse():
                        if event.event == "record":
                            record = Record.model_validate_json(event.data)
                            last, failures = record.iteration, 0
                            yield record
                        elif event.event == "end":
                            return
                        elif event.event == "error":
                            break  # the server lost its store: reconnect
            except httpx.TransportError:
                pass
            failures += 1
            if failures > reconnects:
                raise ConnectionError(f"the event stream of job {job_id} kept dropping")
            time.sleep(min(0.1 * 2**failures, 2.0))

    def parameters(self, job_id: str, iteration: int | None = None) -> Parameters:
        """Weights and biases at a snapshot (default: the last)."""
        return self._send(calls.parameters(job_id, iteration))  # type: ignore[no-any-return]

    def cancel(self, job_id: str) -> Job:
        return self._send(calls.cancel(job_id))  # type: ignore[no-any-return]

    def delete(self, job_id: str) -> None:
        self._send(calls.delete(job_id))

    # sweeps
    def sweep(self, base: dict[str, Any], vary: dict[str, list[Any]], **options: Any) -> Sweep:
        """Run every combination of ``vary`` over ``base`` (``target_cost=``, ``force=``)."""
        return self._send(calls.sweep(base, vary, options))  # type: ignore[no-any-return]

    def get_sweep(self, sweep_id: str) -> Sweep:
        return self._send(calls.get_sweep(sweep_id))  # type: ignore[no-any-return]

    def wait_sweep(
        self, sweep_id: str, timeout: float | None = None, interval: float = 0.5
    ) -> Sweep:
        """Poll until every job of the sweep has ended."""
        deadline, sweep = calls.Deadline(timeout, interval), self.get_sweep(sweep_id)
        while not sweep.final:
            deadline.check(f"sweep {sweep_id}")
            time.sleep(deadline.pause)
            sweep = self.get_sweep(sweep_id)
        return sweep

    def cancel_sweep(self, sweep_id: str) -> Sweep:
        return self._send(calls.cancel_sweep(sweep_id))  # type: ignore[no-any-return]

    def delete_sweep(self, sweep_id: str) -> None:
        self._send(calls.delete_sweep(sweep_id))

    # menus and theory
    def catalog(self) -> Catalog:
        return self._send(calls.catalog())  # type: ignore[no-any-return]

    def presets(self) -> list[Preset]:
        return self._send(calls.presets())  # type: ignore[no-any-return]

    def theory(self, spec: dict[str, Any] | None = None) -> VarianceReport:
        """Section IV: predicted and measured variance per layer at initialization."""
        return self._send(calls.theory(spec or {}))  # type: ignore[no-any-return]
