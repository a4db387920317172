"""Small helpers shared by the browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.job_helpers import FINAL

OK_COLOUR = "rgb(26, 107, 181)"  # --ok in app.css
BAD_COLOUR = "rgb(198, 40, 40)"  # --bad in app.css


def open_page(page: Any, path: str = "/") -> None:
    """Load a page of the site and wait until its sections have started."""
    page.goto(path)
    page.wait_for_selector("body[data-ready=true]", state="attached")


def wait_until(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {check.__name__}")
        time.sleep(interval)


def record_at(http: httpx.Client, job_id: str, iteration: int) -> dict[str, Any]:
    body = http.get(f"/v1/jobs/{job_id}/metrics", params={"start": iteration, "stop": iteration})
    records = body.json()["records"]
    assert len(records) == 1, body.text
    return records[0]  # type: ignore[no-any-return]


def attr(page: Any, selector: str, name: str) -> str | None:
    return page.get_attribute(selector, name)  # type: ignore[no-any-return]


def play_to_end(page: Any, status_selector: str, button: str, timeout: float = 120.0) -> str:
    """Press play and wait until the player shows the job's final iteration."""
    page.click(button)

    def ended() -> str | None:
        text = page.text_content(status_selector) or ""
        return text if any(word in text for word in FINAL) else None

    return wait_until(ended, timeout)  # type: ignore[no-any-return]


def traces(page: Any, selector: str) -> list[dict[str, Any]]:
    """The type, name, x and y of every trace of the plotly chart at ``selector``."""
    script = "(d) => d.data.map((t) => ({type: t.type, name: t.name, x: t.x, y: t.y}))"
    return page.eval_on_selector(selector, script)  # type: ignore[no-any-return]
