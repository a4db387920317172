"""Headless Chromium from Debian's packages (scripts/install_test_tools.sh), driven by playwright.

The browser talks to the session's real stack (tests/conftest.py): redis-server, a Celery
worker and uvicorn. Nothing here downloads a browser; ``playwright install`` is never run.
Screenshots of every figure go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")  # playwright's sync API holds an event loop while it lives:
def browser() -> Iterator[Any]:  # ending it with the module keeps later asyncio tests working
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_test_tools.sh")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(api_url: str, celery_worker: str) -> str:
    """The base URL of the live API with a real worker behind it."""
    return api_url


@pytest.fixture
def http(site: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site, timeout=30) as client:
        yield client


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A fresh tab; browser errors and CSP refusals fail the test (a 404 the page expects is
    not one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    # a Content-Security-Policy refusal is only a console message; it fails the test too
    tab.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    tab.set_default_timeout(60_000)
    yield tab
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def shoot() -> Callable[[Any, str], Path]:
    """Save a screenshot of a page or an element as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(target: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(path))
        return path

    return save
