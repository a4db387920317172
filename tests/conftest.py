"""Session fixtures: a real redis-server, a real Celery worker and a real uvicorn API.

Each runs as a child process on a free port (scripts/launch.py, shared with the bench) and is
stopped in teardown. Unit tests use their own Redis database on the same server
(``redis_db``), so they never meet the e2e jobs of db 0.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from hypothesis import settings

from scripts import launch
from scripts.redis_server import RedisServer

# Under mutmut every mutant replays hypothesis's saved failures: one mutant's counterexample
# would "kill" every later mutant. A mutation run keeps no example database.
if "MUTANT_UNDER_TEST" in os.environ:
    settings.register_profile("mutation", database=None)
    settings.load_profile("mutation")

QUEUE = "initlab-test"
LOGS: dict[str, Path] = {}  # process name -> log file, shown when a test that used it fails


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def service_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or API child process (settings come from it)."""
    return {**os.environ, "REDIS_URL": redis_url, "CELERY_QUEUE": QUEUE, **extra}


@contextmanager
def celery_worker_process(
    redis_url: str,
    queue: str,
    concurrency: int | None,
    log_dir: Path,
    lane: str | None = None,
    **env: str,
) -> Iterator[subprocess.Popen]:
    """A real prefork worker on ``queue``'s lists of ``lane`` (both lanes when None), ready
    (it answers a ping) when yielded."""
    name = f"celery worker {queue} {lane or 'both lanes'}"
    LOGS[name] = log = log_dir / f"{name}.log"
    worker_env = service_env(redis_url, **env)
    with launch.celery_worker(redis_url, queue, concurrency, log, worker_env, lane=lane) as p:
        yield p


@pytest.fixture(scope="session")
def celery_worker(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """The session's workers, one per lane as deployed, each of two processes (two jobs of a
    lane run at once); yields the interactive one."""
    log_dir = tmp_path_factory.mktemp("worker")
    with (
        celery_worker_process(redis_server.url, QUEUE, 2, log_dir, "batch"),
        celery_worker_process(redis_server.url, QUEUE, 2, log_dir, "interactive") as process,
    ):
        yield process


@pytest.fixture(scope="session")
def reaper(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """The session's reaper (worker/reaper.py): fails running jobs whose worker is gone."""
    LOGS["reaper"] = log = tmp_path_factory.mktemp("reaper") / "reaper.log"
    with launch.reaper(service_env(redis_server.url), log) as process:
        yield process


@pytest.fixture(scope="session")
def api_url(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn serving api.main:app (SSE needs a real server to stream)."""
    LOGS["api"] = log = tmp_path_factory.mktemp("api") / "api.log"
    with launch.api_server(service_env(redis_server.url), log) as api:
        yield api.url


@pytest.fixture
def api_client(
    api_url: str, celery_worker: subprocess.Popen, reaper: subprocess.Popen
) -> Iterator[httpx.Client]:
    """A client of the real API, with a real worker and the reaper behind it."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield client


@pytest.fixture
def redis_db(redis_server: RedisServer) -> str:
    """The URL of database 1 of the test server, emptied (unit tests; e2e jobs use db 0)."""
    url = f"redis://{redis_server.host}:{redis_server.port}/1"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and {"celery_worker", "api_client", "api_url"} & set(item.fixturenames):
        for name, path in LOGS.items():
            if path.exists():
                tail = path.read_text(errors="replace")[-6000:]
                report.sections.append((f"{name} log ({path})", tail))
