"""The OpenAPI document, built for the app's settings: what clients are generated from.

FastAPI writes the routes' models; this adds what it cannot know: the engine's spec sections
(typed, for requests and as resolved), the paths a sweep may vary, the event stream's payloads,
the page-size limits and the auth the settings turn on, and it names the error bodies.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.models import EVENTS, FieldError, ValidationErrorBody
from api.models.schema import COMPONENTS, REF, defs, spec_schemas
from store.settings import Settings

STORE_PATHS = ("/v1/jobs", "/v1/sweeps", "/readyz")  # every route that reads or writes Redis
STORE_DOWN = {"description": "the job store (Redis) is unreachable", "content": {
    "application/json": {"schema": {"$ref": COMPONENTS + "Error"}}}}  # fmt: skip
AUTH_ONLY = ("APIKey", "ShareLink", "ShareToken")
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
LIMIT_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


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
            for short, keyword in BOUNDS.items():  # api.numbers.Count's bounds come out raw
                if short in schema:
                    schema[keyword] = schema.pop(short)
            if parameter["name"] == "limit" and op["operationId"] in maxima:
                schema["maximum"] = maxima[op["operationId"]]


def _preview_bounds(doc: dict[str, Any]) -> None:
    """The dataset preview's query takes a ``dataset`` section's fields: the same bounds."""
    fields = doc["components"]["schemas"]["DatasetSpec"]["properties"]
    for _, op in _operations(doc):
        if op["operationId"] == "previewDataset":
            for parameter in op["parameters"]:
                bounds = fields.get(parameter["name"], {})
                parameter["schema"] |= {k: v for k, v in bounds.items() if k in LIMIT_KEYS}


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


def _event(name: str, model: type[BaseModel]) -> dict[str, Any]:
    """One server-sent event (OpenAPI 3.2's reading of an event stream's schema): its
    ``data`` is JSON of the named model."""
    data = {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": {"$ref": COMPONENTS + model.__name__},
    }
    properties = {"event": {"const": name}, "data": data}
    if name == "record":
        properties["id"] = {"type": "string", "pattern": "^[0-9]+$", "description": "iteration"}
    return {"type": "object", "properties": properties, "required": ["event", "data"]}


def _events(doc: dict[str, Any]) -> None:
    """The event stream's payloads as components, named from its response (``x-events``)."""
    schemas = doc["components"]["schemas"]
    schemas |= defs(list(EVENTS.values()), "serialization")
    for path, op in _operations(doc):
        content = op["responses"].get("200", {}).get("content", {})
        if "text/event-stream" in content and path.endswith("/events"):
            content["text/event-stream"]["schema"] = {
                "oneOf": [_event(n, m) for n, m in EVENTS.items()]
            }
            op["responses"]["200"]["x-events"] = {
                name: {"$ref": COMPONENTS + model.__name__} for name, model in EVENTS.items()
            }


def _untitled(node: Any) -> Any:
    """Without pydantic's ``title``s below the components (generators name classes by them,
    so two fields called ``name`` would make two classes called ``Name``)."""
    if isinstance(node, dict):
        return {
            k: _untitled(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_untitled(value) for value in node]
    return node


def _titles(doc: dict[str, Any]) -> dict[str, Any]:
    """Every component titled by its own name; no other schema titled."""
    doc = {**doc, "paths": _untitled(doc["paths"]), "components": _untitled(doc["components"])}
    for name, schema in doc["components"]["schemas"].items():
        schema["title"] = name
    return doc


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
    schemas |= copy.deepcopy(spec_schemas())
    schemas["HTTPValidationError"] = ValidationErrorBody.model_json_schema(
        ref_template=COMPONENTS + "{model}"
    )
    schemas["HTTPValidationError"].pop("$defs", None)
    schemas["HTTPValidationError"]["properties"]["detail"]["items"] = {
        "$ref": COMPONENTS + "ValidationError"
    }
    schemas["ValidationError"] = FieldError.model_json_schema()
    doc = _titles(_markers(doc))
    _parameters(doc, settings)
    _preview_bounds(doc)
    _responses(doc, bool(settings.api_keys))
    _security(doc, settings)
    _events(doc)
    return doc


if __name__ == "__main__":  # the document a default server serves: python -m api.openapi
    import json

    from api.main import create_app

    print(json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True))
