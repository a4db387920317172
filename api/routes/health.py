"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import StoreDep
from api.models import Health, Message
from store.capacity import AsyncCapacity

router = APIRouter(tags=["health"])


@router.get(
    "/healthz", operation_id="getHealth", response_model=Health, response_model_exclude_none=True
)
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    response_model=Health,
    responses={503: {"model": Message, "description": "Redis is down"}},
)
async def readyz(store: StoreDep, request: Request) -> dict[str, Any]:
    """Redis answers (503 otherwise); ``store``: its bytes used, its limit (Redis's
    ``maxmemory``, 0 = none), the margin kept free and what queued and running jobs may still
    write."""
    await store.ping()
    capacity: AsyncCapacity = request.app.state.capacity
    return {"status": "ok", "redis": "ok", "store": await capacity.usage()}
