"""``/docs``: Swagger UI served by the app from the pinned ``swagger-ui-bundle`` wheel (Apache
2.0), never from a CDN. (FastAPI's own ``/docs`` and ``/redoc`` load their code from one.)"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(str(swagger_ui_path))
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
PREFIX = "/static/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs() -> HTMLResponse:
    """The interactive OpenAPI docs."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="initlab - docs",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
    )


@router.get(PREFIX + "/{name}")
async def asset(name: str) -> FileResponse:
    """One of Swagger UI's files, from the installed wheel."""
    if name not in SERVED:
        raise HTTPException(404, f"no Swagger UI file {name[:100]!r}")
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(ASSETS / name, media_type=SERVED[name], headers=headers)
