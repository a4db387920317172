"""``AsyncClient``: the asyncio twin of ``Client`` (client.py), method for method."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import aconnect_sse

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


class AsyncClient:
    """The initlab API: ``AsyncClient(base_url, api_key=...)``; ``async with`` it."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=calls.headers(api_key), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: calls.Call) -> Any:
        response = await self._http.request(
            call.method, call.path, params=call.params, json=call.body
        )
        raise_for(response)
        return calls.parse(call, response.json() if call.model else None)

    # jobs
    async def submit(self, spec: dict[str, Any] | None = None, *, force: bool = False) -> Job:
        """Submit an experiment spec (``{}``: the playground); the job, queued or reused."""
        return await self._send(calls.submit(spec or {}, force))  # type: ignore[no-any-return]

    async def get(self, job_id: str) -> Job:
        return await self._send(calls.get(job_id))  # type: ignore[no-any-return]

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        progress: bool = False,
        interval: float = 0.2,
    ) -> Job:
        """Poll until the job has ended (a TimeoutError after ``timeout`` seconds); with
        ``progress``, a tqdm bar (``pip install initlab-client[progress]``)."""
        deadline, job = calls.Deadline(timeout, interval), await self.get(job_id)
        with progress_bar(progress, job_id) as bar:
            while not job.final:
                bar(job.progress)
                deadline.check(f"job {job_id}")
                await asyncio.sleep(deadline.pause)
                job = await self.get(job_id)
            bar(job.progress)
        return job

    async def records(
        self, job_id: str, fields: list[str] | None = None, every: int | None = None
    ) -> list[Record]:
        """Every record stored now, all pages read (``fields`` trims them, ``every`` thins)."""
        found, start = [], 0
        while True:
            page: MetricsPage = await self._send(calls.metrics(job_id, start, fields, every))
            found += page.records
            if page.next is None:
                return found
            start = page.next

    async def records_frame(
        self, job_id: str, fields: list[str] | None = None, every: int | None = None
    ) -> Any:
        """The records as a pandas DataFrame, one row per iteration (needs pandas)."""
        return frame(await self.records(job_id, fields, every))

    async def stream(
        self, job_id: str, last_event_id: int | None = None, reconnects: int = 5
    ) -> AsyncIterator[Record]:
        """Records live, from after ``last_event_id``, until the job ends. A dropped connection
        is resumed after the last record received (``reconnects`` times in a row at most)."""
        last, failures = last_event_id, 0
        while True:
            try:
                async with aconnect_sse(
                    self._http, "GET", calls.events(job_id),
                    headers=calls.resume_headers(last), timeout=STREAM_TIMEOUT,
                ) as source:  # fmt: skip
                    if not source.response.is_success:
                        await source.response.aread()
                        raise_for(source.response)
                    async for event in source.aiter_sse():
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
            await asyncio.sleep(min(0.1 * 2**failures, 2.0))

    async def parameters(self, job_id: str, iteration: int | None = None) -> Parameters:
        """Weights and biases at a snapshot (default: the last)."""
        return await self._send(calls.parameters(job_id, iteration))  # type: ignore[no-any-return]

    async def cancel(self, job_id: str) -> Job:
        return await self._send(calls.cancel(job_id))  # type: ignore[no-any-return]

    async def delete(self, job_id: str) -> None:
        await self._send(calls.delete(job_id))

    # sweeps
    async def sweep(
        self, base: dict[str, Any], vary: dict[str, list[Any]], **options: Any
    ) -> Sweep:
        """Run every combination of ``vary`` over ``base`` (``target_cost=``, ``force=``)."""
        return await self._send(calls.sweep(base, vary, options))  # type: ignore[no-any-return]

    async def get_sweep(self, sweep_id: str) -> Sweep:
        return await self._send(calls.get_sweep(sweep_id))  # type: ignore[no-any-return]

    async def wait_sweep(
        self, sweep_id: str, timeout: float | None = None, interval: float = 0.5
    ) -> Sweep:
        """Poll until every job of the sweep has ended."""
        deadline, sweep = calls.Deadline(timeout, interval), await self.get_sweep(sweep_id)
        while not sweep.final:
            deadline.check(f"sweep {sweep_id}")
            await asyncio.sleep(deadline.pause)
            sweep = await self.get_sweep(sweep_id)
        return sweep

    async def cancel_sweep(self, sweep_id: str) -> Sweep:
        return await self._send(calls.cancel_sweep(sweep_id))  # type: ignore[no-any-return]

    async def delete_sweep(self, sweep_id: str) -> None:
        await self._send(calls.delete_sweep(sweep_id))

    # menus and theory
    async def catalog(self) -> Catalog:
        return await self._send(calls.catalog())  # type: ignore[no-any-return]

    async def presets(self) -> list[Preset]:
        return await self._send(calls.presets())  # type: ignore[no-any-return]

    async def theory(self, spec: dict[str, Any] | None = None) -> VarianceReport:
        """Section IV: predicted and measured variance per layer at initialization."""
        return await self._send(calls.theory(spec or {}))  # type: ignore[no-any-return]
