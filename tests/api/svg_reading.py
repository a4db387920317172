"""Reading matplotlib's SVG back into data: a group by its id, the points of a marked line, and
an axis's pixel -> value map fitted to its own tick marks and labels (so a test checks what is
drawn where, not what the code meant to draw)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

NS = "{http://www.w3.org/2000/svg}"


def svg(client: TestClient, path: str, **params: Any) -> ET.Element:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}svg"
    return root


def text_of(root: ET.Element) -> str:
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def group(root: ET.Element, gid: str) -> ET.Element:
    [found] = [g for g in root.iter(f"{NS}g") if g.get("id") == gid]
    return found


def ids_like(root: ET.Element, pattern: str) -> list[str]:
    """Every SVG id matching ``pattern`` (a regular expression), in document order."""
    return [g.get("id", "") for g in root.iter() if re.fullmatch(pattern, g.get("id", ""))]


def marker_points(line: ET.Element) -> list[tuple[float, float]]:
    """The (x, y) pixel positions of a line's markers (one ``<use>`` per data point)."""
    return [(float(u.get("x", "nan")), float(u.get("y", "nan"))) for u in line.iter(f"{NS}use")]


def path_points(line: ET.Element) -> list[tuple[float, float]]:
    """The vertices of a line drawn as one ``<path>`` (M x y L x y ...)."""
    [path] = line.iter(f"{NS}path")
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def axis_map(axes: ET.Element, axis: str) -> Callable[[float], float]:
    """pixel -> value along ``axis`` ("x" or "y") of the axes group, fitted (linearly) to its
    tick marks' positions and their numeric labels; at least two ticks, on one line."""
    pixels, values = [], []
    for tick in axes.iter(f"{NS}g"):
        if not re.fullmatch(f"{axis}tick_\\d+", tick.get("id", "")):
            continue
        label = "".join(text_of(t) for t in tick.iter(f"{NS}text")).replace("\u2212", "-")
        [mark, *_] = tick.iter(f"{NS}use")
        pixels.append(float(mark.get(axis, "nan")))
        values.append(float(label))
    assert len(pixels) >= 2, f"fewer than two {axis} ticks"
    slope, offset = np.polyfit(pixels, values, 1)
    residual = np.abs(np.polyval([slope, offset], pixels) - values).max()
    assert residual < 1e-3 * (max(values) - min(values)), "ticks not on one linear scale"
    return lambda pixel: float(slope * pixel + offset)


def ticks(axes: ET.Element, axis: str) -> dict[str, float]:
    """label -> pixel position of each tick of ``axis`` of the axes group."""
    found = {}
    for tick in axes.iter(f"{NS}g"):
        if re.fullmatch(f"{axis}tick_\\d+", tick.get("id", "")):
            [mark, *_] = tick.iter(f"{NS}use")
            found[text_of(tick)] = float(mark.get(axis, "nan"))
    return found


def placed_texts(root: ET.Element, pattern: str) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text whose group's id matches ``pattern``."""
    out = []
    for gid in ids_like(root, pattern):
        [t] = group(root, gid).iter(f"{NS}text")
        out.append((text_of(t), float(t.get("x", "nan")), float(t.get("y", "nan"))))
    return out
