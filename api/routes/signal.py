"""Signal propagation at initialization, from mean-field theory: a point or a phase diagram.

The quadrature runs in the theory pool's processes (api/services/theory.py): neither the event
loop nor, through the GIL, the streams of the API process wait for it. The grid is bounded
(api.models.signal.MAX_GRID_SIDE and its quadrature budget).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import ValidationError

from api.auth import AUTH_RESPONSES, require_key
from api.deps import TheoryDep
from api.errors import invalid
from api.models.signal import (
    MAX_GRID_SIDE,
    PhaseDiagramCreate,
    PhaseDiagramPublic,
    SignalCreate,
    SignalPublic,
    Span,
)
from api.services.signal import signal_grid, signal_grid_svg, signal_point
from engine.vocabulary import ActivationName

router = APIRouter(
    prefix="/v1/theory", tags=["theory"], dependencies=[Depends(require_key)],
    responses=AUTH_RESPONSES,
)  # fmt: skip


@router.post("/signal", operation_id="predictSignal")
async def signal_propagation(body: SignalCreate, theory: TheoryDep) -> SignalPublic:
    """q*, c*, chi_1, the depth scales xi_q and xi_c, and the phase at (s_w, s_b)."""
    return await theory.run(signal_point, body)


@router.post("/signal/diagram", operation_id="predictPhaseDiagram")
async def phase_diagram(body: PhaseDiagramCreate, theory: TheoryDep) -> PhaseDiagramPublic:
    """The phase diagram: every statistic on a s_w x s_b grid, and the critical line."""
    return await theory.run(signal_grid, body)


@router.get(
    "/signal/diagram.svg",
    operation_id="getPhaseDiagramPlot",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "the phase diagram",
        }
    },
)
async def phase_diagram_svg(
    theory: TheoryDep,
    activation: ActivationName = "tanh",
    num: Annotated[int, Query(ge=2, le=MAX_GRID_SIDE)] = 40,
    weight_variance_max: Annotated[float, Query(gt=0.0, le=1e3)] = 4.5,
    bias_variance_max: Annotated[float, Query(gt=0.0, le=1e3)] = 0.3,
) -> Response:
    """The phase diagram as an SVG image: xi_c over the plane, the critical line dashed."""
    try:
        body = PhaseDiagramCreate(
            activation=activation,
            weight_variances=Span(start=min(0.2, weight_variance_max), stop=weight_variance_max,
                                  num=num),
            bias_variances=Span(start=0.0, stop=bias_variance_max, num=num),
        )  # fmt: skip
    except ValidationError as exc:  # a grid too big for the activation: the size is the query's
        raise invalid(("query", "num"), exc.errors()[0]["msg"]) from None
    svg = await theory.run(signal_grid_svg, body, f"{activation}: correlation depth scale xi_c")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})
