"""One command for the whole service: Redis, a Celery worker per lane, the reaper and the API
(``API_WORKERS`` uvicorn processes, 1 by default).

``python -m scripts.serve`` (``make serve``). With no ``REDIS_URL`` in the environment it
starts a real redis-server of its own (port 6380, or a free one; data under
``.run/redis-{port}``, append-only, so jobs survive a restart; ``REDIS_MAXMEMORY`` bounds
it). The workers: one for the interactive lane, one for the batch lane
(``INTERACTIVE_CONCURRENCY`` and ``BATCH_CONCURRENCY`` processes). Ctrl-C or SIGTERM stops
them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from scripts.redis_server import RedisServer, die_with_parent, free_port, port_is_free
from store.lanes import LANES
from store.settings import get_settings, redacted_url

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 15.0  # seconds a child gets to stop before it is killed


def start(name: str, argv: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen[bytes]]:
    # own session: Ctrl-C reaches only this script, which stops each child once, in order
    return name, subprocess.Popen(
        argv, cwd=ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent
    )


def stop(name: str, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"serve: {name} did not stop in {STOP_TIMEOUT:g} s; killing it", flush=True)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    settings = get_settings()
    if not port_is_free(settings.api_port, settings.api_host):
        print(f"serve: {settings.api_host}:{settings.api_port} is in use; set API_PORT")
        return 1
    env = dict(os.environ)
    redis_server = None
    if "REDIS_URL" not in os.environ:
        port = 6380 if port_is_free(6380) else free_port()
        data_dir = ROOT / ".run" / f"redis-{port}"  # one directory per server: never shared
        if port != 6380:
            print(f"serve: port 6380 is taken; jobs kept in {ROOT / '.run' / 'redis-6380'} "
                  "are not served by this run")  # fmt: skip
        maxmemory = settings.redis_maxmemory
        redis_server = RedisServer(port, data_dir, persist=True, maxmemory=maxmemory).start()
        env["REDIS_URL"] = redis_server.url
        print(f"serve: started redis-server at {redacted_url(redis_server.url)} "
              f"(data in {data_dir}, maxmemory {maxmemory}: REDIS_MAXMEMORY)")  # fmt: skip
    else:
        print(f"serve: using Redis at {redacted_url(env['REDIS_URL'])}")

    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    py = sys.executable
    # a worker per lane, its queues and processes from WORKER_LANE (store/lanes.py)
    celery = [py, "-m", "celery", "-A", "worker.celery_app", "worker", "--loglevel=info"]
    workers = [
        start(f"worker-{lane}", [*celery, "-n", f"{lane}@%h"], {**env, "WORKER_LANE": lane})
        for lane in LANES
    ]
    children = [
        *workers,
        start("reaper", [py, "-m", "worker.reaper"], env),
        start("api", [py, "-m", "api.server", "--host", settings.api_host,
                      "--port", str(settings.api_port), "--workers", str(settings.api_workers)],
              env),
    ]  # fmt: skip
    base = f"http://{settings.api_host}:{settings.api_port}"
    if wait_until_up(f"{base}/healthz", children[-1][1]):
        print(f"\n  API   {base}/v1\n  docs  {base}/docs\n  page  {base}/\n", flush=True)
        print("serve: Ctrl-C stops the API, the reaper, the workers and Redis", flush=True)
    elif not stopping:
        print(f"serve: the API did not answer {base}/healthz in time; see its log above",
              flush=True)  # fmt: skip
    watched = [*children, ("redis-server", redis_server.process)] if redis_server else children
    status = 0
    while not stopping:
        exited = [name for name, process in watched if process and process.poll() is not None]
        if exited:
            print(f"serve: {', '.join(exited)} exited; stopping the rest", flush=True)
            status = 1
            break
        time.sleep(0.2)
    for name, process in reversed(children):  # the API first, then the workers
        stop(name, process)
    if redis_server is not None:
        redis_server.stop()
    print("serve: stopped", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
