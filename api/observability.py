"""Request ids, request logs and Prometheus metrics of the API.

Every request gets an id (the client's ``X-Request-ID`` when it is a sane token, else a new
one), echoed in the response's ``X-Request-ID`` and carried by every log line written while
it is served (store/logs.py). One JSON line per request says its method, route, status and
duration.

``GET /metrics`` (api/routes/metrics.py) exposes:

- ``initlab_http_request_duration_seconds{route, method, status}``: time to the response's
  first byte (so an event stream counts until its headers, not its whole life), per route
  template, in this process; Prometheus scrapes each API process, sum over them;
- ``initlab_jobs{status}``: jobs per status among those younger than the TTL, counted in the
  store's per-status indexes at scrape time;
- ``initlab_queue_length{queue}``: messages waiting in the Celery queue (LLEN);
- ``initlab_job_duration_seconds{status}``: run time of the jobs that ended, counted once per
  job in Redis by the worker that ended it (store/durations.py);
- ``initlab_store_up``: 0 when Redis did not answer the scrape (the three above are then
  left out, the request metrics stay).

Everything but the request histogram is read from Redis, so every API process reports the
same values: take ``max`` (not ``sum``) over processes for those.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import redis.exceptions
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import internal_error
from store import durations, logs
from store.async_store import AsyncJobStore
from store.capacity import AsyncCapacity
from store.ids import id_horizon
from store.keys import STATUSES, status_index
from store.lanes import LANES, lane_queues
from store.settings import Settings

log = logging.getLogger("api.access")
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
UNMATCHED = "<unmatched>"  # the route label of a path no route matched (bounded labels)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # others: "OTHER"


class HttpMetrics:
    """This process's request histogram, in a registry of the app's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "initlab_http_request_duration_seconds",
            "Time to the first byte of the response, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else uuid.uuid4().hex
    return uuid.uuid4().hex


class RequestObserver:
    """Pure ASGI middleware (no buffering, so event streams flow): id, log line, histogram."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, routes: list[BaseRoute]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = logs.REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = MutableHeaders(scope=message)
                headers.append(REQUEST_ID_HEADER, request_id)
                if "access-control-allow-origin" in headers:  # let a browser page read it
                    exposed = headers.get("access-control-expose-headers")
                    value = f"{exposed}, {REQUEST_ID_HEADER}" if exposed else REQUEST_ID_HEADER
                    headers["access-control-expose-headers"] = value
                self._observe(scope, status, time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if status is not None:  # the response has begun: nothing else can be said
                raise
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            await internal_error(request_id)(scope, receive, send_with_id)
        finally:
            self._log(scope, status or 500, time.perf_counter() - start)
            logs.REQUEST_ID.reset(token)

    def _route(self, scope: Scope) -> str:
        """The matched route's template; FastAPI sets it only for its API routes."""
        route = scope.get("route")
        if route is None:  # /docs, /openapi.json, mounts, or no route at all
            full = (r for r in self.routes if r.matches(scope)[0] is Match.FULL)
            route = next(full, None)
        return str(getattr(route, "path", UNMATCHED))

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        labels = (self._route(scope), method, str(status))
        self.metrics.latency.labels(*labels).observe(seconds)

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "route": self._route(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        job_id = (scope.get("path_params") or {}).get("job_id")
        if job_id is not None:
            fields["job_id"] = job_id
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, "%s %s %d", scope["method"], scope["path"], status, extra=fields)


def add_observability(app: FastAPI, settings: Settings) -> None:
    """JSON logs, request ids and the request histogram for ``app`` (``/metrics`` reads it)."""
    logs.configure(settings.log_level, json=settings.log_json)
    app.state.http_metrics = HttpMetrics()
    app.add_middleware(RequestObserver, metrics=app.state.http_metrics, routes=app.routes)


class _Families:
    """A collector that hands out families built beforehand (from async reads)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


async def store_families(store: AsyncJobStore, settings: Settings) -> list[Metric]:
    """Jobs by status, queue length and the job duration histogram, read from Redis now."""
    up = GaugeMetricFamily("initlab_store_up", "1 if Redis answered this scrape, else 0.")
    horizon = f"[{id_horizon(time.time() - settings.job_ttl_seconds)}"
    pipe = store.redis.pipeline(transaction=False)
    for status in STATUSES:
        pipe.zlexcount(status_index(status), horizon, "+")
    queues = [lane_queues(settings, lane) for lane in LANES]
    for names in queues:
        for name in names:
            pipe.llen(name)
    durations.queue_read(pipe)
    try:
        replies = await pipe.execute()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    jobs = GaugeMetricFamily(
        "initlab_jobs", "Jobs younger than the TTL, by status.", labels=["status"]
    )
    for status, count in zip(STATUSES, replies, strict=False):
        jobs.add_metric([status], count)
    queue = GaugeMetricFamily(
        "initlab_queue_length", "Tasks waiting in a lane's Celery queues.", labels=["queue"]
    )
    lengths = iter(replies[len(STATUSES) : len(STATUSES) + sum(map(len, queues))])
    for lane, names in zip(LANES, queues, strict=True):
        queue.add_metric([lane], sum(next(lengths) for _ in names))
    duration = HistogramMetricFamily(
        "initlab_job_duration_seconds",
        "Run time (start to end) of the jobs a worker ended, by final status.",
        labels=["status"],
    )
    histograms = replies[len(STATUSES) + sum(map(len, queues)) :]
    for ended, (buckets, total) in durations.parse(histograms).items():
        duration.add_metric([ended], buckets, total)
    return [up, jobs, queue, duration]


async def storage_families(capacity: AsyncCapacity) -> list[Metric]:
    """The store's bytes: used, its limit, what running and queued jobs may still write."""
    try:
        usage = await capacity.usage()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return []
    helps = {
        "used_bytes": "Bytes Redis uses now (INFO memory used_memory).",
        "limit_bytes": "Redis's maxmemory (0: no limit); jobs are refused past it less the margin.",
        "reserved_bytes": "Bytes queued and running jobs may still write (their estimates).",
    }
    families: list[Metric] = []
    for name, text in helps.items():
        family = GaugeMetricFamily(f"initlab_store_{name}", text)
        family.add_metric([], usage[name])
        families.append(family)
    return families


async def exposition(app: FastAPI) -> bytes:
    """The Prometheus text format of every metric above."""
    registry = CollectorRegistry(auto_describe=False)
    families = await store_families(app.state.store, app.state.settings)
    families += await storage_families(app.state.capacity)
    registry.register(_Families(families))  # type: ignore[arg-type]
    http: HttpMetrics = app.state.http_metrics
    return generate_latest(http.registry) + generate_latest(registry)
