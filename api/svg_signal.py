"""Signal propagation's figures as SVG (matplotlib, Agg), for plain ``<img>`` tags: the
edge-of-chaos phase diagram (log10 of the correlation depth scale xi_c over the (s_w, s_b)
plane, the critical line on top), and from a record's ``signal`` section the measured
correlation decay against theory and the Jacobian's singular-value spectra.

Pure functions of the API's JSON (``PhaseDiagramPublic``, a record's ``signal``), styled like
api.svg_plots; artists a test must find carry an SVG id (``gid``).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

from api.svg_plots import BLUE, INK, ORANGE, STYLE, _figure, _svg

GREY = "#888888"

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


def decay_svg(signal: dict[str, Any], title: str) -> bytes:
    """The record's signal section: measured c_l per layer (dots) against theory's (line)."""
    layers = signal["layers"]
    xs = [layer["layer"] for layer in layers]
    fig = _figure(5.0, 3.2)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        ax.set_gid("plot")
        theory = [(x, layer["c_theory"]) for x, layer in zip(xs, layers, strict=True)
                  if layer["c_theory"] is not None]  # fmt: skip
        if theory:
            (line,) = ax.plot(*zip(*theory, strict=True), color=ORANGE, linewidth=1.8,
                              label="theory")  # fmt: skip
            line.set_gid("theory")
        measured = [(x, layer["c"]) for x, layer in zip(xs, layers, strict=True)
                    if layer["c"] is not None]  # fmt: skip
        if measured:
            (dots,) = ax.plot(*zip(*measured, strict=True), linestyle="none", marker="o",
                              markersize=4, color=BLUE, label="measured")  # fmt: skip
            dots.set_gid("measured")
        xi = signal["xi_c"]
        ax.annotate(f"xi_c fitted {_number(xi['measured'])}, theory {_number(xi['theory'])}",
                    (0.01, 0.02), xycoords="axes fraction", color=INK)  # fmt: skip
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("layer")
        ax.set_ylabel("correlation c_l of input pairs")
        ax.legend(loc="upper right", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(title, loc="left")
    return _svg(fig)


def spectrum_svg(jacobian: dict[str, Any], title: str) -> bytes:
    """The hidden stack's Jacobian singular values: their histogram, mean square beside theory."""
    fig = _figure(5.0, 3.2)
    with matplotlib.rc_context(STYLE):
        _spectrum_panel(fig.add_subplot(), jacobian, "bar")
        fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return _svg(fig)


def spectra_svg(panels: list[tuple[str, dict[str, Any] | None]], columns: int, title: str
                ) -> bytes:  # fmt: skip
    """One spectrum per (label, jacobian) in rows of ``columns``; None: nothing to draw."""
    rows = math.ceil(len(panels) / columns)
    fig = _figure(2.6 * columns + 0.4, 2.3 * rows + 0.4)
    with matplotlib.rc_context(STYLE):
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for k, (ax, (label, jacobian)) in enumerate(zip(axes, panels, strict=False)):
            if jacobian is None:
                ax.text(0.5, 0.5, "no spectrum", ha="center", transform=ax.transAxes)
                ax.set_axis_off()
            else:
                _spectrum_panel(ax, jacobian, f"bar{k}")
            ax.set_title(label, fontsize=9)
        for ax in axes[len(panels) :]:
            ax.set_axis_off()
        fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return _svg(fig)


def _spectrum_panel(ax: Any, jacobian: dict[str, Any], ids: str) -> None:
    """Bars with SVG ids ``{ids}_0``, ``{ids}_1``, ... one per histogram bin."""
    low, high = jacobian["histogram"]["range"]
    counts = jacobian["histogram"]["counts"]
    width = (high - low) / len(counts)
    bars = ax.bar([low + i * width for i in range(len(counts))], counts, width=width,
                  align="edge", color=BLUE, linewidth=0)  # fmt: skip
    for i, bar in enumerate(bars):
        bar.set_gid(f"{ids}_{i}")
    ax.axvline(1.0, color=GREY, linestyle=":", linewidth=1.0)  # an isometry's singular values
    ax.set_xlabel("singular value")
    ax.set_ylabel("count")
    text = (f"mean square {_number(jacobian['mean_squared'])}\n"
            f"theory {_number(jacobian['mean_squared_theory'])}")  # fmt: skip
    ax.annotate(text, (0.98, 0.97), xycoords="axes fraction", ha="right", va="top", color=INK)
    ax.spines[["top", "right"]].set_visible(False)


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.3g}"
