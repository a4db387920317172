"""Redis going away: 503 with a clear message, then recovery, on a server of this test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from scripts.redis_server import RedisServer
from store.settings import Settings

pytestmark = [pytest.mark.e2e]


def test_redis_down_is_a_503_and_both_recover(tmp_path: Path) -> None:
    with RedisServer(data_dir=tmp_path) as server:  # never the session's server
        settings = Settings(redis_url=server.url, celery_queue="initlab-down-test")
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").status_code == 200
            job = client.post("/v1/jobs", json={"training": {"iterations": 5}}).json()

            server.stop()
            for response in (
                client.get("/readyz"),
                client.post("/v1/jobs", json={"training": {"iterations": 6}}),
                client.get(f"/v1/jobs/{job['id']}"),
                client.get("/v1/jobs"),
            ):
                assert response.status_code == 503
                assert response.json()["detail"].startswith("job store unavailable: ")
            assert client.get("/healthz").status_code == 200  # liveness does not need Redis

            server.start()
            assert client.get("/readyz").status_code == 200
            created = client.post("/v1/jobs", json={"training": {"iterations": 7}})
            assert created.status_code == 202, created.text
            assert client.get(created.headers["Location"]).json()["status"] == "queued"
