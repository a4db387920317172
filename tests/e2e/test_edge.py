"""The edge-of-chaos section in a real browser: the phase diagram with its critical line, a
click that runs a deep random network there, and the diagram's embed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import attr, open_page, traces, wait_until

pytestmark = pytest.mark.e2e


def test_the_phase_diagram_runs_the_clicked_point(page: Any, shoot: Any) -> None:
    open_page(page, "/#edge")
    wait_until(lambda: attr(page, "#ec-phase", "data-cells") == "1600", timeout=120)
    heat, line = traces(page, "#ec-phase")
    assert heat["type"] == "heatmap" and line["name"] == "critical line"
    # tanh without biases turns critical at s_w = 1, and the line bends right as s_b grows
    assert line["y"][0] == 0 and line["x"][0] == pytest.approx(1.0, abs=1e-6)
    assert line["x"][-1] > 2.0
    box = page.locator("#ec-phase .nsewdrag").bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.5 * box["height"])
    wait_until(lambda: attr(page, "#edge", "data-point"), timeout=180)
    assert attr(page, "#ec-decay", "data-layers") == "30"
    assert attr(page, "#ec-spectrum", "data-bins") == "30"
    numbers = page.text_content("#ec-numbers") or ""
    assert "chaotic" in numbers  # s_w near 3.6, well right of the line
    theory, measured = traces(page, "#ec-decay")
    assert len(measured["y"]) == 30
    # deep in the network the measured correlation sits near theory's
    assert abs(measured["y"][-1] - theory["y"][-1]) < 0.1
    assert "ec_act" not in page.url  # the default activation stays out of the URL
    for view in ("decay", "spectrum"):  # the clicked point's figures as SVG and embed
        assert page.is_visible(f"#ec-{view}-svg")
        href = page.get_attribute(f"#ec-{view}-svg", "href") or ""
        assert href.endswith(f"/plots/{view}.svg")
        assert page.request.get(href).headers["content-type"] == "image/svg+xml"
        embed = page.get_attribute(f"#ec-{view}-embed", "href") or ""
        assert embed.startswith(f"/embed/{view}?job=")
    shoot(page.locator("#edge"), "edge-of-chaos")


def test_the_phase_diagram_embeds_for_any_activation(page: Any, shoot: Any) -> None:
    page.goto("/embed/phase?activation=relu")
    wait_until(lambda: attr(page, "body", "data-ready") == "true", timeout=120)
    assert "relu" in (page.text_content("#embed-title") or "")
    _, line = traces(page, "#embed .chart")
    # relu's critical line is s_w = 2 at every bias variance
    assert line["x"] == pytest.approx([2.0] * len(line["x"]), rel=1e-6)
    shoot(page, "embed-phase")


def test_the_trainable_depth_grid_is_a_heat_map_under_6_xi_c(page: Any, shoot: Any) -> None:
    open_page(page, "/#edge")
    page.click("#td-run")
    wait_until(lambda: attr(page, "#td-map", "data-done") == "30", timeout=900)
    script = "(d) => ({z: d.data[0].z, y: d.data[0].y, x: d.data[0].x, curve: d.data[1].name})"
    grid = page.eval_on_selector("#td-map", script)
    assert grid["y"] == [5, 10, 20, 40, 60] and len(grid["x"]) == 6
    assert grid["curve"] == "6 ξ_c"
    accuracy = {(d, w): grid["z"][i][j] for i, d in enumerate(grid["y"])
                for j, w in enumerate(grid["x"])}  # fmt: skip
    # bench/trainable_depth.py: shallow near the line trains, deep far from it stays at chance
    assert accuracy[5, 1.5] > 0.6 and accuracy[60, 0.5] < 0.2
    svg = page.request.get(page.get_attribute("#td-svg", "href") or "")
    assert svg.ok and "6 xi_c" in svg.text() and svg.text().count("<path") > 30
    assert (page.get_attribute("#td-embed", "href") or "").startswith("/embed/depth?sweep=")
    shoot(page.locator("#td-map"), "trainable-depth")
