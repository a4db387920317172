"""A sweep's figures as SVG (matplotlib), drawn from its jobs' stored results, for ``<img>``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api import caching
from api.auth import AUTH_RESPONSES, require_key
from api.deps import CallerDep
from api.routes.plots import SVG, svg_responses
from api.routes.sweeps import SweepDep, SweepStoreDep
from api.services import sweep_plots
from api.services.sweep_plots import SWEEP_PLOTS, Metric

router = APIRouter(
    prefix="/v1/sweeps", tags=["plots"], dependencies=[Depends(require_key)],
    responses=AUTH_RESPONSES,
)  # fmt: skip


@router.get(
    "/{sweep_id}/plots/{name}.svg",
    operation_id="getSweepPlot",
    response_class=Response,
    responses=svg_responses(
        missing="no such sweep, or it cannot give this figure",
        unchanged="every job of the sweep had ended: unchanged since the ETag given",
    ),
)
async def read_sweep_plot(
    request: Request,
    sweep: SweepDep,
    sweeps: SweepStoreDep,
    caller: CallerDep,
    name: Literal[SWEEP_PLOTS],  # type: ignore[valid-type]
    metric: Annotated[
        Metric,
        Query(description="heatmap: what each cell shows (xi_c: fitted at iteration 0)"),
    ] = "final_cost",
) -> Response:
    """A two-field sweep's metric as a heat map, the trainable-depth map (test accuracy over
    weight variance x depth, theory's 6 xi_c over it), or every variation's Jacobian
    spectrum."""
    about = caching.Finished.of_sweep(sweep.id, await sweeps.jobs.get_many(sweep.job_ids))
    if (unchanged := caching.not_modified(about, request, caller.anonymous)) is not None:
        return unchanged
    if name == "heatmap":
        body = await sweep_plots.heatmap(sweep, sweeps, metric)
    elif name == "depth":
        body = await sweep_plots.depth_map(sweep, sweeps)
    else:
        body = await sweep_plots.spectra(sweep, sweeps)
    return Response(body, media_type=SVG, headers=caching.headers(about, request, caller.anonymous))
