"""Request bodies that carry a spec, with each section typed in the OpenAPI document.

The server validates a spec as the engine does (``engine.spec.resolve``); these models only
tell the document what each section holds: the engine's own section models (their enums,
bounds and ``additionalProperties: false``), the preset names, and the paths a sweep may vary.
api/openapi.py turns the markers into ``$ref``s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from api.models.schema import SECTION_SCHEMAS, base_values, refer, section_values, vary_values
from engine import spec as engine_spec
from engine import sweep as engine_sweep

SECTIONS = {
    name: schema
    for name, schema in SECTION_SCHEMAS.items()
    if name in engine_spec.SpecRequest.model_fields
}


def _examples(model: type[Any]) -> list[dict[str, Any]]:
    extra = model.model_config.get("json_schema_extra")
    return list(extra["examples"]) if isinstance(extra, dict) else []


def typed_spec(examples: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` marking each section as the engine's model, and the preset."""

    def extra(schema: dict[str, Any]) -> None:
        properties = schema["properties"]
        for name, component in SECTIONS.items():
            properties[name] = {**refer(component), "description": f"overrides of `{name}`"}
        properties["preset"] = {
            **refer("PresetName"),
            "description": "a preset as the base; the given sections override it",
        }
        schema["examples"] = examples

    return extra


class SpecRequest(engine_spec.SpecRequest):
    """What a client sends: any subset of the spec, optionally on top of a preset."""

    model_config = ConfigDict(json_schema_extra=typed_spec(_examples(engine_spec.SpecRequest)))

    @field_validator(*SECTIONS)
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        return section_values(value, str(info.field_name))


def _typed_vary(schema: dict[str, Any]) -> None:
    vary = schema["properties"]["vary"]
    schema["properties"]["vary"] = {**refer("SweepVary"), "description": vary.get("description")}
    schema["examples"] = _examples(engine_sweep.SweepCreate)


class SweepCreate(engine_sweep.SweepCreate):
    """A base spec and the fields to vary: every combination of the listed values is a job."""

    model_config = ConfigDict(json_schema_extra=_typed_vary)

    base: SpecRequest = SpecRequest()

    @field_validator("vary")
    @classmethod
    def _numbers_are_numbers(cls, vary: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return vary_values(vary)

    @model_validator(mode="after")
    def _base_within_bounds(self) -> SweepCreate:
        base_values(self.base.model_dump(exclude={"preset"}, exclude_none=True), self.vary)
        return self
