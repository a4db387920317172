"""Everything a frontend needs to build its menus, in one JSON-ready dict."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from engine.experiment import OptimizerSpec
from engine.init import calculate_gain
from engine.initializers import INITIALIZERS
from engine.presets import PRESETS
from engine.vocabulary import ACTIVATION_FORMULAS, DATASETS, OPTIMIZERS


def _optimizer_parameters(names: tuple[str, ...]) -> list[dict[str, Any]]:
    fields = OptimizerSpec.model_fields
    return [{"name": name, "default": fields[name].default} for name in names]


def catalog() -> dict[str, Any]:
    """Initializers (formula, parameters), activations, optimizers, datasets and presets."""
    return {
        "initializers": [asdict(info) for info in INITIALIZERS.values()],
        "activations": [
            {"name": name, "formula": formula, "gain": calculate_gain(name)}
            for name, formula in ACTIVATION_FORMULAS.items()
        ],
        "optimizers": [
            {
                "name": name,
                "update": facts.update,
                "parameters": _optimizer_parameters(facts.parameters),
            }
            for name, facts in OPTIMIZERS.items()
        ],
        "datasets": [
            {
                "name": name,
                "kind": facts.kind,
                "classes": facts.classes,
                "inputs": facts.inputs,
                "description": facts.description,
            }
            for name, facts in DATASETS.items()
        ],
        "presets": [
            {"name": p.name, "title": p.title, "figure": p.figure, "variants": p.variants}
            for p in PRESETS.values()
        ],
    }
