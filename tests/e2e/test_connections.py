"""The API's server as a stranger meets it: connection limits, proxy headers, the Host header,
and the one-command start's output (a real uvicorn via api.server, real Redis)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts import launch
from scripts.redis_server import RedisServer, free_port
from tests.conftest import service_env

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 1.0  # header, body and keep-alive timeouts of the server under test


@pytest.fixture(scope="module")
def strict_api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = service_env(
        redis_server.url,
        CELERY_QUEUE="initlab-connections",  # no worker: submissions stay queued
        SUBMISSIONS_PER_MINUTE="3",
        HTTP_HEADER_TIMEOUT_SECONDS=str(TIMEOUT),
        HTTP_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
        HTTP_KEEPALIVE_SECONDS="1",
        HTTP_MAX_HEADER_BYTES="8192",
        HTTP_MAX_HEADERS="50",
    )
    log = tmp_path_factory.mktemp("strict-api") / "api.log"
    with launch.api_server(env, log) as api:
        yield api.url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10 * TIMEOUT)
    return sock


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (reads and drops whatever it sends)."""
    start = time.monotonic()
    while sock.recv(65536):
        pass
    return time.monotonic() - start


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\n"
     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"training\":"],
    ids=["silent", "slow-headers", "slow-body"],
)  # fmt: skip
def test_an_idle_or_slow_connection_is_closed_within_its_timeout(
    strict_api: str, sent: bytes
) -> None:
    with _connect(strict_api) as sock:
        sock.sendall(sent)
        assert _closed_after(sock) < TIMEOUT + 2.0  # without limits: open until the client leaves


def test_a_kept_alive_connection_is_closed_when_idle(strict_api: str) -> None:
    with _connect(strict_api) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_after(sock) < 1 + 2.0


@pytest.mark.parametrize(
    "headers",
    [{"X-Big": "a" * 100_000}, {f"X-H{i}": "1" for i in range(200)}],
    ids=["one-large-header", "many-headers"],
)
def test_oversized_headers_are_refused(strict_api: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{strict_api}/healthz", headers=headers)
    assert response.status_code == 431
    assert httpx.get(f"{strict_api}/healthz").status_code == 200  # the server lives on


def test_rotating_forwarded_for_does_not_escape_the_rate_limit(strict_api: str) -> None:
    codes = [
        httpx.post(
            f"{strict_api}/v1/jobs",
            json={"training": {"iterations": 0, "seed": i}},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(10)
    ]
    assert codes.count(202) <= 3 and codes.count(429) >= 7, codes


def test_a_redirect_never_reflects_the_host_header(strict_api: str) -> None:
    response = httpx.get(f"{strict_api}/v1/jobs/", headers={"Host": "evil.example"})
    assert response.status_code == 307
    assert response.headers["location"] == "/v1/jobs"


def test_the_one_command_start_prints_no_password(tmp_path: Path) -> None:
    secret = "s3cret-redis-password"
    env = {**os.environ, "REDIS_URL": f"redis://:{secret}@127.0.0.1:{free_port()}/0"}
    env.update(API_PORT=str(free_port()), CELERY_QUEUE="initlab-serve-print")
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert "using Redis at" in line and "127.0.0.1" in line, line
        assert secret not in line
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert secret.encode() not in output


def test_theory_requests_count_against_the_submission_rate_limit(strict_api: str) -> None:
    body = {"preset": "playground"}
    codes = [
        httpx.post(f"{strict_api}/v1/theory/variance", json=body).status_code for _ in range(5)
    ]
    assert codes.count(200) <= 3 and 429 in codes, codes
