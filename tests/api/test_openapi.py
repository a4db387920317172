"""The OpenAPI document: named models, auth as configured, limits, non-JSON bodies typed."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine.experiment import InitMethod
from engine.vocabulary import DATASETS_2D, ActivationName, OptimizerName
from store.settings import Settings

KEY = "k" * 20


def document(**settings: Any) -> dict[str, Any]:
    return create_app(Settings(**settings)).openapi()


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


def operations(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        op["operationId"]: (path, op) for path, item in doc["paths"].items() for op in item.values()
    }


def test_every_ref_resolves_and_every_json_response_is_a_named_model(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert refs <= set(doc["components"]["schemas"]) and "x-initlab-ref" not in text
    for op_id, (_, op) in operations(doc).items():
        for status, response in op["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                assert "$ref" in schema, (op_id, status)


def test_auth_is_declared_only_when_keys_are_set() -> None:
    off = document()
    assert "securitySchemes" not in off["components"]
    for op_id, (_, op) in operations(off).items():
        assert "security" not in op and "401" not in op["responses"], op_id
    on = operations(document(api_keys=KEY))
    for op_id, (path, op) in on.items():
        assert ("security" in op) == path.startswith("/v1"), op_id
    assert (
        "security"
        in operations(document(api_keys=KEY, metrics_public=False))["getServiceMetrics"][1]
    )
    readers = {"getJob", "listJobMetrics", "streamJobEvents", "getJobPlot"}
    for op_id in readers:  # a key or a share token
        assert {"APIKey", "ShareLink"} <= {k for s in on[op_id][1]["security"] for k in s}


def test_non_json_bodies_are_typed(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    plot = ops["getJobPlot"][1]["responses"]["200"]["content"]
    assert plot == {"image/svg+xml": {"schema": {"type": "string"}}}
    events = ops["streamJobEvents"][1]["responses"]["200"]
    each = events["content"]["text/event-stream"]["schema"]["oneOf"]
    assert [event["properties"]["event"]["const"] for event in each] == list(events["x-events"])
    payloads = {name: ref["$ref"].rsplit("/", 1)[1] for name, ref in events["x-events"].items()}
    assert payloads == {
        "record": "Record", "status": "StatusEvent", "end": "EndEvent", "error": "ErrorEvent"
    }  # fmt: skip
    assert ops["streamJobEvents"][1]["responses"]["404"]["content"]
    metrics = ops["getServiceMetrics"][1]["responses"]["200"]["content"]
    assert metrics["text/plain"]["schema"] == {"type": "string"}
    for op_id, (_, op) in ops.items():  # every other body too, the phase diagram's SVG included
        for code, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                assert content.get("schema"), (op_id, code, media)


def parameter(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p["schema"] for p in op.get("parameters", []) if p["name"] == name)


def test_the_servers_limits_are_in_the_schema() -> None:
    ops = operations(document(jobs_page_max=77, metrics_page_max=88))
    assert parameter(ops["listJobs"][1], "limit")["maximum"] == 77
    assert parameter(ops["listJobMetrics"][1], "limit")["maximum"] == 88
    assert parameter(ops["listSweeps"][1], "limit")["maximum"] == 100
    for op_id in ("getJob", "deleteJob", "getJobPlot", "getSweep", "cancelSweep", "getSweepPlot"):
        path_id = "sweep_id" if "Sweep" in op_id else "job_id"
        assert parameter(ops[op_id][1], path_id)["pattern"] == "^[0-9a-f]{32}$", op_id
    assert parameter(ops["streamJobEvents"][1], "Last-Event-ID")["type"] == "integer"
    assert parameter(ops["getMnistImages"][1], "indices")["pattern"].startswith("^(0|")
    assert parameter(ops["previewDataset"][1], "name")["enum"] == list(DATASETS_2D)
    assert parameter(ops["getJobPlot"][1], "name")["enum"] == [
        "cost", "boundary", "histograms", "decay", "spectrum"]  # fmt: skip
    assert parameter(ops["getSweepPlot"][1], "name")["enum"] == ["heatmap", "depth", "spectra"]
    assert parameter(ops["getSweepPlot"][1], "metric")["enum"][0] == "final_cost"
    for op_id in ("createJob", "createSweep"):
        assert "Retry-After" in ops[op_id][1]["responses"]["429"]["headers"]
    accepting = [op_id for op_id, (_, op) in ops.items() if "202" in op["responses"]]
    assert sorted(accepting) == ["cancelJob", "cancelSweep", "createJob", "createSweep"]
    for op_id in accepting:
        assert "Location" in ops[op_id][1]["responses"]["202"]["headers"], op_id
    for op_id, (path, op) in ops.items():
        touches_redis = path.startswith(("/v1/jobs", "/v1/sweeps", "/readyz"))
        assert touches_redis <= ("503" in op["responses"]), op_id


def test_spec_sections_use_the_engines_own_names(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["InitSpec"]["properties"]["method"]["enum"] == list(get_args(InitMethod))
    assert schemas["ModelSpec"]["properties"]["activation"]["enum"] == list(
        get_args(ActivationName)
    )
    assert schemas["OptimizerSpec"]["properties"]["name"]["enum"] == list(get_args(OptimizerName))
    for name in ("DatasetSpec", "RecordSpec", "HistogramSpec", "JobCreate", "SweepCreate"):
        assert schemas[name]["additionalProperties"] is False, name
    create = schemas["JobCreate"]["properties"]
    assert create["init"]["$ref"].endswith("/InitSpec")
    assert create["preset"]["$ref"].endswith("/PresetName")
    vary = schemas["SweepVary"]
    assert vary["properties"]["init.method"]["items"]["enum"] == list(get_args(InitMethod))
    assert vary["additionalProperties"] is False and "" not in vary["properties"]
    resolved = schemas["ResolvedInitSpec"]
    assert set(resolved["required"]) == set(resolved["properties"])


def test_summary_and_records_are_typed(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["JobPublic"]["properties"]["spec"]["$ref"].endswith("ResolvedExperimentSpec")
    assert "final_cost" in schemas["Summary"]["required"]
    items = schemas["MetricsPublic"]["properties"]["records"]["items"]
    assert items["$ref"].endswith("/Record")
    assert schemas["LayerStats"]["properties"]["activations"]["$ref"].endswith("/Stat")


def test_true_or_false_for_a_number_is_a_422_not_read_as_1_or_0(client: TestClient) -> None:
    job = client.post("/v1/jobs", json={"training": {"iterations": False}})
    assert job.status_code == 422 and job.json()["detail"][0]["loc"] == ["body", "training"]
    sweep = client.post("/v1/sweeps", json={"vary": {"record.predictions.every": [False]}})
    assert sweep.status_code == 422 and sweep.json()["detail"][0]["loc"] == ["body", "vary"]
    fine = client.post("/v1/theory/variance", json={"optimizer": {"shuffle": True}})
    assert fine.status_code == 200
