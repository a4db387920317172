"""Every router of the API, in the order the docs list them."""

from fastapi import APIRouter

from api.routes import (
    catalog,
    datasets,
    docs,
    events,
    health,
    jobs,
    pages,
    plots,
    share,
    signal,
    sweep_plots,
    sweeps,
)  # fmt: skip

api_router = APIRouter()
# pages last: it ends with a catch-all for static files
for module in (jobs, share, events, plots, sweeps, sweep_plots, datasets, catalog, signal, health,
               docs, pages):  # fmt: skip
    api_router.include_router(module.router)
