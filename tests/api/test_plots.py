"""GET /v1/jobs/{id}/plots/{name}.svg: valid SVG drawn from a job's stored records, or a 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store.settings import Settings
from store.sync_store import JobStore
from worker.runner import run_job

UNKNOWN = "0123456789abcdef0123456789abcdef"
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


def trained(client: TestClient, store: JobStore, settings: Settings, **spec: Any) -> str:
    """A job submitted through the API and run to the end by the real runner, in-process."""
    response = client.post("/v1/jobs", json={**spec, "force": True})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert run_job(store, job_id, settings) == "succeeded"
    return job_id  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def playground(client: TestClient, store: JobStore, api_settings: Settings) -> str:
    return trained(client, store, api_settings, training={"iterations": 30})


@pytest.fixture(scope="module")
def mnist(client: TestClient, store: JobStore, api_settings: Settings) -> str:
    spec = {"preset": "mnist", "dataset": {"n_samples": 300}, "training": {"iterations": 3}}
    return trained(client, store, api_settings, **spec)


def svg(client: TestClient, path: str, **params: Any) -> ET.Element:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == SVG_ROOT
    return root


def text_of(root: ET.Element) -> str:
    return " ".join(t for t in root.itertext() if t.strip())


@pytest.mark.parametrize("name", ["cost", "boundary", "histograms"])
def test_a_2d_job_plots_are_valid_svg(client: TestClient, playground: str, name: str) -> None:
    root = svg(client, f"/v1/jobs/{playground}/plots/{name}.svg")
    assert "appropriate" in text_of(root)  # the title names the experiment


def test_boundary_and_histograms_at_an_earlier_iteration(
    client: TestClient, playground: str
) -> None:
    assert "iteration 10" in text_of(svg(client, f"/v1/jobs/{playground}/plots/boundary.svg",
                                         iteration=10))  # fmt: skip
    root = svg(client, f"/v1/jobs/{playground}/plots/histograms.svg", iteration=15,
               field="activation_grads")  # fmt: skip
    assert "iteration 10" in text_of(root)  # histograms are due every 10: the last before 15


def test_an_mnist_job_plots_cost_and_histograms_but_no_boundary(
    client: TestClient, mnist: str
) -> None:
    svg(client, f"/v1/jobs/{mnist}/plots/cost.svg")
    assert "layer 4" in text_of(svg(client, f"/v1/jobs/{mnist}/plots/histograms.svg"))
    response = client.get(f"/v1/jobs/{mnist}/plots/boundary.svg")
    assert response.status_code == 404 and "boundary" in response.json()["detail"]


def test_an_unknown_plot_is_a_422_naming_the_known(client: TestClient, playground: str) -> None:
    response = client.get(f"/v1/jobs/{playground}/plots/nope.svg")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "name"] and "'histograms'" in error["msg"]
    assert "'decay'" in error["msg"] and "'spectrum'" in error["msg"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (f"/v1/jobs/{UNKNOWN}/plots/cost.svg", UNKNOWN),
        ("/v1/jobs/{job}/plots/histograms.svg?field=biases", "no histograms of biases"),
        ("/v1/jobs/{job}/plots/cost.svg?iteration=31", "up to iteration 30"),
    ],
)
def test_what_cannot_be_drawn_is_a_404_that_says_why(
    client: TestClient, playground: str, path: str, reason: str
) -> None:
    response = client.get(path.format(job=playground))
    assert response.status_code == 404
    assert reason in response.json()["detail"]


def test_a_job_with_no_record_yet_is_a_404(client: TestClient) -> None:
    response = client.post("/v1/jobs", json={"training": {"iterations": 5}, "force": True})
    response = client.get(f"/v1/jobs/{response.json()['id']}/plots/cost.svg")
    assert response.status_code == 404 and "no records yet" in response.json()["detail"]


def test_the_same_records_give_the_same_bytes(client: TestClient, playground: str) -> None:
    first = client.get(f"/v1/jobs/{playground}/plots/boundary.svg").content
    assert client.get(f"/v1/jobs/{playground}/plots/boundary.svg").content == first


def test_a_downsampled_cost_curve_still_ends_at_the_last_iteration(
    client: TestClient, store: JobStore, api_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.svg_plots

    spec = {"training": {"iterations": 4003}, "record": {"boundary": {"every": 0}}}
    job_id = trained(client, store, api_settings, **spec)  # 4004 records: every 3rd is kept
    drawn: list[list[int]] = []

    def capture(records: list[dict[str, Any]], title: str) -> bytes:
        drawn.append([r["iteration"] for r in records])
        return b'<svg xmlns="http://www.w3.org/2000/svg"/>'

    monkeypatch.setattr(api.svg_plots, "cost_svg", capture)
    assert client.get(f"/v1/jobs/{job_id}/plots/cost.svg").status_code == 200
    [iterations] = drawn
    assert iterations[:3] == [0, 3, 6] and iterations[-1] == 4003  # 4002 + 1: not on the grid
    assert len(iterations) == len(set(iterations)) <= 2000 + 1
