"""docker-compose.yml and the Dockerfile: they parse, and what they run exists here."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from celery import Celery
from fastapi import FastAPI

from store.lanes import LANES
from store.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    redis = SERVICES["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert "--maxmemory ${REDIS_MAXMEMORY:-1gb}" in command  # a bounded store, configurable
    assert redis["healthcheck"]["test"][-1] == "ping"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert set(COMPOSE["volumes"]) == {"redis-data"}


WORKERS = {"interactive": SERVICES["worker-interactive"], "batch": SERVICES["worker-batch"]}


def test_api_and_workers_share_one_image_and_find_redis() -> None:
    for name in ("api", "worker-interactive", "worker-batch", "reaper"):
        service = SERVICES[name]
        assert service["build"] == "." and service["image"] == "initlab:latest"
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_each_lane_has_a_worker_service_that_can_be_scaled() -> None:
    assert {name for name in SERVICES if name.startswith("worker")} == {
        f"worker-{lane}" for lane in LANES
    }
    for lane, worker in WORKERS.items():
        assert "container_name" not in worker and "ports" not in worker
        assert worker["environment"]["WORKER_LANE"] == lane
        assert "-Q" not in worker["command"]  # its lane's queues come from WORKER_LANE
        assert worker["stop_grace_period"] == "1830s"


def test_the_lane_settings_are_settings_and_the_api_shares_them() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    lanes = {"INTERACTIVE_MAX_FLOPS", "INTERACTIVE_CONCURRENCY", "BATCH_CONCURRENCY", "LANE_SHARES"}
    assert lanes <= fields
    for service in (SERVICES["api"], *WORKERS.values()):
        assert lanes <= set(service["environment"]) <= fields


def test_the_api_command_serves_an_app_that_exists() -> None:
    command = SERVICES["api"]["command"]
    assert command[:3] == ["python", "-m", "api.server"]  # uvicorn with connection limits
    assert callable(importlib.import_module(command[2]).main)
    assert isinstance(importlib.import_module("api.main").app, FastAPI)
    dockerfile_cmd = next(line for line in dockerfile() if line.startswith("CMD"))
    assert '"api.server"' in dockerfile_cmd


def test_the_api_sets_its_connection_limits_and_trusts_no_proxy_by_default() -> None:
    environment = SERVICES["api"]["environment"]
    for name in (
        "HTTP_HEADER_TIMEOUT_SECONDS",
        "HTTP_BODY_TIMEOUT_SECONDS",
        "HTTP_KEEPALIVE_SECONDS",
        "HTTP_MAX_HEADER_BYTES",
        "HTTP_MAX_HEADERS",
    ):
        assert name in environment, name
    assert environment["FORWARDED_ALLOW_IPS"].endswith(":-}")  # empty unless set


def test_the_worker_command_names_a_celery_app_that_exists() -> None:
    for worker in WORKERS.values():
        command = worker["command"]
        assert command[:2] == ["celery", "-A"] and command[3] == "worker"
        assert isinstance(importlib.import_module(command[2]).app, Celery)


def dockerfile() -> list[str]:
    return [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]


def test_the_image_is_slim_pinned_and_runs_as_a_user() -> None:
    lines = dockerfile()
    base = lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))]
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim(-\w+)?", base)  # a patch release, slim
    assert "RUN pip install -r requirements.txt" in lines
    user = [line for line in lines if line.startswith("USER")]
    assert user and user[-1] not in ("USER root", "USER 0")
    copied = {line.split()[1] for line in lines if line.startswith("COPY")}
    assert {"engine", "store", "worker", "api"} <= copied
    requirements = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert all("==" in requirement for requirement in requirements)


def test_docker_compose_accepts_the_file() -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: run scripts/install_test_tools.sh")
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
