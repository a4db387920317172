"""Schemathesis against the served OpenAPI schema: no 5xx, every response as documented, and
every request the schema allows accepted (auth off, and on with a key).

Every operation of the real app (in-process over ASGI) is fuzzed, on database 3 of the
session's real Redis. Jobs it submits go to a queue no worker consumes, so nothing it makes
up is ever trained. A job in each status is stored first (the finished ones from a real short
run), and generated ids are swapped half the time for those of stored jobs or of the jobs and
sweeps the fuzzer created, so the routes behind the id are fuzzed past their 404. Examples are
bounded (``EXAMPLES`` per operation, derandomized, so CI sees the same cases every run), and
so are the mean-field grids (``bounded``): the whole run (both auth modes) took 201 s, 84 s of
CPU, on two cores at load average 8 (2026-12-02 03:38 UTC); without the theory routes, just
after, 127 s and 69 s of CPU.

A spec the schema allows can still break a rule that spans fields (the work budget, ``low``
below ``high``, gd's full batch, a dataset's size, a sweep's variation count, ``stop`` below
``start``): those 422s, and only those, are accepted as the documented exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import (  # type: ignore[attr-defined]  # a registry, read lazily
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from engine.spec import resolve
from scripts.redis_server import RedisServer
from store.settings import Settings
from store.sync_store import JobStore
from worker.runner import run_job

# rules no JSON schema can say: the 422s a schema-valid request may still get
CROSS_FIELD = (
    "per-job budget", "high must be above low", "gd is full-batch", "samples",
    "leaves no training samples", "variations; a sweep runs at most", "low < high",
    "is below start", "orthogonal is for method mean_field", "mean_field draws normal or",
    "over the sweep budget", "a sigmoid grid has at most", "over the grid's budget",
)  # fmt: skip
KEY = "fuzz-key-0123456789abcdef"


def accepts_what_the_schema_allows(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, but for the documented cross-field rules."""
    if response.status_code == 422:
        messages = [error["msg"] for error in orjson.loads(response.content)["detail"]]
        if all(any(rule in msg for rule in CROSS_FIELD) for msg in messages):
            return None
    return positive_data_acceptance(ctx, response, case)  # type: ignore[no-any-return]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    accepts_what_the_schema_allows,
]
EXAMPLES = 6  # per operation and phase (auth on: a third)


def stored_jobs(store: JobStore, settings: Settings) -> dict[str, str]:
    """One job per status (two that trained for real): status -> id."""

    def create(seed: int, iterations: int = 30) -> str:
        spec = resolve({
            "training": {"iterations": iterations, "seed": seed},
            "record": {"boundary": {"every": 10, "resolution": 11}, "parameters": {"every": 10}},
        })  # fmt: skip
        return store.create(spec.model_dump(mode="json"), spec.spec_hash(), 3600)

    jobs = {"succeeded": create(1), "failed": create(2), "running": create(3), "queued": create(4)}
    assert run_job(store, jobs["succeeded"], settings) == "succeeded"
    run_job(store, jobs["failed"], settings, lambda *_, **__: 1 / 0)  # fails at start
    store.start(jobs["running"], 3)  # stays running (no worker): never streamed to its end
    jobs["cancelled"] = create(5)
    store.transition(jobs["cancelled"], "cancelled", ("queued",))
    return jobs


# Built from the app's own document, at import (no Redis needed); the fixture checks that the
# served /openapi.json is this document, then the cases are sent to an app on the real Redis.
# (schemathesis.pytest.from_fixture would load it from the served app, but its lazy loader
# does not run under pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
# with auth on, all but the phase diagram's SVG: each of its cases is a matplotlib render (about
# 1 s under load), and its key check is the theory router's, fuzzed on the other two routes
keyed_schema = schemathesis.openapi.from_dict(  # type: ignore[arg-type]
    create_app(Settings(api_keys=KEY)).openapi()
).exclude(path_regex=r"^/v1/theory/signal/diagram\.svg$")
STORED: dict[str, str] = {}  # status -> id of a stored job, filled by the fixture
CREATED: dict[str, list[str]] = {"job_id": [], "sweep_id": []}  # by the fuzzed POSTs (queued)


# The mean-field grids are pure CPU (a tanh or sigmoid cell at large variances up to 0.2 s of
# quadrature), so the fuzzed grids keep at most GRID_SIDE values an axis; their size limits
# themselves are checked in tests/api/test_signal.py.
GRID_SIDE = 3


def _small(num: Any) -> Any:
    """``num`` (a number or its digits) at most GRID_SIDE; anything else as it is (a 422)."""
    if isinstance(num, str) and num.isdigit():
        num = int(num)
    return min(num, GRID_SIDE) if isinstance(num, int | float) else num


def _small_axis(axis: Any) -> Any:
    if isinstance(axis, list):
        return axis[:GRID_SIDE]
    if isinstance(axis, dict) and "num" in axis:
        return {**axis, "num": _small(axis["num"])}
    return axis


def bounded(case: Any) -> Any:
    """The case with a diagram's axes cut to GRID_SIDE values (a list's first ones, a span's
    num) and a plot's ``num`` (default 40) at most GRID_SIDE; other cases as they are.

    (Done on the case, not in map_body / map_query hooks: those miss the explicit examples.)
    """
    path = case.operation.path
    if path == "/v1/theory/signal/diagram" and isinstance(case.body, dict):
        axes = ("weight_variances", "bias_variances")
        case.body = {k: _small_axis(v) if k in axes else v for k, v in case.body.items()}
    elif path == "/v1/theory/signal/diagram.svg":
        query = case.query if isinstance(case.query, dict) else {}
        case.query = {**query, "num": _small(query.get("num", GRID_SIDE))}
    return case


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Remember the jobs and sweeps the fuzzer made, to fuzz their own routes with them."""
    made = {"/v1/jobs": "job_id", "/v1/sweeps": "sweep_id"}.get(case.operation.path)
    if case.method.upper() == "POST" and made and response.status_code == 202:
        CREATED[made].append(orjson.loads(response.content)["id"])


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the time the id of a stored or created job (or sweep) in place of a made-up one."""
    operation, name = context.operation, next(iter(path_parameters or {}), None)
    if operation.method.upper() == "DELETE":  # only what the fuzzer made: the rest stays
        ids = CREATED.get(name or "", [])
    elif operation.path.endswith("/events"):  # only ended jobs: other streams never end
        ids = [STORED[status] for status in ("succeeded", "failed", "cancelled") if STORED]
    else:
        ids = [*STORED.values(), *CREATED["job_id"]] if name == "job_id" else []
        ids += CREATED["sweep_id"] if name == "sweep_id" else []
    if not ids:  # (explicit examples are drawn at collection, before anything is stored)
        return st.just(path_parameters)
    known = st.sampled_from(ids).map(lambda value: {**path_parameters, name: value})  # type: ignore[dict-item]
    return st.one_of(st.just(path_parameters), known)


def _app(redis_server: RedisServer, document: Any, **extra: Any) -> Iterator[FastAPI]:
    url = f"redis://{redis_server.host}:{redis_server.port}/3"
    redis.Redis.from_url(url).flushdb()
    settings = Settings(redis_url=url, celery_queue="initlab-fuzz-unconsumed", **extra)
    STORED.update(stored_jobs(JobStore.from_url(url), settings))
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == document.raw_schema
    yield app
    STORED.clear()
    for made in CREATED.values():
        made.clear()


@pytest.fixture(scope="module")
def fuzz_app(redis_server: RedisServer) -> Iterator[FastAPI]:
    yield from _app(redis_server, schema)


@pytest.fixture(scope="module")
def keyed_app(redis_server: RedisServer) -> Iterator[FastAPI]:
    yield from _app(redis_server, keyed_schema, api_keys=KEY)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented_and_never_5xx(case: Any, fuzz_app: FastAPI) -> None:
    bounded(case).call_and_validate(checks=CHECKS, app=fuzz_app, timeout=10)


@keyed_schema.parametrize()
@settings(FUZZ, max_examples=EXAMPLES // 3)
def test_with_auth_on_every_keyed_operation_answers_as_documented(
    case: Any, keyed_app: FastAPI
) -> None:
    bounded(case).call_and_validate(
        checks=CHECKS, app=keyed_app, timeout=10, headers={"X-API-Key": KEY}
    )
