"""A sweep's figures: the grid of a metric over its two varied fields, the trainable-depth map
with theory's 6 xi_c, and every variation's Jacobian spectrum. Each gathers what it draws
from the sweep's public view and its jobs' first records, then renders off the event loop;
a sweep that cannot give the figure is a 404 saying why."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from api.errors import json_text
from api.models import VariationPublic
from api.services.sweeps import sweep_public
from store.async_sweeps import AsyncSweepStore, Sweep

SWEEP_PLOTS = ("heatmap", "depth", "spectra")
Metric = Literal["final_cost", "train_accuracy", "test_accuracy", "iterations_to_target", "xi_c"]
DEPTH, WEIGHT = "model.hidden", "init.weight_variance"
CURVE_POINTS = 60  # s_w values at which 6 xi_c is drawn
HEADROOM = 1.3  # the depth axis reaches this far past the deepest cell, for the curve to show


def value_label(value: Any) -> str:
    """A varied value as a tick label: 0.5, tanh, 5 x 48 (five layers of 48 units)."""
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return f"{len(value)} x {value[0]}"
    if isinstance(value, float | int | str):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = json_text(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _two_fields(sweep: Sweep, figure: str) -> tuple[str, str]:
    if len(sweep.vary) != 2:
        fields = ", ".join(sweep.vary)
        reason = f"sweep {sweep.id} varies {len(sweep.vary)} field(s) ({fields}); {figure} " + (
            "needs exactly two"
        )
        raise HTTPException(404, reason)
    rows, columns = sweep.vary
    return rows, columns


def _grid(sweep: Sweep, values: list[float | None], rows: str, columns: str
          ) -> list[list[float | None]]:  # fmt: skip
    """values (one per variation, in the sweep's order) placed at [row value][column value]."""
    index = {(json_text(v[rows]), json_text(v[columns])): k for k, v in enumerate(sweep.values)}
    return [[values[index[json_text(r), json_text(c)]] for c in sweep.vary[columns]]
            for r in sweep.vary[rows]]  # fmt: skip


async def _metric(sweep: Sweep, sweeps: AsyncSweepStore, metric: Metric) -> list[float | None]:
    """The metric of each variation, in the sweep's order (None: not known, or not finite)."""
    if metric == "xi_c":
        firsts = await sweeps.first_records(sweep.job_ids)
        return [((r or {}).get("signal") or {}).get("xi_c", {}).get("measured") for r in firsts]
    variations = (await sweep_public(sweep, sweeps)).variations
    return [_finite(_of(variation, metric)) for variation in variations]


def _of(variation: VariationPublic, metric: str) -> float | None:
    if metric in ("final_cost", "iterations_to_target"):
        return getattr(variation, metric)  # type: ignore[no-any-return]
    return getattr(variation.summary, metric) if variation.summary is not None else None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


async def heatmap(sweep: Sweep, sweeps: AsyncSweepStore, metric: Metric) -> bytes:
    from api.svg_sweeps import heatmap_svg

    rows, columns = _two_fields(sweep, "a heat map")
    grid = _grid(sweep, await _metric(sweep, sweeps, metric), rows, columns)
    labels = {field: [value_label(v) for v in sweep.vary[field]] for field in (rows, columns)}
    title = f"{metric.replace('_', ' ')} · sweep {sweep.id[:8]}"
    return await run_in_threadpool(heatmap_svg, grid, (columns, labels[columns]),
                                   (rows, labels[rows]), metric, title)  # fmt: skip


async def depth_map(sweep: Sweep, sweeps: AsyncSweepStore) -> bytes:
    """Test accuracy over (s_w, depth) with theory's 6 xi_c at the sweep's bias variance."""
    from api.svg_sweeps import depth_svg

    if set(sweep.vary) != {DEPTH, WEIGHT}:
        reason = f"sweep {sweep.id} does not vary exactly {DEPTH} and {WEIGHT}: no depth map"
        raise HTTPException(404, reason)
    jobs = [job for job in await sweeps.jobs.get_many(sweep.job_ids) if job is not None]
    if not jobs or jobs[0].spec["init"]["method"] != "mean_field":
        reason = f"sweep {sweep.id}: the depth map needs init.method mean_field (a job left)"
        raise HTTPException(404, reason)
    activation, bias = _activation_and_bias(jobs[0].spec)
    variations = (await sweep_public(sweep, sweeps)).variations
    cell = {(len(v.values[DEPTH]), float(v.values[WEIGHT])): _finite(_of(v, "test_accuracy"))
            for v in variations}  # fmt: skip
    depths, weights = sorted({d for d, _ in cell}), sorted({w for _, w in cell})
    grid = [[cell.get((d, w)) for w in weights] for d in depths]
    top = HEADROOM * max(depths)
    sw, six_xi = six_xi_c(activation, bias, _cell_edges(weights), top)
    title = f"{activation}, s_b {bias:g}: test accuracy after training"
    return await run_in_threadpool(depth_svg, weights, depths, grid, (sw, six_xi), top, title)


def _activation_and_bias(spec: dict[str, Any]) -> tuple[str, float]:
    from engine.experiment import InitSpec
    from engine.init import bias_mean_square

    return spec["model"]["activation"], bias_mean_square(InitSpec.model_validate(spec["init"]))


def _cell_edges(values: list[float]) -> tuple[float, float]:
    """Where nearest-shaded cells centred on sorted ``values`` begin and end."""
    if len(values) == 1:
        return values[0] * 0.5, values[0] * 1.5
    return values[0] - (values[1] - values[0]) / 2, values[-1] + (values[-1] - values[-2]) / 2


def six_xi_c(activation: str, bias_variance: float, span: tuple[float, float], top: float
             ) -> tuple[list[float], list[float]]:  # fmt: skip
    """(s_w, min(6 xi_c, top)) at CURVE_POINTS s_w across ``span`` (s_w >= 0): an infinite
    xi_c (the critical point) is drawn at the top."""
    from engine.meanfield import phase_diagram

    sw = np.linspace(max(span[0], 0.0), span[1], CURVE_POINTS)
    xi = phase_diagram(activation, sw, [bias_variance]).statistics["xi_c"][0]
    six = np.where(np.isfinite(xi), np.minimum(6 * xi, top), top)
    return sw.tolist(), six.tolist()


async def spectra(sweep: Sweep, sweeps: AsyncSweepStore) -> bytes:
    """Each variation's Jacobian spectrum at iteration 0, a row per value of the first field."""
    from api.svg_signal import spectra_svg

    firsts = await sweeps.first_records(sweep.job_ids)
    jacobians = [((r or {}).get("signal") or {}).get("jacobian") for r in firsts]
    if not any(jacobians):
        raise HTTPException(404, f"sweep {sweep.id} recorded no Jacobian spectrum "
                            "(record.signal, two hidden layers or more)")  # fmt: skip
    labels = [", ".join(value_label(v) for v in values.values()) for values in sweep.values]
    columns = len(next(reversed(sweep.vary.values()))) if sweep.vary else 1
    title = f"Jacobian singular values · sweep {sweep.id[:8]}"
    panels = list(zip(labels, jacobians, strict=True))
    return await run_in_threadpool(spectra_svg, panels, columns, title)
