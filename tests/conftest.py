"""Session fixtures: a real redis-server, a real Celery worker and a real uvicorn API.

Each runs as a child process on a free port and is stopped in teardown. Unit tests use their
own Redis database on the same server (``redis_db``), so they never meet the e2e jobs of db 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from worker.celery_app import make_celery
from worker.config import Settings
from worker.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "initlab-test"
LOGS: dict[str, Path] = {}  # process name -> log file, shown when a test that used it fails


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def service_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or API child process (settings come from it)."""
    return {**os.environ, "REDIS_URL": redis_url, "CELERY_QUEUE": QUEUE, **extra}


def start_process(
    name: str, argv: list[str], env: dict[str, str], log_dir: Path
) -> subprocess.Popen:
    log = log_dir / f"{name}.log"
    LOGS[name] = log
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group; SIGKILL it if still alive after ``timeout``."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):  # prefork children that outlived their parent
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def celery_worker_process(
    redis_url: str, queue: str, concurrency: int, log_dir: Path, **env: str
) -> Iterator[subprocess.Popen]:
    """A real prefork worker consuming ``queue``, ready (it answers a ping) when yielded."""
    node = f"{queue}-{os.getpid()}@localhost"
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker"]
    argv += ["--pool=prefork", f"--concurrency={concurrency}", "-Q", queue, "-n", node]
    argv += ["--loglevel=info", "--without-gossip", "--without-mingle"]
    name = f"celery worker {queue}"
    process = start_process(name, argv, service_env(redis_url, CELERY_QUEUE=queue, **env), log_dir)
    app = make_celery(Settings(redis_url=redis_url, celery_queue=queue))
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start; see {LOGS[name]}")
        yield process
    finally:
        app.close()
        stop_process(process)


@pytest.fixture(scope="session")
def celery_worker(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """The session's worker: two processes, so two jobs can run at once."""
    log_dir = tmp_path_factory.mktemp("worker")
    with celery_worker_process(redis_server.url, QUEUE, 2, log_dir) as process:
        yield process


@pytest.fixture(scope="session")
def api_url(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn serving api.main:app (SSE needs a real server to stream)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = start_process(
        "api", argv, service_env(redis_server.url), tmp_path_factory.mktemp("api")
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {LOGS['api']}")
            time.sleep(0.1)
        yield url
    finally:
        stop_process(process)


@pytest.fixture
def api_client(api_url: str, celery_worker: subprocess.Popen) -> Iterator[httpx.Client]:
    """A client of the real API, with a real worker behind it."""
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
