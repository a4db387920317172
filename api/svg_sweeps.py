"""A sweep's figures as SVG (matplotlib, Agg): a metric over a two-field grid, and the
trainable-depth map (accuracy over weight variance x depth, theory's 6 xi_c drawn over it).

Pure functions of plain lists; rows run along the sweep's first varied field, columns along
its second. A cell with no value (a job not ended, diverged, or deleted) is drawn blank.
Artists a test must find carry an SVG id (``gid``): ``map`` (the axes), ``cells``,
``value_{i}_{j}`` (a cell's number), ``curve``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np

from api.svg_plots import INK, STYLE, _figure, _svg

Grid = Sequence[Sequence[float | None]]


def _masked(values: Grid) -> np.ma.MaskedArray:  # type: ignore[type-arg]
    z = np.array([[math.nan if v is None else v for v in row] for row in values], dtype=float)
    return np.ma.masked_invalid(z)


def _colour_map() -> matplotlib.colors.Colormap:
    return matplotlib.colormaps["viridis"].with_extremes(bad="#eeeeee")


def heatmap_svg(
    values: Grid,
    columns: tuple[str, Sequence[str]],
    rows: tuple[str, Sequence[str]],
    metric: str,
    title: str,
) -> bytes:
    """``values[i][j]``: the metric at row value i and column value j, on categorical axes
    labelled by each value, every cell printed with its number."""
    (x_name, x_labels), (y_name, y_labels) = columns, rows
    z = _masked(values)
    fig = _figure(1.0 + 0.9 * max(len(x_labels), 3), 1.4 + 0.45 * max(len(y_labels), 3))
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        ax.set_gid("map")
        mesh = ax.pcolormesh(z, cmap=_colour_map(), edgecolors="white", linewidth=0.5)
        mesh.set_gid("cells")
        middle = (z.min() + z.max()) / 2 if z.count() else 0.0
        for (i, j), value in np.ndenumerate(z.filled(math.nan)):
            text = "n/a" if math.isnan(value) else f"{value:.3g}"
            colour = "white" if not math.isnan(value) and value < middle else INK
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8, color=colour,
                    gid=f"value_{i}_{j}")  # fmt: skip
        ax.set_xticks([j + 0.5 for j in range(len(x_labels))], x_labels, rotation=30,
                      ha="right")  # fmt: skip
        ax.set_yticks([i + 0.5 for i in range(len(y_labels))], y_labels)
        fig.colorbar(mesh, ax=ax, shrink=0.85, label=metric.replace("_", " "))
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        ax.set_title(title, loc="left")
    return _svg(fig)


def depth_svg(
    weights: Sequence[float],
    depths: Sequence[int],
    accuracy: Grid,
    curve: tuple[Sequence[float], Sequence[float]],
    top: float,
    title: str,
) -> bytes:
    """Accuracy per (depth, weight variance) cell on numeric axes, and the curve
    (s_w, 6 xi_c) already capped at ``top``, the depth axis's upper end."""
    fig = _figure(5.4, 3.8)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        ax.set_gid("map")
        mesh = ax.pcolormesh(weights, depths, _masked(accuracy), cmap=_colour_map(), vmin=0.0,
                             vmax=1.0, shading="nearest")  # fmt: skip
        mesh.set_gid("cells")
        (line,) = ax.plot(*curve, color="white", linestyle="--", linewidth=1.6, marker="o",
                          markersize=1.5, label="6 xi_c (theory)")  # fmt: skip
        line.set_gid("curve")
        ax.legend(loc="upper right", frameon=False, labelcolor="white")
        fig.colorbar(mesh, ax=ax, shrink=0.85, label="test accuracy")
        ax.set_xlim(curve[0][0], curve[0][-1])
        ax.set_ylim(0.0, top)
        ax.set_xlabel("weight variance s_w (x fan_in)")
        ax.set_ylabel("depth L (hidden layers)")
        ax.set_title(title, loc="left")
    return _svg(fig)
