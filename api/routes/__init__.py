"""Every router of the API, in the order the docs list them."""

from fastapi import APIRouter

from api.routes import catalog, events, health, jobs

api_router = APIRouter()
for module in (jobs, events, catalog, health):
    api_router.include_router(module.router)
