"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep
from api.models import Health, Message

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
async def readyz(store: StoreDep) -> dict[str, str]:
    """Redis answers (503 otherwise)."""
    await store.ping()
    return {"status": "ok", "redis": "ok"}
