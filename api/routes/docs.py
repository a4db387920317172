"""``/docs``: Swagger UI served by the app, its files from the pinned ``fastapi-offline`` wheel
(Swagger UI 5, which reads OpenAPI 3.1), never from a CDN. (FastAPI's own ``/docs`` and
``/redoc`` load their code from one.)"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
PREFIX = "/static/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)


@cache
def assets() -> Path | None:
    """``fastapi_offline/static`` of the installed package, found without importing it."""
    spec = importlib.util.find_spec("fastapi_offline")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "static").is_dir():
            return Path(location) / "static"
    return None


@router.get("/docs")
async def docs() -> HTMLResponse:
    """The interactive OpenAPI docs."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="initlab - docs",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
    )


@router.get(PREFIX + "/{name}")
async def asset(name: str) -> FileResponse:
    """One of Swagger UI's files, from the installed wheel."""
    folder = assets()
    if name not in SERVED or folder is None:
        raise HTTPException(404, f"no Swagger UI file {name[:100]!r} (package fastapi-offline)")
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(folder / name, media_type=SERVED[name], headers=headers)
