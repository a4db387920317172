"""The FastAPI app: ``uvicorn api.main:app`` (settings from the environment)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute

from api.config import Settings, get_settings
from api.errors import add_exception_handlers
from api.routes import api_router
from worker.async_store import AsyncJobStore, connect
from worker.celery_app import make_celery

PAGE = Path(__file__).parent / "static" / "index.html"


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = connect(settings.redis_url)
        app.state.store = AsyncJobStore(client, settings.heartbeat_grace_seconds)
        app.state.celery = make_celery(settings)
        try:
            yield
        finally:
            app.state.celery.close()
            await client.aclose()

    app = FastAPI(
        title="initlab",
        summary="How the initialization of a network's weights decides whether it trains.",
        version="1.0.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Content-Type", "Last-Event-ID"],
        expose_headers=["Location"],
    )
    add_exception_handlers(app)
    app.include_router(api_router)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE)

    return app


app = create_app()
