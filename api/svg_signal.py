"""The edge-of-chaos phase diagram as an SVG (matplotlib, Agg), for plain ``<img>`` tags:
log10 of the correlation depth scale xi_c over the (s_w, s_b) plane, the critical line on top.

A pure function of ``PhaseDiagramPublic``'s JSON, styled like api.svg_plots.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

from api.svg_plots import INK, STYLE, _figure, _svg

XI_CAP = 1000.0  # xi_c is infinite on the critical line: the colour scale stops here


def phase_svg(diagram: dict[str, Any], title: str) -> bytes:
    """Heat map of log10 min(xi_c, XI_CAP), rows along the bias variances; dashed critical line."""
    sw, sb = diagram["weight_variances"], diagram["bias_variances"]
    grid = [[math.log10(min(XI_CAP if v is None else v, XI_CAP)) if v != 0 else 0.0 for v in row]
            for row in diagram["xi_c"]]  # fmt: skip
    fig = _figure(5.0, 3.8)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        image = ax.pcolormesh(sw, sb, grid, cmap="viridis", vmin=0.0, vmax=math.log10(XI_CAP),
                              shading="nearest")  # fmt: skip
        line = [(w, b) for w, b in zip(diagram["critical_weight_variance"], sb, strict=True)
                if w is not None and sw[0] <= w <= sw[-1]]  # fmt: skip
        if line:
            ax.plot([w for w, _ in line], [b for _, b in line], color="white", linestyle="--",
                    linewidth=1.6, label="critical line")  # fmt: skip
            ax.legend(loc="upper left", frameon=False, labelcolor="white")
        bar = fig.colorbar(image, ax=ax, shrink=0.85, ticks=[0, 1, 2, 3])
        bar.ax.set_yticklabels(["1", "10", "100", ">=1000"])
        bar.set_label("xi_c (layers)", color=INK)
        ax.set_xlabel("weight variance s_w (x fan_in)")
        ax.set_ylabel("bias variance s_b")
        ax.set_title(title, loc="left")
    return _svg(fig)
