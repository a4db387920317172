"""Variance reports run in the API's theory processes, not in the API: its memory stays flat
and /readyz answers while they compute (a real uvicorn via api.server, real Redis)."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from scripts import launch
from scripts.redis_server import RedisServer
from tests.conftest import service_env

# about 5.6 M parameters and a thousand samples: seconds of NumPy and ~100 MB per report
HEAVY = {"dataset": {"name": "mnist"}, "model": {"hidden": [2000, 2000]}}
CONCURRENT = 6


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _readyz_seconds(client: httpx.Client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        assert client.get("/readyz").status_code == 200
        times.append(time.perf_counter() - start)
        time.sleep(0.05)
    return times


def _readyz_while(client: httpx.Client, reports: list[Future[httpx.Response]]) -> list[float]:
    """/readyz round-trips timed while any of ``reports`` is still being computed."""
    times = []
    while not all(report.done() for report in reports):
        start = time.perf_counter()
        assert client.get("/readyz").status_code == 200
        elapsed = time.perf_counter() - start
        if not all(report.done() for report in reports):
            times.append(elapsed)
        time.sleep(0.02)
    return times


def test_heavy_theory_requests_leave_the_api_process_light_and_ready(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    env = service_env(redis_server.url, CELERY_QUEUE="initlab-theory")
    with (
        launch.api_server(env, tmp_path / "api.log") as api,
        httpx.Client(base_url=api.url, timeout=120) as client,
    ):
        warm = client.post("/v1/theory/variance", json={"preset": "playground"})
        assert warm.status_code == 200, warm.text  # imports done, the pool started
        before = _peak_rss_mb(api.process.pid)
        idle = _readyz_seconds(client, 20)
        with ThreadPoolExecutor(CONCURRENT) as pool:
            reports = [
                pool.submit(client.post, "/v1/theory/variance", json=HEAVY)
                for _ in range(CONCURRENT)
            ]
            busy = _readyz_while(client, reports)
            answers = [report.result() for report in reports]
        grown = _peak_rss_mb(api.process.pid) - before
    assert all(answer.status_code == 200 for answer in answers), answers[0].text
    assert len(busy) >= 3, busy  # /readyz was measured while reports computed
    idle_ms, busy_ms = statistics.median(idle) * 1e3, statistics.median(busy) * 1e3
    print(
        f"API peak memory +{grown:.0f} MB; readyz median idle {idle_ms:.1f} ms, "
        f"busy {busy_ms:.1f} ms, max busy {max(busy) * 1e3:.0f} ms"
    )
    assert grown < 50  # computed in the API's own threads, six reports add ~300+ MB
    # generous (the two cores are busy with the reports either way): the loop is not blocked
    assert busy_ms < max(10 * idle_ms, 50) and max(busy) < 1.0
