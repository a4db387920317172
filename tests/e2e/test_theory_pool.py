"""Variance reports and phase diagrams run in the API's theory processes, not in the API: its
memory and CPU stay flat and /readyz answers while they compute (a real uvicorn via
api.server, real Redis)."""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx

from api.models.signal import PhaseDiagramCreate
from api.services.signal import signal_grid
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


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process itself has used, its children apart."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def test_phase_diagrams_are_computed_outside_the_api_process(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    diagram = {
        "activation": "tanh",
        "weight_variances": {"start": 0.2, "stop": 4.5, "num": 50},
        "bias_variances": {"start": 0.0, "stop": 0.3, "num": 50},
    }
    start = time.process_time()
    signal_grid(PhaseDiagramCreate.model_validate(diagram))  # the quadrature's own CPU time
    quadrature = time.process_time() - start
    env = service_env(redis_server.url, CELERY_QUEUE="initlab-theory")
    with (
        launch.api_server(env, tmp_path / "api.log") as api,
        httpx.Client(base_url=api.url, timeout=120) as client,
    ):
        assert client.post("/v1/theory/signal/diagram", json=diagram).status_code == 200  # warm
        before = _cpu_seconds(api.process.pid)
        for _ in range(3):
            answer = client.post("/v1/theory/signal/diagram", json=diagram)
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["xi_c"]) == 50
        svg = client.get("/v1/theory/signal/diagram.svg", params={"num": 50})
        assert svg.status_code == 200
        used = _cpu_seconds(api.process.pid) - before
    print(f"API CPU {used:.2f} s for four 50x50 diagrams, quadrature alone {quadrature:.2f} s each")
    # in the API's threads it would cost at least the quadrature, four times over
    assert used < 1.5 * quadrature
