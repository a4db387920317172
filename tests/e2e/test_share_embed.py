"""An embedded view of a private job through its share link, in a real browser on a real API
with auth on (its own uvicorn, the session's Redis and worker)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from scripts import launch
from scripts.redis_server import RedisServer
from tests.conftest import LOGS, service_env
from tests.e2e.helpers import wait_until
from tests.e2e.job_helpers import submit, wait_for

pytestmark = pytest.mark.e2e

KEY = "embed-test-key-0123456789"


@pytest.fixture(scope="module")
def private_api(
    redis_server: RedisServer,
    celery_worker: subprocess.Popen,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    LOGS["api (auth)"] = log = tmp_path_factory.mktemp("api-auth") / "api.log"
    env = service_env(redis_server.url, API_KEYS=f"embedder:{KEY}", SHARE_SECRET="s" * 40)
    with launch.api_server(env, log) as api:
        yield api.url


@pytest.mark.parametrize("view", ["cost", "network"])
def test_an_embed_with_a_share_link_draws_a_private_job(
    browser: Any, private_api: str, view: str
) -> None:
    with httpx.Client(base_url=private_api, headers={"X-API-Key": KEY}, timeout=30) as http:
        spec = {"training": {"iterations": 40}, "record": {"parameters": {"every": 1}}}
        job = wait_for(http, submit(http, {**spec, "force": True})["id"])
        link = http.post(f"/v1/jobs/{job['id']}/share").json()
    assert httpx.get(f"{private_api}/v1/jobs/{job['id']}").status_code == 401  # private
    context = browser.new_context(base_url=private_api)  # no key anywhere in the browser
    page, errors = context.new_page(), []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(link["urls"][f"embed_{view}"])
        page.wait_for_selector("body[data-ready=true]", state="attached", timeout=60_000)
        wait_until(lambda: "iteration 40" in (page.text_content("#embed-title") or ""))
        if view == "network":
            wait_until(lambda: page.get_attribute(".network", "data-links") == "33")
        else:
            wait_until(lambda: page.eval_on_selector(".chart", "(d) => d.data.length") > 0)
        href = page.get_attribute("#embed-title a", "href") or ""
        assert href.endswith(f"share={link['token']}")
    finally:
        context.close()
    assert not errors, errors
