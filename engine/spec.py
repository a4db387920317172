"""The experiment spec as a client sends it, and its resolution to an ``ExperimentSpec``.

Every section is optional; the defaults are the article's playground (figure 1,
"appropriate"). With ``preset``, the preset is the base and given fields override it.
The resolved form and its sections live in ``engine.experiment``, the names of datasets,
activations and optimizers in ``engine.vocabulary``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, field_validator

from engine.experiment import (
    ExperimentSpec,
    Section,
)
from engine.presets import PRESETS, preset_spec


class SpecRequest(Section):
    """What a client sends: any subset of the spec, optionally on top of a preset."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [
            {"preset": "playground", "init": {"method": "too_large"}},
            {"dataset": {"name": "moon"}, "init": {"method": "he_normal"},
             "optimizer": {"name": "adam", "learning_rate": 0.01},
             "training": {"iterations": 500}},
        ]
    })  # fmt: skip

    preset: str | None = None
    dataset: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    init: dict[str, Any] | None = None
    optimizer: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    record: dict[str, Any] | None = None

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset {value!r}; known: {', '.join(sorted(PRESETS))}")
        return value

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude={"preset"}, exclude_none=True)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts merge key by key; any other value in ``override`` replaces the base's."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def nested(path: str, value: Any) -> dict[str, Any]:
    """``"init.method", "he_normal"`` -> ``{"init": {"method": "he_normal"}}``."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return value  # type: ignore[no-any-return]


def resolve(request: SpecRequest | dict[str, Any]) -> ExperimentSpec:
    """Preset (if any) + overrides -> a validated, fully resolved spec.

    Raises ``pydantic.ValidationError`` with field locations relative to the spec.
    """
    if isinstance(request, dict):
        request = SpecRequest.model_validate(request)
    base = preset_spec(request.preset) if request.preset else {}
    return ExperimentSpec.model_validate(deep_merge(base, request.overrides()))
