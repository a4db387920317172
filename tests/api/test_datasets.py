"""Datasets for frontends: MNIST pixels by index and 2D previews (the data jobs train on)."""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine.mnist import load_mnist
from engine.spec import resolve
from engine.train import Training
from tests.api.errors import detail, locs
from tests.e2e.job_helpers import submit, wait_for


def test_images_are_the_uint8_pixels_of_the_split_in_the_asked_order(client: TestClient) -> None:
    response = client.get("/v1/datasets/mnist/images", params={"indices": "9999, 0,7"})
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    body = response.json()
    assert body["split"] == "test" and body["indices"] == [9999, 0, 7]
    assert body["shape"] == [28, 28] and body["dtype"] == "uint8"
    pixels = np.frombuffer(base64.b64decode(body["pixels"]), dtype=np.uint8)
    images, labels = load_mnist("test")
    assert np.array_equal(pixels.reshape(3, 28, 28), images[[9999, 0, 7]])
    assert body["labels"] == labels[[9999, 0, 7]].tolist()


def test_images_of_the_training_split_reach_its_last_index(client: TestClient) -> None:
    body = client.get("/v1/datasets/mnist/images?indices=59999&split=train").json()
    images, _ = load_mnist("train")
    assert base64.b64decode(body["pixels"]) == images[59999].tobytes()


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("indices=1,x", "'x' is not an image index"),
        ("indices=--5", "'--5' is not an image index"),
        ("indices=%C2%B2", "'²' is not an image index"),  # a digit to str.isdigit, not to int
        ("indices=100000000000000000000", "is not an image index"),  # past uint64
        ("indices=1" + "0" * 5000, "is not an image index"),  # past int()'s digit limit
        ("indices=10000", "outside 0..9999"),
        ("indices=999999999", "outside 0..9999"),
        ("indices=-1", "outside 0..9999"),
        ("indices=,", "give image indices"),
        ("indices=" + ",".join(["0"] * 1001), "at most 1000"),
    ],
)
def test_bad_image_indices_are_a_422(client: TestClient, query: str, reason: str) -> None:
    [error] = detail(client.get(f"/v1/datasets/mnist/images?{query}"))
    assert error["loc"] == ["query", "indices"] and reason in error["msg"]


def test_a_bad_split_or_no_indices_is_a_422(client: TestClient) -> None:
    assert client.get("/v1/datasets/mnist/images?indices=1&split=val").status_code == 422
    assert client.get("/v1/datasets/mnist/images").status_code == 422


def test_a_preview_is_the_data_a_job_of_the_same_fields_trains_on(client: TestClient) -> None:
    query = {"n_samples": 40, "noise": 0.3, "seed": 5, "test_fraction": 0.25}
    body = client.get("/v1/datasets/moon", params=query).json()
    assert len(body["train"]["x"]) == 30 and len(body["test"]["y"]) == 10
    spec = resolve({"dataset": {"name": "moon", **query}, "training": {"iterations": 0}})
    assert body == Training(spec).dataset_payload()
    wide = client.get("/v1/datasets/moon", params={**query, "dtype": "float64"}).json()
    assert wide["train"]["x"] != body["train"]["x"] and wide["train"]["y"] == body["train"]["y"]


def test_the_default_preview_is_the_playground_circle(client: TestClient) -> None:
    body = client.get("/v1/datasets/circle").json()
    assert len(body["train"]["x"]) == 100 and body["test"] == {"x": [], "y": []}
    assert sorted(set(body["train"]["y"])) == [0, 1] and sum(body["train"]["y"]) == 50


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("mnist", ["path", "name"]),
        ("circle?n_samples=1", ["query", "n_samples"]),
        ("circle?n_samples=20000", ["query", "n_samples"]),
        ("circle?noise=-1", ["query", "noise"]),
        ("circle?test_fraction=0.95", ["query", "test_fraction"]),
        ("circle?n_samples=2&test_fraction=0.9", ["query", "test_fraction"]),
        ("circle?seed=x", ["query", "seed"]),
    ],
)
def test_bad_preview_parameters_are_a_422(client: TestClient, path: str, loc: list[str]) -> None:
    assert locs(client.get(f"/v1/datasets/{path}")) == [loc]


def test_an_unknown_dataset_is_a_422_naming_the_known(client: TestClient) -> None:
    response = client.get("/v1/datasets/nope")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "name"] and "circle" in error["msg"]


@pytest.mark.e2e
def test_a_job_trains_on_the_previewed_points(api_client: httpx.Client) -> None:
    fields = {"n_samples": 60, "noise": 0.5, "seed": 3}
    body = {"dataset": {"name": "square", **fields}, "training": {"iterations": 0}, "force": True}
    job = submit(api_client, body)
    assert wait_for(api_client, job["id"])["status"] == "succeeded"
    preview = api_client.get("/v1/datasets/square", params=fields)
    assert preview.json() == api_client.get(job["links"]["dataset"]).json()
