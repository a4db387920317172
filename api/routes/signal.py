"""Signal propagation at initialization, from mean-field theory: a point or a phase diagram.

Both routes are plain ``def``: FastAPI runs them in its threadpool, so the quadrature never
blocks the event loop, and the grid is bounded (api.services.signal.MAX_GRID_SIDE).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.auth import AUTH_RESPONSES, require_key
from api.services.signal import (
    PhaseDiagramCreate,
    PhaseDiagramPublic,
    SignalCreate,
    SignalPublic,
    signal_grid,
    signal_point,
)

router = APIRouter(
    prefix="/v1/theory", tags=["theory"], dependencies=[Depends(require_key)],
    responses=AUTH_RESPONSES,
)  # fmt: skip


@router.post("/signal")
def signal(body: SignalCreate) -> SignalPublic:
    """q*, c*, chi_1, the depth scales xi_q and xi_c, and the phase at (s_w, s_b)."""
    return signal_point(body)


@router.post("/signal/diagram")
def phase_diagram(body: PhaseDiagramCreate) -> PhaseDiagramPublic:
    """The phase diagram: every statistic on a s_w x s_b grid, and the critical line."""
    return signal_grid(body)
