"""The FastAPI app: ``uvicorn api.main:app`` (settings from the environment)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from api.auth import KEY_HEADER, SHARE_HEADER, KeyRing
from api.compression import Compression
from api.errors import add_exception_handlers
from api.hosts import add_host_checks
from api.limits import BodyLimit
from api.observability import add_observability
from api.openapi import build_openapi
from api.routes import api_router, prometheus
from api.services.theory import TheoryPool
from api.streams.hub import Hub
from store.async_limits import AsyncLimits
from store.async_store import AsyncJobStore, connect
from store.capacity import AsyncCapacity
from store.queue import make_celery
from store.settings import Settings, get_settings
from store.sweep_results import SweepResults


def operation_id(route: APIRoute) -> str:
    """camelCase of the route's name, for routes that give no ``operation_id`` of their own."""
    head, *rest = route.name.split("_")
    return head + "".join(word.title() for word in rest)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(
            settings.redis_url, settings.redis_max_connections, settings.redis_pool_timeout
        )
        app.state.store = store = AsyncJobStore(client, settings.heartbeat_grace_seconds)
        app.state.hub = hub = Hub(
            store,
            block_ms=settings.sse_block_ms,
            keepalive=settings.sse_keepalive_seconds,
            cache_mb=settings.replay_cache_mb,
            live_mb=settings.stream_live_mb,
        )
        app.state.limits = AsyncLimits(client)
        app.state.capacity = AsyncCapacity(client, settings.store_margin_bytes)
        app.state.sweep_results = SweepResults(settings.sweep_cache_entries)
        app.state.celery = make_celery(settings)
        app.state.theory = TheoryPool(settings.theory_processes, settings.worker_memory_bytes)
        try:
            yield
        finally:
            app.state.theory.close()
            await hub.close()
            app.state.celery.close()
            await client.aclose()

    app = FastAPI(
        title="initlab",
        summary="How the initialization of a network's weights decides whether it trains.",
        version="1.0.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # api/routes/docs.py serves /docs with no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keyring = KeyRing(settings.api_keys)  # no keys: auth is off
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Content-Type", "Last-Event-ID", "If-None-Match", KEY_HEADER, SHARE_HEADER],
        expose_headers=["Location", "Retry-After", "ETag"],
    )
    add_host_checks(app, settings)
    app.add_middleware(Compression)  # zstd, br or gzip, as the client accepts
    add_exception_handlers(app)
    add_observability(app, settings)  # request ids, JSON logs, request histogram (outermost)
    app.include_router(api_router)
    app.include_router(prometheus.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


app = create_app()
