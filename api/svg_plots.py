"""Server-side SVG figures of a job's records (matplotlib, Agg), for plain ``<img>`` tags.

Pure functions of records: no store, no request. Colours match the reference page:
orange is class 0 (and a negative weight), blue is class 1 (and a positive one).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; set before anything draws

from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

ORANGE, BLUE, INK, GRID = "#e07b00", "#1a6bb5", "#222222", "#dddddd"
CLASS_COLOURS = (ORANGE, BLUE, "#2e9e4f", "#8e44ad")
BOUNDARY_MAP = LinearSegmentedColormap.from_list(
    "initlab_boundary", ["#f3b36b", "#fafafa", "#86b6e3"]
)
STYLE: Any = {  # rc_context wants its own Literal keys
    "font.size": 9.0,
    "axes.edgecolor": "#888888",
    "axes.labelcolor": INK,
    "axes.titlesize": 10.0,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "svg.fonttype": "none",  # text stays text: smaller files, selectable labels
    "svg.hashsalt": "initlab",  # stable ids: the same records give the same bytes
}


def _svg(fig: Figure) -> bytes:
    out = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def cost_svg(records: Sequence[dict[str, Any]], title: str) -> bytes:
    """Cost per recorded iteration; a mark where the cost stopped being finite."""
    fig = _figure(6.0, 3.0)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        points = [(r["iteration"], r["cost"]) for r in records if _finite(r.get("cost"))]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, color=BLUE, linewidth=1.6)
        lost = [r["iteration"] for r in records if not _finite(r.get("cost"))]
        if lost:
            ax.axvline(lost[0], color="#c0392b", linestyle="--", linewidth=1.0)
            where = ("data", "axes fraction")
            ax.annotate(f"diverged at {lost[0]}", (lost[0], 1.0), xycoords=where,
                        ha="right", va="top", color="#c0392b")  # fmt: skip
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost")
        ax.set_title(title, loc="left")
        ax.grid(color=GRID, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def boundary_svg(record: dict[str, Any], points: dict[str, Any] | None, title: str) -> bytes:
    """The predicted probability over the grid as a heatmap, with the training points."""
    boundary = record["boundary"]
    (x0, x1), (y0, y1) = boundary["x"], boundary["y"]
    grid = [[math.nan if v is None else v for v in row] for row in boundary["p"]]
    fig = _figure(4.2, 4.0)
    with matplotlib.rc_context(STYLE):
        ax = fig.add_subplot()
        if "label" in boundary:  # several classes: colour by the winning class
            from matplotlib.colors import ListedColormap

            n = max(max(row) for row in boundary["label"]) + 1
            cmap = ListedColormap([c + "66" for c in CLASS_COLOURS[: max(n, 2)]])
            ax.imshow(boundary["label"], origin="lower", extent=(x0, x1, y0, y1), cmap=cmap,
                      interpolation="nearest", vmin=0, vmax=max(n - 1, 1))  # fmt: skip
        else:
            image = ax.imshow(grid, origin="lower", extent=(x0, x1, y0, y1), cmap=BOUNDARY_MAP,
                              vmin=0.0, vmax=1.0, interpolation="bilinear")  # fmt: skip
            ax.contour(grid, levels=[0.5], colors=INK, linewidths=0.8,
                       extent=(x0, x1, y0, y1), origin="lower")  # fmt: skip
            fig.colorbar(image, ax=ax, shrink=0.8, label="P(class 1)")
        if points is not None:
            for label in sorted(set(points["y"])):
                xy = [p for p, y in zip(points["x"], points["y"], strict=True) if y == label]
                ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=16, linewidths=0.6,
                           color=CLASS_COLOURS[label % len(CLASS_COLOURS)], edgecolors="white",
                           label=f"class {label}")  # fmt: skip
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(title, loc="left")
    return _svg(fig)


def histograms_svg(record: dict[str, Any], field: str, title: str) -> bytes:
    """One panel per layer: the histogram of ``field`` recorded at this iteration."""
    layers = [layer for layer in record["layers"] if (layer.get(field) or {}).get("histogram")]
    hidden = layers[:-1] if len(layers) > 1 else layers  # the output layer is a different scale
    fig = _figure(2.2 * max(len(hidden), 1) + 0.4, 2.4)
    with matplotlib.rc_context(STYLE):
        axes = fig.subplots(1, max(len(hidden), 1), squeeze=False)[0]
        for ax, layer in zip(axes, hidden, strict=False):
            hist = layer[field]["histogram"]
            low, high = hist["range"]
            counts = hist["counts"]
            total = sum(counts) or 1
            width = (high - low) / len(counts)
            lefts = [low + i * width for i in range(len(counts))]
            ax.bar(lefts, [c / total for c in counts], width=width, align="edge", color=BLUE,
                   linewidth=0)  # fmt: skip
            ax.set_title(f"layer {layer['layer']} ({layer['units']} units)")
            ax.set_xlim(low, high)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_xlabel(field.replace("_", " "))
        axes[0].set_ylabel("fraction")
        fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return _svg(fig)
