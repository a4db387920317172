"""Read-only share links to one job, for embedding (``<img>``, iframes) where no key can go."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.auth import AUTH_RESPONSES, sign_share
from api.deps import OwnedJobDep, SettingsDep
from api.models import Message, SharePublic
from api.numbers import Count
from api.routes.pages import JOB_EMBED_VIEWS
from api.routes.plots import PLOTS
from store.settings import MAX_SHARE_SECONDS

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=AUTH_RESPONSES)


def share_urls(job_id: str, token: str) -> dict[str, str]:
    """Every URL the token opens (relative, like ``Location``)."""
    base, query = f"/v1/jobs/{job_id}", f"share={token}"
    urls = {"job": f"{base}?{query}"}
    for name in ("metrics", "events", "parameters", "dataset"):
        urls[name] = f"{base}/{name}?{query}"
    for plot in PLOTS:
        urls[f"plot_{plot}"] = f"{base}/plots/{plot}.svg?{query}"
    for view in JOB_EMBED_VIEWS:
        urls[f"embed_{view}"] = f"/embed/{view}?job={job_id}&{query}"
    return urls


@router.post(
    "/{job_id}/share",
    operation_id="shareJob",
    responses={
        403: {"model": Message, "description": "share links are off (no SHARE_SECRET set)"},
        404: {"model": Message, "description": "no such job"},
    },
)
async def share_job(
    job: OwnedJobDep,
    settings: SettingsDep,
    expires_in: Annotated[
        Count | None,
        Query(ge=1, le=MAX_SHARE_SECONDS, description="seconds; default SHARE_TTL_SECONDS"),
    ] = None,
) -> SharePublic:
    """A signed link granting GET on this job's results (job, metrics, events, parameters,
    dataset, plots) and nothing else, until it expires. Only the job's owner may make one."""
    if settings.share_secret is None:
        raise HTTPException(403, "share links are off on this server: set SHARE_SECRET")
    expires_at = int(time.time()) + (expires_in or settings.share_ttl_seconds)
    token = sign_share(job.id, expires_at, settings.share_secret.get_secret_value())
    return SharePublic(
        token=token,
        job_id=job.id,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        urls=share_urls(job.id, token),
    )
