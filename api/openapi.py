"""The OpenAPI document, built for the app's settings: what clients are generated from.

FastAPI writes the routes' models; this adds what it cannot know: the engine's spec sections
(typed, for requests and as resolved), the paths a sweep may vary, the event stream's payloads,
the page-size limits and the auth the settings turn on, and it names the error bodies.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.models import EVENTS, FieldError, ValidationErrorBody
from api.models.schema import REF
from engine.presets import PRESETS
from engine.spec import ExperimentSpec
from engine.sweep import MAX_VARIATIONS
from store.settings import Settings

COMPONENTS = "#/components/schemas/"
STORE_PATHS = ("/v1/jobs", "/v1/sweeps", "/readyz")  # every route that reads or writes Redis
STORE_DOWN = {"description": "the job store (Redis) is unreachable", "content": {
    "application/json": {"schema": {"$ref": COMPONENTS + "Error"}}}}  # fmt: skip
AUTH_ONLY = ("APIKey", "ShareLink", "ShareToken")


def _defs(models: list[type[BaseModel]], mode: str, prefix: str = "") -> dict[str, Any]:
    pairs = [(model, mode) for model in models]
    template = COMPONENTS + prefix + "{model}"
    _, schema = models_json_schema(pairs, ref_template=template)  # type: ignore[arg-type]
    return {prefix + name: body for name, body in schema.get("$defs", {}).items()}


def _all_required(schemas: dict[str, Any]) -> None:
    """A resolved spec has every field: mark them required."""
    for schema in schemas.values():
        if "properties" in schema:
            schema["required"] = list(schema["properties"])


def _paths(schemas: dict[str, Any], name: str, prefix: str = "") -> dict[str, Any]:
    """Every dotted field path of a section (nested sections too) -> its schema."""
    found: dict[str, Any] = {}
    for key, schema in schemas[name].get("properties", {}).items():
        path = f"{prefix}{key}"
        found[path] = schema
        ref = schema.get("$ref", "")
        if ref.startswith(COMPONENTS):
            found |= _paths(schemas, ref.removeprefix(COMPONENTS), path + ".")
    return found


def spec_schemas() -> dict[str, Any]:
    """The engine's spec sections as request schemas, the resolved spec, presets, `vary`."""
    sections = [field.annotation for field in ExperimentSpec.model_fields.values()]
    requests = _defs(sections, "validation")  # type: ignore[arg-type]
    resolved = _defs([ExperimentSpec], "serialization", "Resolved")
    resolved["ResolvedExperimentSpec"] = ExperimentSpec.model_json_schema(
        mode="serialization", ref_template=COMPONENTS + "Resolved{model}"
    )
    resolved["ResolvedExperimentSpec"].pop("$defs", None)
    _all_required(resolved)
    paths: dict[str, Any] = {}
    for name, field in ExperimentSpec.model_fields.items():
        paths |= _paths(requests, field.annotation.__name__, f"{name}.")  # type: ignore[union-attr]
    vary = {
        "type": "object",
        "description": "field path -> the values it takes; every combination of the values is "
        f"one job, at most {MAX_VARIATIONS} combinations in all",
        "properties": {
            path: {"type": "array", "items": schema, "minItems": 1, "maxItems": MAX_VARIATIONS}
            for path, schema in paths.items()
        },
        "additionalProperties": False,
        "minProperties": 1,
        "x-max-variations": MAX_VARIATIONS,
    }
    values = {"type": "object", "properties": paths, "additionalProperties": False}
    preset = {"type": "string", "enum": sorted(PRESETS), "description": "GET /v1/presets"}
    return {**requests, **resolved, "SweepVary": vary, "SweepValues": values, "PresetName": preset}


def _markers(node: Any) -> Any:
    """``x-initlab-ref`` markers -> ``$ref``s (their description kept)."""
    if isinstance(node, dict):
        if REF in node:
            ref = {"$ref": COMPONENTS + node[REF]}
            return ref | ({"description": node["description"]} if "description" in node else {})
        return {key: _markers(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_markers(value) for value in node]
    return node


def _operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, op) for path, item in doc["paths"].items() for op in item.values()]


def _parameters(doc: dict[str, Any], settings: Settings) -> None:
    """An optional parameter is absent or a value, never null; page sizes have a maximum."""
    maxima = {
        "listJobs": settings.jobs_page_max,
        "listJobMetrics": settings.metrics_page_max,
    }
    for _, op in _operations(doc):
        for parameter in op.get("parameters", []):
            schema = parameter["schema"]
            options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
            if len(options) == 1 and not parameter.get("required"):
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                parameter["schema"] = schema = {**options[0], **rest}
            if parameter["name"] == "limit" and op["operationId"] in maxima:
                schema["maximum"] = maxima[op["operationId"]]


def _responses(doc: dict[str, Any], auth: bool) -> None:
    for path, op in _operations(doc):
        responses = op["responses"]
        if path.startswith(STORE_PATHS):
            responses.setdefault("503", STORE_DOWN)
        if not auth:
            responses.pop("401", None)
            if "share token" in responses.get("403", {}).get("description", ""):
                responses.pop("403")


def _security(doc: dict[str, Any], settings: Settings) -> None:
    """Keys only where the settings ask for them."""
    auth = bool(settings.api_keys)
    for path, op in _operations(doc):
        if not auth or (path == "/metrics" and settings.metrics_public):
            op.pop("security", None)
    if not auth:
        schemes = doc["components"].get("securitySchemes", {})
        for name in AUTH_ONLY:
            schemes.pop(name, None)
        if not schemes:
            doc["components"].pop("securitySchemes", None)


def _events(doc: dict[str, Any]) -> None:
    """The event stream's payloads as components, named from its response (``x-events``)."""
    schemas = doc["components"]["schemas"]
    schemas |= _defs(list(EVENTS.values()), "serialization")
    for path, op in _operations(doc):
        content = op["responses"].get("200", {}).get("content", {})
        if "text/event-stream" in content and path.endswith("/events"):
            content["text/event-stream"]["schema"] = {"type": "string"}
            op["responses"]["200"]["x-events"] = {
                name: {"$ref": COMPONENTS + model.__name__} for name, model in EVENTS.items()
            }


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The document ``/openapi.json`` serves for these settings."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc["components"]["schemas"]
    schemas |= spec_schemas()
    schemas["HTTPValidationError"] = ValidationErrorBody.model_json_schema(
        ref_template=COMPONENTS + "{model}"
    )
    schemas["HTTPValidationError"].pop("$defs", None)
    schemas["HTTPValidationError"]["properties"]["detail"]["items"] = {
        "$ref": COMPONENTS + "ValidationError"
    }
    schemas["ValidationError"] = FieldError.model_json_schema()
    doc = _markers(doc)
    _parameters(doc, settings)
    _responses(doc, bool(settings.api_keys))
    _security(doc, settings)
    _events(doc)
    return doc
