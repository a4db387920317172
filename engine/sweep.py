"""Sweeps: one base spec, several variations, compared side by side.

``vary`` maps a dotted field path to the values it takes; the variations are the cartesian
product of those lists. A sweep is bounded by the work of all its runs together
(``MAX_SWEEP_WORK_FLOPS``, each run's ``ExperimentSpec.work_flops``), so a grid of hundreds
of cheap points (networks at iteration 0) runs as one sweep while a few long trainings fill
the same budget; ``MAX_VARIATIONS`` only caps how many jobs one request may create.
Ranking needs only each run's summary and its cost curve, so it is pure and the API can rank
from stored records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.experiment import MAX_WORK_FLOPS, ExperimentSpec
from engine.spec import SpecRequest, deep_merge, nested

# a 20 x 20 grid: each variation is a stored job, so the count stays bounded too
MAX_VARIATIONS = 400
# the work of 32 runs at the per-job budget (the old cap of 32 variations, at its worst)
MAX_SWEEP_WORK_FLOPS = 32 * MAX_WORK_FLOPS
SECTIONS = frozenset(SpecRequest.model_fields) - {"preset"}


class SweepCreate(BaseModel):
    """A base spec (optionally on a preset) and the fields to vary across jobs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{
            "base": {"preset": "playground"},
            "vary": {"init.method": ["zero", "too_small", "appropriate", "too_large"]},
        }]
    })  # fmt: skip

    base: SpecRequest = SpecRequest()
    vary: Annotated[dict[str, Annotated[list[Any], Field(min_length=1)]], Field(min_length=1)]
    target_cost: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 0.1
    force: bool = False

    @field_validator("vary")
    @classmethod
    def _paths_and_size(cls, vary: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for path in vary:
            section, _, rest = path.partition(".")
            if section not in SECTIONS or not rest:
                raise ValueError(
                    f"{path!r} is not a field path like 'init.method' "
                    f"(sections: {', '.join(sorted(SECTIONS))})"
                )
        count = math.prod(len(values) for values in vary.values())
        if count > MAX_VARIATIONS:
            raise ValueError(f"{count} variations; a sweep runs at most {MAX_VARIATIONS}")
        return vary


def variations(sweep: SweepCreate) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (varied values, full request dict) pair of the sweep, in a stable order."""
    base = sweep.base.model_dump(exclude_none=True)
    paths = list(sweep.vary)
    result = []
    for values in itertools.product(*(sweep.vary[path] for path in paths)):
        chosen = dict(zip(paths, values, strict=True))
        request = base
        for path, value in chosen.items():
            request = deep_merge(request, nested(path, value))
        result.append((chosen, request))
    return result


def over_budget(specs: Sequence[ExperimentSpec]) -> str | None:
    """Why the sweep's runs together are over MAX_SWEEP_WORK_FLOPS, or None when they fit."""
    total = sum(spec.work_flops() for spec in specs)
    if total <= MAX_SWEEP_WORK_FLOPS:
        return None
    return (
        f"these {len(specs)} variations need about {total:.2g} floating-point operations "
        f"together, over the sweep budget of {MAX_SWEEP_WORK_FLOPS:.2g}; vary fewer values "
        "or make each run smaller (fewer iterations, layers or samples)"
    )


def iterations_to_reach(costs: Sequence[tuple[int, float | None]], target: float) -> int | None:
    """First recorded iteration whose cost is at or below ``target`` (None if never)."""
    return next((it for it, cost in costs if cost is not None and cost <= target), None)


def rank(entries: Sequence[dict[str, Any]]) -> list[int]:
    """Order of entries, best first: by final cost, then iterations to the target cost.

    Entries are dicts with ``final_cost`` (None when the run diverged or has not finished)
    and ``iterations_to_target``; runs without a final cost go last.
    """

    def key(index: int) -> tuple[float, float]:
        entry = entries[index]
        cost = entry.get("final_cost")
        reach = entry.get("iterations_to_target")
        return (
            cost if cost is not None else math.inf,
            reach if reach is not None else math.inf,
        )

    return sorted(range(len(entries)), key=key)
