"""Bad input gets a 422 that names the field, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.errors import detail, locs

BOUNDARY = ["body", "record", "boundary"]
HISTOGRAMS = ["body", "record", "histograms"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"init": {"method": "glorot_magic"}}, ["body", "init", "method"]),
        ({"optimizer": {"learning_rate": -0.1}}, ["body", "optimizer", "learning_rate"]),
        ({"model": {"hidden": [2] * 10_000}}, ["body", "model", "hidden"]),
        ({"training": {"iterations": "many"}}, ["body", "training", "iterations"]),
        ({"training": 5}, ["body", "training"]),
        ({"model": {"hidden": "wide"}}, ["body", "model", "hidden"]),
        ({"force": "perhaps"}, ["body", "force"]),
        ({"preset": "figure_99"}, ["body", "preset"]),
        ({"colour": "red"}, ["body", "colour"]),
        ({"init": {"seed": -1}}, ["body", "init", "seed"]),
        # checks that read other fields name the field they check
        ({"dataset": {"name": "mnist", "n_samples": 20_000}}, ["body", "dataset", "n_samples"]),
        ({"optimizer": {"batch_size": 10}}, ["body", "optimizer", "batch_size"]),
        ({"init": {"method": "uniform", "low": 1, "high": 0}}, ["body", "init", "high"]),
        (
            {"init": {"method": "mean_field", "distribution": "uniform"}},
            ["body", "init", "distribution"],
        ),
        (
            {"init": {"method": "mean_field", "bias_variance": -1}},
            ["body", "init", "bias_variance"],
        ),
        ({"record": {"boundary": {"extent": [5, -5]}}}, ["body", "record", "boundary", "extent"]),
        (
            {"record": {"boundary": {"extent": [-1e300, 5]}}},
            ["body", "record", "boundary", "extent", 0],
        ),
        (
            {"record": {"histograms": {"range": [0, 0]}}},
            ["body", "record", "histograms", "range"],
        ),
    ],
)
def test_an_invalid_spec_names_the_field(client: TestClient, body: Any, loc: list[Any]) -> None:
    assert loc in locs(client.post("/v1/jobs", json=body))


def test_the_error_says_what_would_be_accepted(client: TestClient) -> None:
    [error] = detail(client.post("/v1/jobs", json={"init": {"method": "glorot_magic"}}))
    assert "he_normal" in error["msg"] and "xavier" in error["msg"]


def test_an_over_budget_spec_is_refused_with_the_reason(client: TestClient) -> None:
    body = {"model": {"hidden": [1000] * 8}, "training": {"iterations": 100_000}}
    [error] = detail(client.post("/v1/jobs", json=body))
    assert error["loc"][0] == "body" and "budget" in error["msg"] and "iterations" in error["msg"]


def test_a_missing_body_is_a_422(client: TestClient) -> None:
    [error] = detail(client.post("/v1/jobs"))
    assert error["loc"] == ["body"] and "body is required" in error["msg"]


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    [error] = detail(client.post("/v1/jobs", content=b"{not json", headers=headers))
    assert error["type"] == "json_invalid" and "not valid JSON" in error["msg"]


def test_a_body_that_is_not_a_json_object_is_a_422(client: TestClient) -> None:
    plain = client.post("/v1/jobs", content=b"iterations=5", headers={"Content-Type": "text/plain"})
    assert locs(plain) == [["body"]]
    assert locs(client.post("/v1/jobs", json=[1, 2])) == [["body"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"optimizer": {"learning_rate": NaN}}', ["body", "optimizer", "learning_rate"]),
        (b'{"record": {"boundary": {"extent": [NaN, NaN]}}}', [*BOUNDARY, "extent", 0]),
        (b'{"record": {"histograms": {"range": [0, Infinity]}}}', [*HISTOGRAMS, "range", 1]),
    ],
)
def test_a_nan_in_the_body_is_a_422_not_a_500(
    client: TestClient, body: bytes, loc: list[Any]
) -> None:
    response = client.post("/v1/jobs", content=body, headers={"Content-Type": "application/json"})
    assert loc in locs(response)


def test_the_variance_endpoint_validates_like_jobs(client: TestClient) -> None:
    response = client.post("/v1/theory/variance", json={"init": {"method": "nope"}})
    assert locs(response) == [["body", "init", "method"]]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=0", ["query", "limit"]),
        ("limit=100000", ["query", "limit"]),
        ("limit=ten", ["query", "limit"]),
        ("status=sleeping", ["query", "status"]),
        ("cursor=not-an-id", ["query", "cursor"]),
    ],
)
def test_invalid_list_queries_name_the_parameter(client: TestClient, query: str, loc: list) -> None:
    assert locs(client.get(f"/v1/jobs?{query}")) == [loc]


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("every=0", ["query", "every"]),
        ("start=-1", ["query", "start"]),
        ("start=5&stop=2", ["query", "stop"]),
        ("fields=cost,weather", ["query", "fields"]),
        ("limit=0", ["query", "limit"]),
    ],
)
def test_invalid_metrics_queries_name_the_parameter(
    client: TestClient, query: str, loc: list
) -> None:
    job = client.post("/v1/jobs", json={"training": {"iterations": 3}}).json()
    assert locs(client.get(f"/v1/jobs/{job['id']}/metrics?{query}")) == [loc]


def test_a_bad_last_event_id_is_a_422(client: TestClient) -> None:
    job = client.post("/v1/jobs", json={"training": {"iterations": 3}}).json()
    response = client.get(job["links"]["events"], headers={"Last-Event-ID": "yesterday"})
    assert locs(response) == [["header", "Last-Event-ID"]]
    assert locs(client.get(job["links"]["events"] + "?last_event_id=-2")) == [
        ["query", "last_event_id"]
    ]


def test_an_iteration_past_any_there_can_be_is_a_422_or_nothing(client: TestClient) -> None:
    job = client.post("/v1/jobs", json={"training": {"iterations": 3}}).json()
    huge = str(10**30)  # past a Redis stream id: was a 500 (found by the schema fuzz)
    response = client.get(job["links"]["events"], headers={"Last-Event-ID": huge})
    assert locs(response) == [["header", "Last-Event-ID"]]
    for name in ("start", "stop"):  # past 18 digits: a 422 (api/numbers.py)
        page = client.get(job["links"]["metrics"], params={name: huge})
        assert locs(page) == [["query", name]]
    page = client.get(job["links"]["metrics"], params={"start": str(10**17)})
    assert page.status_code == 200 and page.json()["records"] == []


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/theory/variance"])
def test_a_body_that_is_not_utf8_is_a_422_not_a_400(client: TestClient, path: str) -> None:
    response = client.post(
        path, content=b"\x1f\x8b\xff{", headers={"Content-Type": "application/json"}
    )
    [error] = detail(response)
    assert error["loc"] == ["body"] and error["type"] == "json_invalid"
    assert "not UTF-8" in error["msg"]
