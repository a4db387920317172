"""Schemas pydantic does not emit itself: the engine's spec sections (as request overrides and
as resolved), the paths a sweep may vary, and markers api/openapi.py turns into ``$ref``s."""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import models_json_schema

from engine.experiment import ExperimentSpec
from engine.presets import PRESETS
from engine.sweep import MAX_VARIATIONS

REF = "x-initlab-ref"
SECTION_SCHEMAS = {
    name: field.annotation.__name__  # type: ignore[union-attr]
    for name, field in ExperimentSpec.model_fields.items()
}
COMPONENTS = "#/components/schemas/"


def refer(name: str) -> dict[str, Any]:
    """``json_schema_extra`` of a field whose schema is the component ``name``."""
    return {REF: name}


def defs(models: list[type[BaseModel]], mode: str, prefix: str = "") -> dict[str, Any]:
    pairs = [(model, mode) for model in models]
    template = COMPONENTS + prefix + "{model}"
    _, schema = models_json_schema(pairs, ref_template=template)  # type: ignore[arg-type]
    return {prefix + name: body for name, body in schema.get("$defs", {}).items()}


def _all_required(schemas: dict[str, Any]) -> None:
    """A resolved spec has every field: mark them required."""
    for schema in schemas.values():
        if "properties" in schema:
            schema["required"] = list(schema["properties"])


def _defaults_described(schemas: dict[str, Any]) -> None:
    """An override left out keeps the preset's value, not the default: no ``default`` for
    generators to fill in, only the words."""
    for schema in schemas.values():
        for field in schema.get("properties", {}).values():
            if "default" in field:
                default = json.dumps(field.pop("default"))
                note = f"default without a preset: {default}"
                field["description"] = (
                    f"{field['description']}; {note}" if "description" in field else note
                )


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


@cache
def spec_schemas() -> dict[str, Any]:
    """The engine's spec sections as request schemas, the resolved spec, presets, `vary`."""
    sections = [field.annotation for field in ExperimentSpec.model_fields.values()]
    requests = defs(sections, "validation")  # type: ignore[arg-type]
    _defaults_described(requests)
    resolved = defs([ExperimentSpec], "serialization", "Resolved")
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


def _coercible(value: Any) -> bool:
    """A JSON value pydantic would turn into a number though it is not one: true, "5"."""
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _mismatch(value: Any, schema: dict[str, Any], schemas: dict[str, Any], at: str) -> str | None:
    """Where ``value`` is not a number though pydantic would read it as one (None: nowhere);
    any other wrong type the engine rejects itself, naming the field."""
    ref = schema.get("$ref", "")
    if ref.startswith(COMPONENTS):
        return _mismatch(value, schemas[ref.removeprefix(COMPONENTS)], schemas, at)
    if "anyOf" in schema:
        options = [_mismatch(value, option, schemas, at) for option in schema["anyOf"]]
        return None if None in options else options[0]
    kind = schema.get("type")
    if kind in ("integer", "number") and _coercible(value):
        return f"{at}: expected {kind}"
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found = (
            _mismatch(v, properties.get(k, {}), schemas, f"{at}.{k}") for k, v in value.items()
        )
        return next((where for where in found if where), None)
    if isinstance(value, list):
        items = schema.get("prefixItems") or [schema.get("items", {})] * len(value)
        pairs = zip(value, items, strict=False)
        found = (_mismatch(v, s, schemas, f"{at}[{i}]") for i, (v, s) in enumerate(pairs))
        return next((where for where in found if where), None)
    return None


@cache
def _leaf(model: type[BaseModel], name: str) -> TypeAdapter[Any] | None:
    field = model.model_fields.get(name)
    if field is None or _section(field.annotation) is not None:
        return None
    if not field.metadata:
        return TypeAdapter(field.annotation)  # type: ignore[arg-type]
    return TypeAdapter(Annotated[field.annotation, *field.metadata])  # type: ignore[arg-type]


def _section(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _out_of_bounds(value: Any, model: type[BaseModel], name: str, at: str) -> str | None:
    """Where a value breaks its own field's bounds or names (None: nowhere); the rules that
    span fields are the engine's, checked when the spec is resolved."""
    field = model.model_fields.get(name)
    section = _section(field.annotation) if field is not None else None
    if section is not None and isinstance(value, dict):
        found = (_out_of_bounds(v, section, k, f"{at}.{k}") for k, v in value.items())
        return next((where for where in found if where), None)
    leaf = _leaf(model, name)
    try:
        if leaf is not None:
            leaf.validate_python(value)
    except PydanticValidationError as exc:
        return f"{at}: {exc.errors()[0]['msg']}"
    return None


def _check(value: Any, component: str, fields: list[tuple[Any, type[BaseModel], str, str]]) -> Any:
    schemas = spec_schemas()
    where = _mismatch(value, schemas[component], schemas, "") if component else None
    if where is not None:
        raise ValueError(f"{where.lstrip('.') or 'value'}: not of the type the schema gives")
    for item, model, name, at in fields:
        where = _out_of_bounds(item, model, name, at)
        if where is not None:
            raise ValueError(where)
    return value


def _owner(path: str) -> tuple[type[BaseModel], str]:
    """The model holding the field a dotted path names, and the field's name."""
    *sections, name = path.split(".")
    model: type[BaseModel] = ExperimentSpec
    for key in sections:
        field = model.model_fields.get(key)
        inner = _section(field.annotation) if field is not None else None
        if inner is None:
            raise ValueError(f"{path!r} is not a field path of the spec")
        model = inner
    return model, name


def section_values(value: Any, section: str) -> Any:
    """A spec section, unchanged, or a ValueError where a value is of another JSON type than
    the schema's, which pydantic would convert (true to 1, "5" to 5)."""
    return _check(value, SECTION_SCHEMAS[section], [])


def _hidden(path: str, vary: dict[str, list[Any]]) -> bool:
    """Whether a varied path inside ``path`` replaces part of its value."""
    return any(other.startswith(path + ".") for other in vary)


def _at(tree: Any, path: str) -> tuple[bool, Any]:
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return False, None
        tree = tree[key]
    return True, tree


def base_values(base: dict[str, Any], vary: dict[str, list[Any]]) -> None:
    """A ValueError where a sweep's base holds a value out of its field's own bounds that a
    varied path replaces: the engine never sees it, but the sweep echoes its base as sent."""
    fields = []
    for path in vary:
        found, value = _at(base, path)
        if found:
            fields.append((value, *_owner(path), f"base.{path}"))
    _check(None, "", fields)


def vary_values(vary: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``vary``, unchanged, or a ValueError naming a value pydantic would read as another
    type, or out of bounds under a path varied with a path inside it (which hides it from
    the engine); the engine checks every other value, naming the variation."""
    fields = [
        (item, *_owner(path), path)
        for path, items in vary.items()
        if _hidden(path, vary)
        for item in items
    ]
    return _check(vary, "SweepVary", fields)  # type: ignore[no-any-return]
