"""Mean-field signal propagation over HTTP: one point of the (s_w, s_b) plane, or a grid of
them with the critical line. The numbers are engine.meanfield's; the bodies (and the grid's
bounds) are api/models/signal.py's, which turn non-finite numbers into null."""

from __future__ import annotations

from api.models.signal import (
    PhaseDiagramCreate,
    PhaseDiagramPublic,
    SignalCreate,
    SignalPublic,
    axis_values,
)


def signal_point(body: SignalCreate) -> SignalPublic:
    """The statistics of one point (CPU work: run it in the theory pool)."""
    from engine.meanfield import signal_propagation

    point = signal_propagation(body.activation, body.weight_variance, body.bias_variance)
    return SignalPublic.model_validate(point.to_json())


def signal_grid(body: PhaseDiagramCreate) -> PhaseDiagramPublic:
    """The phase diagram of a grid (CPU work, at most MAX_GRID_SIDE^2 cells)."""
    from engine.meanfield import phase_diagram

    diagram = phase_diagram(
        body.activation, axis_values(body.weight_variances), axis_values(body.bias_variances)
    )
    return PhaseDiagramPublic.model_validate(diagram.to_json())


def signal_grid_svg(body: PhaseDiagramCreate, title: str) -> bytes:
    """The phase diagram of a grid as an SVG image (CPU work: run it in the theory pool)."""
    from api.svg_signal import phase_svg

    return phase_svg(signal_grid(body).model_dump(mode="json"), title)
