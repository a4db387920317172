"""What a frontend needs for its menus, the article's presets, and the variance theory."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, Request

from api.auth import AUTH_RESPONSES, require_key
from api.deps import resolve_spec
from api.limits import BUSY, TOO_LARGE, SubmissionLimit
from api.models import Catalog, Message, PresetsPublic, SpecRequest, VarianceReport
from api.services.theory import TheoryPool
from store.keys import ACTIVE, FINAL, STATUSES

router = APIRouter(
    prefix="/v1", tags=["catalog"], dependencies=[Depends(require_key)], responses=AUTH_RESPONSES
)


@cache
def _catalog() -> dict[str, Any]:
    from engine.catalog import catalog

    statuses = {"all": list(STATUSES), "active": list(ACTIVE), "final": list(FINAL)}
    return {**catalog(), "job_statuses": statuses}


@cache
def _presets() -> PresetsPublic:
    from engine.presets import PRESETS

    data = [preset.public() for preset in PRESETS.values()]
    return PresetsPublic.model_validate({"data": data, "count": len(data)})


@router.get("/catalog", operation_id="getCatalog", response_model=Catalog)
def read_catalog() -> dict[str, Any]:
    """Initializers (formula, parameters), activations, optimizers, datasets, presets, and
    the job statuses (all, active, final)."""
    return _catalog()


@router.get("/presets", operation_id="listPresets")
def read_presets() -> PresetsPublic:
    """The article's figures (and two papers) as named specs, fully resolved."""
    return _presets()


@router.post(
    "/theory/variance",
    operation_id="predictVariance",
    response_model=VarianceReport,
    responses={**TOO_LARGE, **BUSY, 503: {"model": Message}},
    dependencies=[SubmissionLimit],
)
async def variance(body: SpecRequest, request: Request) -> dict[str, Any]:
    """Predicted forward and backward variance per layer beside the measured one, at init.

    Nothing is trained, so the spec's iterations do not count toward the work budget; the
    memory budget holds, and each request counts against the submission rate limit.
    """
    at_init = body.model_copy(update={"training": {**(body.training or {}), "iterations": 0}})
    pool: TheoryPool = request.app.state.theory
    return await pool.variance(resolve_spec(at_init))
