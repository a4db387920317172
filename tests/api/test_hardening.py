"""What a stranger gets from the app: no internals in 500s and 503s, security headers on the
page, and /docs without a CDN (the real app in-process)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from scripts.redis_server import free_port
from store.settings import Settings


def _app_with_a_bug(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("internal detail: /srv/secret.py line 7")

    return app


def test_an_unexpected_error_is_a_json_500_with_the_request_id_only(
    api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(_app_with_a_bug(api_settings)) as client:
        response = client.get("/bug", headers={"X-Request-ID": "probe-42"})
    assert response.status_code == 500
    assert response.json()["request_id"] == "probe-42" == response.headers["X-Request-ID"]
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert any("secret.py" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_a_503_names_no_address_and_no_redis_message() -> None:
    port = free_port()
    settings = Settings(redis_url=f"redis://:hunter2-password@127.0.0.1:{port}/0")
    with TestClient(create_app(settings)) as client:
        for path in ("/readyz", "/v1/jobs"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["detail"].startswith("job store unavailable")
            assert body["request_id"] == response.headers["X-Request-ID"]
            assert str(port) not in response.text and "Error" not in response.text


def test_the_page_and_embeds_allow_only_their_own_origin(client: TestClient) -> None:
    for path in ("/", "/embed/cost"):
        headers = client.get(path).headers
        assert headers["Referrer-Policy"] == "no-referrer"
        policy = dict(
            p.strip().split(" ", 1) for p in headers["Content-Security-Policy"].split(";")
        )
        assert policy["default-src"] == policy["script-src"] == "'self'"
        assert "http" not in headers["Content-Security-Policy"]


def test_the_docs_load_nothing_from_another_origin(client: TestClient) -> None:
    page = client.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(src.startswith("/") for src in sources), sources
    for src in sources:
        assert client.get(src).status_code == 200, src


SPELLINGS = ["007", "+5", " 5", "1_000", "5.0", "²", "٣", "9" * 30]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_number_in_a_query_or_header_has_one_spelling(client: TestClient, spelling: str) -> None:
    job_id = client.post("/v1/jobs", json={"training": {"iterations": 0}}).json()["id"]
    reads = [
        ("/v1/jobs", {"limit": spelling}, {}, ["query", "limit"]),
        ("/v1/sweeps", {"limit": spelling}, {}, ["query", "limit"]),
        (f"/v1/jobs/{job_id}/metrics", {"start": spelling}, {}, ["query", "start"]),
        (f"/v1/jobs/{job_id}/parameters", {"iteration": spelling}, {}, ["query", "iteration"]),
        (
            f"/v1/jobs/{job_id}/events",
            {},
            {"Last-Event-ID": spelling.encode()},
            ["header", "Last-Event-ID"],
        ),
    ]
    for path, params, headers, loc in reads:
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, spelling, response.text)
        assert loc in [error["loc"] for error in response.json()["detail"]], response.text
    assert client.get("/v1/jobs", params={"limit": "5"}).status_code == 200


def test_trusted_hosts_refuse_another_host(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"trusted_hosts": ["api.example.org"]})
    with TestClient(create_app(settings), base_url="http://api.example.org") as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
