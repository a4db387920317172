"""The reference page at ``/``, its embeddable views and its static files (no build step).

The page is plain ES modules built only on the public ``/v1`` API. Its charting library,
plotly.js, is served from the installed ``plotly`` wheel (never copied into the repository,
never fetched from a CDN), so the page works with no internet.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
JOB_EMBED_VIEWS = ("cost", "boundary", "histograms", "network", "phase", "decay", "spectrum")
SWEEP_EMBED_VIEWS = ("heatmap", "depth", "spectra")  # ?sweep=ID: sweeps have no share links
EMBED_VIEWS = JOB_EMBED_VIEWS + SWEEP_EMBED_VIEWS
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}
REVALIDATE = {"Cache-Control": "no-cache"}  # small files that change with the code
# the page and its embeds run only the app's own code: scripts, styles, data and frames from
# this origin (plotly sets inline styles on its SVG, hence style-src 'unsafe-inline'); no
# Referer carries a page's URL, share token included, to another site
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    **REVALIDATE,
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(tags=["pages"], include_in_schema=False)


@cache
def plotly_js() -> Path | None:
    """``plotly/package_data/plotly.min.js`` of the installed package, found without importing."""
    spec = importlib.util.find_spec("plotly")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None


@router.get("/")
async def page() -> FileResponse:
    """The reference page: every figure of the article, live from the API."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/embed/{view}")
async def embed(view: str) -> FileResponse:
    """One figure of one job (or sweep) with minimal chrome, for an iframe: ``/embed/cost?job=ID``,
    ``/embed/heatmap?sweep=ID``."""
    if view not in EMBED_VIEWS:
        raise HTTPException(404, f"unknown embed view {view!r}; known: {', '.join(EMBED_VIEWS)}")
    return FileResponse(STATIC / "embed.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/static/vendor/plotly.min.js")
async def plotly() -> FileResponse:
    """plotly.js from the installed ``plotly`` wheel."""
    path = plotly_js()
    if path is None:
        reason = "plotly.js is not installed: pip install -r requirements.txt (package plotly)"
        raise HTTPException(404, reason)
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(path, media_type="text/javascript", headers=headers)


@router.get("/static/{path:path}")
async def static(path: str) -> FileResponse:
    """A file of the page (``api/static``); nothing outside that folder is served."""
    try:
        file = (STATIC / path).resolve()
        found = file.is_relative_to(STATIC) and file.is_file()
    except (ValueError, OSError):  # a NUL byte, a name too long for the file system
        found = False
    if not found:
        raise HTTPException(404, f"no static file {path[:100]!r}")
    media_type = MEDIA_TYPES.get(file.suffix, "application/octet-stream")
    return FileResponse(file, media_type=media_type, headers=REVALIDATE)
