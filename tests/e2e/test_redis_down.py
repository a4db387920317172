"""Redis going away: 503 with a clear message, then recovery, on a server of this test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from initlab_client import Client, ServiceUnavailableError

from api.main import create_app
from scripts import launch
from scripts.redis_server import RedisServer
from store.settings import Settings
from tests.conftest import service_env

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


def test_the_official_client_raises_service_unavailable_while_redis_is_down(
    tmp_path: Path,
) -> None:
    """initlab_client against a real uvicorn whose Redis stopped: ServiceUnavailableError with
    the server's 503 detail, for a read and a submission; then it works again."""
    with RedisServer(data_dir=tmp_path) as server:
        env = service_env(server.url, CELERY_QUEUE="initlab-down-client")
        with launch.api_server(env, tmp_path / "api.log") as api, Client(api.url) as client:
            job = client.submit({"training": {"iterations": 5}})
            server.stop()
            for call in (lambda: client.get(job.id), lambda: client.submit({})):
                with pytest.raises(ServiceUnavailableError) as down:
                    call()
                assert down.value.status == 503
                assert down.value.detail.startswith("job store unavailable: "), down.value.detail
            server.start()  # (an empty store again: this server keeps nothing on disk)
            again = client.submit({"training": {"iterations": 6}})
            assert client.get(again.id).status == "queued"
