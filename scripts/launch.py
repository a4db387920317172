"""The service's child processes for the test suite and the bench: a Celery worker, uvicorn,
and for the bench the whole stack at once (:func:`service_stack`).

Each child runs in its own session with its output in a log file, is ready (a worker answers
a ping, the API ``/healthz``) when the context manager yields, and is stopped by process group
on exit: SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx

from scripts.redis_server import RedisServer, die_with_parent, free_port
from store.queue import make_celery
from store.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def start_process(argv: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen:
    """``argv`` from the repository root in a session of its own, output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
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


def worker_node(queue: str, lane: str | None = None) -> str:
    """The node name of the worker :func:`celery_worker` starts on ``queue`` (for control)."""
    return f"{queue}-{lane + '-' if lane else ''}{os.getpid()}@localhost"


@contextmanager
def celery_worker(
    redis_url: str,
    queue: str,
    concurrency: int | None,
    log: Path,
    env: Mapping[str, str],
    node: str | None = None,
    lane: str | None = None,
) -> Iterator[subprocess.Popen]:
    """A real prefork worker, ready (it answers a ping) when yielded.

    ``queue`` is its ``CELERY_QUEUE``: it consumes the lists of ``lane`` (store/lanes.py), of
    both lanes when None. ``concurrency`` None leaves its processes to its settings (the lane's
    concurrency). ``node`` names it (default :func:`worker_node`); several workers on one
    queue need distinct names.
    """
    node = node or worker_node(queue, lane)
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--pool=prefork"]
    argv += [f"--concurrency={concurrency}"] if concurrency else []
    argv += ["-n", node, "--loglevel=info", "--without-gossip", "--without-mingle"]
    env = {**env, "REDIS_URL": redis_url, "CELERY_QUEUE": queue}
    if lane:
        env["WORKER_LANE"] = lane
    process = start_process(argv, env, log)
    app = make_celery(Settings(redis_url=redis_url, celery_queue=queue))
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start; see {log}")
        yield process
    finally:
        app.close()
        stop_process(process)


@contextmanager
def reaper(env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The reaper (worker/reaper.py): marks a running job whose worker is gone failed."""
    process = start_process([sys.executable, "-m", "worker.reaper"], env, log)
    try:
        yield process
    finally:
        stop_process(process)


class Api(NamedTuple):
    url: str
    process: subprocess.Popen


@contextmanager
def api_server(
    env: Mapping[str, str], log: Path, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[Api]:
    """``python -m api.server`` (settings from ``env``), yielded once it answers."""
    port = port or free_port(host)
    # api.server: uvicorn with the connection limits and proxy trust of the settings
    argv = [sys.executable, "-m", "api.server", "--host", host, "--port", str(port)]
    process = start_process([*argv, "--log-level", "warning"], env, log)
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; see {log}")
            time.sleep(0.1)
        yield Api(url, process)
    finally:
        stop_process(process)


class Stack(NamedTuple):
    redis: RedisServer
    workers: list[subprocess.Popen]
    api: Api


@contextmanager
def service_stack(
    queue: str,
    log_dir: Path,
    workers: int = 1,
    lanes: bool = False,
    maxmemory: str | None = None,
    **env: str,
) -> Iterator[Stack]:
    """A redis-server of its own (``maxmemory``: its limit), Celery workers on ``queue``, the
    reaper and uvicorn.

    The workers: with ``lanes``, one per lane (its processes from the lane's concurrency
    setting, e.g. ``BATCH_CONCURRENCY``); else ``workers`` one-process workers of both lanes,
    as a single worker ran before lanes. ``env`` adds settings (e.g. ``JOB_TTL_SECONDS``);
    logs go to ``log_dir``. One worker of both lanes keeps the default node name
    (:func:`worker_node`); several are named ``{queue}-{i}@localhost``.
    """
    with RedisServer(maxmemory=maxmemory) as server, ExitStack() as children:
        env = {**os.environ, "REDIS_URL": server.url, "CELERY_QUEUE": queue, **env}
        specs: list[tuple[str, int | None, str | None, str | None]]
        if lanes:
            specs = [(lane, None, None, lane) for lane in ("interactive", "batch")]
        else:
            specs = [
                (str(i), 1, None if workers == 1 else f"{queue}-{i}@localhost", None)
                for i in range(1, workers + 1)
            ]
        processes = [
            children.enter_context(
                celery_worker(
                    server.url, queue, processes, log_dir / f"worker-{name}.log", env, node, lane
                )
            )
            for name, processes, node, lane in specs
        ]
        children.enter_context(reaper(env, log_dir / "reaper.log"))
        api = children.enter_context(api_server(env, log_dir / "api.log"))
        yield Stack(server, processes, api)
