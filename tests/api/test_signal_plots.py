"""GET /v1/jobs/{id}/plots/{decay,spectrum}.svg: a job's signal section drawn where its numbers
say (read back through the axes' own ticks), cached once finished, a 404 without the section."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from store.settings import Settings
from store.sync_store import JobStore
from tests.api.svg_reading import (
    axis_map,
    group,
    ids_like,
    marker_points,
    path_points,
    svg,
    text_of,
)
from tests.api.test_plots import trained

LAYERS = 8
EDGE = {"preset": "edge_of_chaos", "model": {"hidden": [64] * LAYERS},
        "init": {"weight_variance": 3.0, "bias_variance": 0.05}}  # fmt: skip


@pytest.fixture(scope="module")
def edge(client: TestClient, store: JobStore, api_settings: Settings) -> str:
    return trained(client, store, api_settings, **EDGE)


def signal_of(client: TestClient, job_id: str) -> dict[str, Any]:
    [record] = client.get(f"/v1/jobs/{job_id}/metrics", params={"stop": 0}).json()["records"]
    return record["signal"]  # type: ignore[no-any-return]


def test_the_decay_draws_each_layers_measured_and_theory_correlation(
    client: TestClient, edge: str
) -> None:
    signal = signal_of(client, edge)
    root = svg(client, f"/v1/jobs/{edge}/plots/decay.svg")
    plot = group(root, "plot")
    to_x, to_y = axis_map(plot, "x"), axis_map(plot, "y")
    measured = [(to_x(x), to_y(y)) for x, y in marker_points(group(root, "measured"))]
    theory = [(to_x(x), to_y(y)) for x, y in path_points(group(root, "theory"))]
    layers = signal["layers"]
    assert len(measured) == len(theory) == LAYERS
    for (x, c), (xt, ct), layer in zip(measured, theory, layers, strict=True):
        assert x == pytest.approx(layer["layer"], abs=0.02)
        assert xt == pytest.approx(layer["layer"], abs=0.02)
        assert c == pytest.approx(layer["c"], abs=0.005)
        assert ct == pytest.approx(layer["c_theory"], abs=0.005)
    text = text_of(root)
    assert "layer" in text and "correlation c_l" in text
    assert f"xi_c fitted {signal['xi_c']['measured']:.3g}" in text


def test_the_spectrum_has_a_bar_per_bin_tallest_where_the_counts_are(
    client: TestClient, edge: str
) -> None:
    jacobian = signal_of(client, edge)["jacobian"]
    counts = jacobian["histogram"]["counts"]
    root = svg(client, f"/v1/jobs/{edge}/plots/spectrum.svg")
    bars = ids_like(root, r"bar_\d+")
    assert len(bars) == len(counts) == 30  # the preset's bins
    heights = []
    for gid in bars:  # each bar is a closed rectangle: its height is the span of its ys
        ys = [y for _, y in path_points(group(root, gid))]
        heights.append(max(ys) - min(ys))
    tallest = max(counts)
    for height, count in zip(heights, counts, strict=True):
        assert height / max(heights) == pytest.approx(count / tallest, abs=0.01)
    text = text_of(root)
    assert "singular value" in text and f"mean square {jacobian['mean_squared']:.3g}" in text


def test_a_finished_jobs_signal_plots_are_cached_and_revalidated(
    client: TestClient, edge: str
) -> None:
    first = client.get(f"/v1/jobs/{edge}/plots/spectrum.svg")
    assert "immutable" in first.headers["cache-control"] and first.headers["etag"]
    again = client.get(f"/v1/jobs/{edge}/plots/spectrum.svg",
                       headers={"If-None-Match": first.headers["etag"]})  # fmt: skip
    assert again.status_code == 304
    other = client.get(f"/v1/jobs/{edge}/plots/decay.svg",
                       headers={"If-None-Match": first.headers["etag"]})  # fmt: skip
    assert other.status_code == 200  # another plot of the job is another answer


def test_a_job_without_the_signal_section_is_a_404_saying_so(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    plain = trained(client, store, api_settings, training={"iterations": 2})
    for name in ("decay", "spectrum"):
        response = client.get(f"/v1/jobs/{plain}/plots/{name}.svg")
        assert response.status_code == 404
        assert "records no signal section" in response.json()["detail"]


def test_one_hidden_layer_has_a_decay_but_no_spectrum(
    client: TestClient, store: JobStore, api_settings: Settings
) -> None:
    shallow = trained(client, store, api_settings, **{**EDGE, "model": {"hidden": [64]}})
    assert client.get(f"/v1/jobs/{shallow}/plots/decay.svg").status_code == 200
    response = client.get(f"/v1/jobs/{shallow}/plots/spectrum.svg")
    assert response.status_code == 404 and "no Jacobian spectrum" in response.json()["detail"]


def test_the_plot_names_are_an_enum_naming_the_new_ones(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    [name] = [p for p in schema["paths"]["/v1/jobs/{job_id}/plots/{name}.svg"]["get"]
              ["parameters"] if p["name"] == "name"]  # fmt: skip
    assert {"decay", "spectrum"} <= set(name["schema"]["enum"])
