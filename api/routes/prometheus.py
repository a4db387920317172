"""Prometheus metrics of the service (what they mean: api/observability.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from api.auth import AUTH_RESPONSES, metrics_access
from api.observability import exposition

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    operation_id="getServiceMetrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format 0.0.4",
        },
        401: AUTH_RESPONSES[401],
    },
    dependencies=[Depends(metrics_access)],
)
async def prometheus_metrics(request: Request) -> Response:
    """Request latency, jobs by status, queue length, job durations (Prometheus text)."""
    return Response(await exposition(request.app), media_type=CONTENT_TYPE_PLAIN_0_0_4)
