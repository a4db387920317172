"""A two-field sweep in a real browser: the sweep section's heat map of a chosen metric, each
variation's Jacobian spectrum, and the embeds of a job's signal section and of a sweep."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import attr, open_page, record_at, traces, wait_until
from tests.e2e.job_helpers import FINAL, submit, wait_for

pytestmark = pytest.mark.e2e


def sweep_done(http: httpx.Client, body: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    response = http.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + timeout
    while True:
        sweep = http.get(f"/v1/sweeps/{response.json()['id']}").json()
        if all(v["status"] in FINAL for v in sweep["variations"]):
            return sweep  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, "the sweep did not end"
        time.sleep(0.5)


def heat(page: Any, selector: str) -> dict[str, Any]:
    script = "(d) => ({x: d.data[0].x, y: d.data[0].y, z: d.data[0].z})"
    return page.eval_on_selector(selector, script)  # type: ignore[no-any-return]


def test_a_two_field_grid_is_a_heat_map_of_the_chosen_metric(
    page: Any, http: httpx.Client, shoot: Any
) -> None:
    open_page(page, "/?sw_p=edge_of_chaos#sweep")
    page.click("#sw-grid")  # the preset's own grid: 5 weight x 3 bias variances
    wait_until(lambda: attr(page, "#sweep", "data-done") == "true", timeout=240)
    sweep_id = page.url.split("sw=")[1].split("&")[0].split("#")[0]
    sweep = http.get(f"/v1/sweeps/{sweep_id}").json()
    assert attr(page, "#sw-heat", "data-cells") == "15"
    grid = heat(page, "#sw-heat")
    # rows along the first varied field (weight variance), columns along the second
    assert grid["y"] == ["1", "1.5", "2", "3", "4.5"] and grid["x"] == ["0", "0.05", "0.2"]
    for v in sweep["variations"]:
        row = grid["y"].index(f"{v['values']['init.weight_variance']:g}")
        column = grid["x"].index(f"{v['values']['init.bias_variance']:g}")
        assert grid["z"][row][column] == pytest.approx(v["final_cost"])
    page.select_option("#sw-metric", "xi_c")
    wait_until(lambda: attr(page, "#sw-heat", "data-metric") == "xi_c")
    grid = heat(page, "#sw-heat")
    for v in sweep["variations"]:
        row = grid["y"].index(f"{v['values']['init.weight_variance']:g}")
        column = grid["x"].index(f"{v['values']['init.bias_variance']:g}")
        measured = record_at(http, v["job_id"], 0)["signal"]["xi_c"]["measured"]
        assert grid["z"][row][column] == pytest.approx(measured)
    assert "sw_m=xi_c" in page.url
    # the same grid from the server, and every variation's spectrum
    svg = http.get(page.get_attribute("#sw-heat-svg", "href") or "")
    assert svg.status_code == 200 and "xi c" in svg.text
    assert attr(page, "#sw-spectra", "data-panels") == "15"
    assert page.locator("#sw-spectra .chart .main-svg").count() >= 15
    shoot(page.locator("#sweep"), "sweep-grid")


def test_a_one_field_sweep_shows_no_heat_map(page: Any) -> None:
    # initializers no other test sweeps nine_layers with: test_views's sweep must train live
    open_page(page, "/?sw_p=nine_layers&sw_i=lecun_uniform,orthogonal#sweep")
    page.click("#sw-grid")  # nine_layers' grid varies one field: refused, nothing submitted
    wait_until(lambda: "two fields" in (page.text_content("#sw-status") or ""))
    page.click("#sw-run")
    wait_until(lambda: attr(page, "#sweep", "data-done") == "true", timeout=240)
    assert page.locator("#sw-grid-panel").is_hidden()


@pytest.mark.parametrize(("view", "mark", "value"), [("decay", "layers", "30"),
                                                      ("spectrum", "bins", "30")])  # fmt: skip
def test_a_jobs_signal_section_embeds(
    page: Any, http: httpx.Client, shoot: Any, view: str, mark: str, value: str
) -> None:
    job = wait_for(http, submit(http, {"preset": "edge_of_chaos"})["id"])
    page.set_viewport_size({"width": 560, "height": 380})
    page.goto(f"/embed/{view}?job={job['id']}")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert attr(page, "#embed .chart", f"data-{mark}") == value
    if view == "decay":
        theory, measured = traces(page, "#embed .chart")
        layers = record_at(http, job["id"], 0)["signal"]["layers"]
        assert measured["y"] == pytest.approx([layer["c"] for layer in layers])
        assert theory["y"] == pytest.approx([layer["c_theory"] for layer in layers])
    shoot(page, f"embed-{view}")


def test_a_sweeps_views_embed(page: Any, http: httpx.Client, shoot: Any) -> None:
    depth = sweep_done(http, {
        "base": {"preset": "trainable_depth", "dataset": {"n_samples": 300},
                 "training": {"iterations": 10}},
        "vary": {"model.hidden": [[8] * 2, [8] * 4], "init.weight_variance": [0.5, 1.5, 4.0]},
    })  # fmt: skip
    page.goto(f"/embed/depth?sweep={depth['id']}")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    cells, curve = page.eval_on_selector("#embed .chart", "(d) => d.data")
    assert cells["y"] == [2, 4] and cells["x"] == [0.5, 1.5, 4.0] and curve["name"] == "6 ξ_c"
    shoot(page, "embed-depth")
    isometry = sweep_done(http, {
        "base": {"preset": "dynamical_isometry", "model": {"hidden": [16] * 3}},
        "vary": {"init.distribution": ["normal", "orthogonal"],
                 "model.hidden": [[16] * 3, [16] * 5]},
    })  # fmt: skip
    page.goto(f"/embed/spectra?sweep={isometry['id']}")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert attr(page, "#embed .spectra", "data-panels") == "4"
    assert page.locator("#embed .spectra figcaption").first.text_content() == "normal, 3 x 16"
    page.goto(f"/embed/heatmap?sweep={isometry['id']}&metric=final_cost")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert attr(page, "#embed .chart", "data-cells") == "4"
