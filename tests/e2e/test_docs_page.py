"""/docs works in a browser with no request leaving the API's origin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def test_the_docs_render_every_operation_from_the_app_alone(page: Any, site: str) -> None:
    origins: set[str] = set()
    page.on("request", lambda request: origins.add(urlsplit(request.url).netloc))
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary", state="attached")
    assert page.locator(".opblock").count() >= 20  # one per operation
    assert origins == {urlsplit(site).netloc}, origins
