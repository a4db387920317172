"""GET /v1/sweeps/{id}/plots/{heatmap,depth,spectra}.svg: a cell per grid point holding the
sweep's own numbers, theory's 6 xi_c where engine.meanfield puts it (read back through the
axes' ticks), a panel per variation, sweep-level caching, and 404/422 saying why."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.meanfield import signal_propagation
from store.settings import Settings
from store.sync_store import JobStore
from tests.api.svg_reading import (
    axis_map,
    group,
    ids_like,
    marker_points,
    path_points,
    placed_texts,
    svg,
    text_of,
    ticks,
)
from worker.runner import run_job

PLAYGROUND = {"base": {"preset": "playground", "training": {"iterations": 5}},
              "vary": {"init.method": ["zero", "too_small", "he_normal"],
                       "dataset.name": ["circle", "gauss"]}}  # fmt: skip
DEPTHS, WEIGHTS, BIAS = [2, 4], [0.5, 1.5, 4.0], 0.05
DEPTH = {"base": {"preset": "trainable_depth", "dataset": {"n_samples": 300},
                  "training": {"iterations": 10}, "init": {"bias_variance": BIAS}},
         "vary": {"model.hidden": [[8] * d for d in DEPTHS],
                  "init.weight_variance": WEIGHTS}}  # fmt: skip
ISOMETRY = {"base": {"preset": "dynamical_isometry", "model": {"hidden": [16] * 3}},
            "vary": {"init.distribution": ["normal", "orthogonal"],
                     "model.hidden": [[16] * 3, [16] * 5]}}  # fmt: skip


def run_sweep(client: TestClient, store: JobStore, settings: Settings, body: dict[str, Any],
              run: bool = True) -> dict[str, Any]:  # fmt: skip
    """A sweep submitted through the API, each job run to its end by the real runner."""
    response = client.post("/v1/sweeps", json={**body, "force": True})
    assert response.status_code == 202, response.text
    sweep = response.json()
    for variation in sweep["variations"] if run else []:
        assert run_job(store, variation["job_id"], settings) == "succeeded"
    return client.get(f"/v1/sweeps/{sweep['id']}").json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def playground(client: TestClient, store: JobStore, api_settings: Settings) -> dict[str, Any]:
    return run_sweep(client, store, api_settings, PLAYGROUND)


@pytest.fixture(scope="module")
def depth(client: TestClient, store: JobStore, api_settings: Settings) -> dict[str, Any]:
    return run_sweep(client, store, api_settings, DEPTH)


def test_the_heat_map_has_a_cell_per_grid_point_printing_its_final_cost(
    client: TestClient, playground: dict[str, Any]
) -> None:
    root = svg(client, f"/v1/sweeps/{playground['id']}/plots/heatmap.svg")
    cells = list(group(root, "cells"))
    assert len(cells) == 3 * 2
    # each cell's number sits at its column's and row's ticks
    axes = group(root, "map")
    columns, rows = ticks(axes, "x"), ticks(axes, "y")
    drawn = {}
    for number, x, y in placed_texts(root, r"value_\d+_\d+"):
        column = min(columns, key=lambda label: abs(columns[label] - x))
        row = min(rows, key=lambda label: abs(rows[label] - y))
        drawn[row, column] = number
    expected = {(v["values"]["init.method"], v["values"]["dataset.name"]): f"{v['final_cost']:.3g}"
                for v in playground["variations"]}  # fmt: skip
    assert drawn == expected
    text = text_of(root)
    # rows along the first varied field, columns along the second; their values as ticks
    assert all(name in text for name in ["zero", "too_small", "he_normal", "circle", "gauss"])
    assert "init.method" in text and "dataset.name" in text and "final cost" in text


def test_the_heat_map_shows_the_chosen_metric(
    client: TestClient, playground: dict[str, Any]
) -> None:
    root = svg(client, f"/v1/sweeps/{playground['id']}/plots/heatmap.svg",
               metric="train_accuracy")  # fmt: skip
    text = text_of(root)
    for variation in playground["variations"]:
        assert f"{variation['summary']['train_accuracy']:.3g}" in text
    assert "train accuracy" in text


def test_the_depth_map_has_a_cell_per_run_under_theorys_6_xi_c(
    client: TestClient, depth: dict[str, Any]
) -> None:
    root = svg(client, f"/v1/sweeps/{depth['id']}/plots/depth.svg")
    assert len(list(group(root, "cells"))) == len(DEPTHS) * len(WEIGHTS)
    axes = group(root, "map")
    to_sw, to_depth = axis_map(axes, "x"), axis_map(axes, "y")
    # s_w read back a hair below 0 at the axis's left end is 0
    points = [(max(to_sw(x), 0.0), to_depth(y)) for x, y in marker_points(group(root, "curve"))]
    assert len(points) == 60
    top = 1.3 * max(DEPTHS)  # the depth axis's end: a longer 6 xi_c is drawn there
    for sw, drawn in points:
        expected = 6 * signal_propagation("tanh", sw, BIAS).xi_c
        assert drawn == pytest.approx(min(expected, top), abs=0.01 * top)
    # the curve spans the cells: from the first cell's left edge to the last's right edge
    assert points[0][0] == pytest.approx(0.5 - 1.0 / 2, abs=0.01)
    assert points[-1][0] == pytest.approx(4.0 + 2.5 / 2, abs=0.01)
    # at the critical s_w (1.76 at s_b 0.05) xi_c diverges: the curve reaches the top there
    assert max(d for _, d in points) == pytest.approx(top, abs=0.01 * top)
    text = text_of(root)
    assert "depth L" in text and "weight variance" in text and "test accuracy" in text


def test_the_spectra_have_a_panel_per_variation_with_a_bar_per_bin(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    sweep = run_sweep(client, store, api_settings, ISOMETRY)
    root = svg(client, f"/v1/sweeps/{sweep['id']}/plots/spectra.svg")
    for k in range(4):
        assert len(ids_like(root, rf"bar{k}_\d+")) == 40  # the preset's bins
    assert not ids_like(root, r"bar4_\d+")
    # a row per distribution, a column per depth: panel 2 sits under panel 0, 1 beside it
    corner = {k: min(path_points(group(root, f"bar{k}_0"))) for k in range(4)}
    assert corner[2][0] == pytest.approx(corner[0][0], abs=0.5) and corner[2][1] > corner[0][1]
    assert corner[1][0] > corner[0][0] + 50 and corner[1][1] == pytest.approx(corner[0][1], abs=20)
    text = text_of(root)
    assert "normal, 3 x 16" in text and "orthogonal, 5 x 16" in text


def test_a_sweep_plot_is_cached_only_once_every_job_has_ended(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    sweep = run_sweep(client, store, api_settings, PLAYGROUND, run=False)
    path = f"/v1/sweeps/{sweep['id']}/plots/heatmap.svg"
    waiting = client.get(path)
    assert waiting.status_code == 200 and waiting.headers["cache-control"] == "no-cache"
    assert "etag" not in waiting.headers and "n/a" in text_of(svg(client, path))
    for variation in sweep["variations"]:
        run_job(store, variation["job_id"], api_settings)
    done = client.get(path)
    assert "immutable" in done.headers["cache-control"]
    assert client.get(path, headers={"If-None-Match": done.headers["etag"]}).status_code == 304
    other = client.get(path, params={"metric": "train_accuracy"},
                       headers={"If-None-Match": done.headers["etag"]})  # fmt: skip
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("body", "name", "reason"),
    [
        ({"base": {"preset": "playground"}, "vary": {"init.method": ["zero", "he_normal"]}},
         "heatmap", "needs exactly two"),
        (PLAYGROUND, "depth", "does not vary exactly model.hidden and init.weight_variance"),
        (PLAYGROUND, "spectra", "recorded no Jacobian spectrum"),
    ],
)  # fmt: skip
def test_a_sweep_that_cannot_give_the_figure_is_a_404_saying_why(
    client: TestClient, store: JobStore, api_settings: Settings, body: dict[str, Any],
    name: str, reason: str,
) -> None:  # fmt: skip
    sweep = run_sweep(client, store, api_settings, body, run=False)
    response = client.get(f"/v1/sweeps/{sweep['id']}/plots/{name}.svg")
    assert response.status_code == 404 and reason in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/v1/sweeps/{id}/plots/contour.svg", ["path", "name"]),
        ("/v1/sweeps/{id}/plots/heatmap.svg?metric=loss", ["query", "metric"]),
        ("/v1/sweeps/not-an-id/plots/heatmap.svg", ["path", "sweep_id"]),
    ],
)
def test_bad_names_are_a_422_naming_the_field(
    client: TestClient, playground: dict[str, Any], path: str, loc: list[str]
) -> None:
    response = client.get(path.format(id=playground["id"]))
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


def test_an_unknown_sweep_is_a_404(client: TestClient) -> None:
    response = client.get(f"/v1/sweeps/{'0' * 32}/plots/heatmap.svg")
    assert response.status_code == 404 and "not found" in response.json()["detail"]
