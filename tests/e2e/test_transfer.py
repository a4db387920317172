"""Small transfers over real HTTP (issue 9 item 2): compressed answers, the compact encoding,
ETags and 304s of a finished job's resources, on the real API and worker."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from typing import Any

import brotli
import httpx
import numpy as np
import orjson
import pytest
import zstandard

from api.compact import unpack
from tests.e2e.job_helpers import long_spec, submit, wait_for, wait_for_records

DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda raw: zstandard.ZstdDecompressor().decompressobj().decompress(raw),
}
PLAY = {"preset": "playground", "training": {"iterations": 60}, "force": True}


@pytest.fixture(scope="module")
def finished(api_url: str, celery_worker: Any) -> str:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        body = {**PLAY, "record": {"parameters": {"every": 30}}}
        job = submit(client, body)
        assert wait_for(client, job["id"])["status"] == "succeeded"
        return str(job["id"])


def raw_get(client: httpx.Client, url: str, coding: str, **headers: str) -> httpx.Response:
    """GET with ``Accept-Encoding: coding``, the body left as it came over the wire."""
    with client.stream("GET", url, headers={"Accept-Encoding": coding, **headers}) as response:
        response.raw_body = b"".join(response.iter_raw())  # type: ignore[attr-defined]
    return response


@pytest.mark.parametrize("coding", sorted(DECODERS))
@pytest.mark.parametrize("path", ["metrics", "dataset", "events"])  # parameters: < 1 kB here
def test_a_compressed_answer_decodes_to_exactly_the_plain_one(
    api_client: httpx.Client, finished: str, coding: str, path: str
) -> None:
    url = f"/v1/jobs/{finished}/{path}"
    plain = raw_get(api_client, url, "identity")
    packed = raw_get(api_client, url, coding)
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == coding
    assert "Accept-Encoding" in packed.headers["vary"]
    body, wire = plain.raw_body, packed.raw_body  # type: ignore[attr-defined]
    assert DECODERS[coding](wire) == body
    assert len(wire) < len(body) / (3 if path != "dataset" else 1.5)  # random floats: less


def test_the_compact_encoding_gives_the_json_numbers_to_float32(
    api_client: httpx.Client, finished: str
) -> None:
    url = f"/v1/jobs/{finished}/metrics"
    default = api_client.get(url).json()["records"]
    packed = api_client.get(url, params={"encoding": "compact"}).json()["records"]
    grids = 0
    for plain, compact in zip(default, packed, strict=True):
        assert plain["cost"] == compact["cost"]  # scalars stay JSON numbers
        if "boundary" in plain:
            p = np.array(plain["boundary"]["p"], dtype=float)  # null -> nan
            assert compact["boundary"]["p"]["dtype"] == "float32"
            np.testing.assert_array_equal(unpack(compact["boundary"]["p"]), p.astype(np.float32))
            grids += 1
    assert grids == 7  # iterations 0, 10, ..., 60
    params = f"/v1/jobs/{finished}/parameters"
    weights = api_client.get(params).json()["layers"][1]["weights"]  # 3 x 6
    packed_w = api_client.get(params, params={"encoding": "compact"}).json()["layers"][1]["weights"]
    np.testing.assert_array_equal(unpack(packed_w), np.array(weights, dtype=np.float32))
    size = len(orjson.dumps(packed))
    assert size < len(orjson.dumps(default)) / 2
    bad = api_client.get(url, params={"encoding": "binary"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "encoding"]


@pytest.mark.parametrize(
    "path",
    ["metrics", "metrics?every=10&fields=cost", "parameters", "dataset", "plots/cost.svg"],
)
def test_a_finished_jobs_resources_carry_an_etag_and_answer_304(
    api_client: httpx.Client, finished: str, path: str
) -> None:
    url = f"/v1/jobs/{finished}/{path}"
    first = api_client.get(url)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert "immutable" in first.headers["cache-control"]
    again = api_client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    other = api_client.get(url, headers={"If-None-Match": 'W/"another"'})
    assert other.status_code == 200 and other.content == first.content


def test_etags_differ_by_query_and_a_running_job_claims_nothing(
    api_client: httpx.Client, finished: str
) -> None:
    url = f"/v1/jobs/{finished}/metrics"
    assert api_client.get(url).headers["etag"] != api_client.get(f"{url}?every=2").headers["etag"]
    job = submit(api_client, long_spec(iterations=100_000, every=1000))
    try:
        wait_for(api_client, job["id"], {"running"})
        wait_for_records(api_client, job["id"])  # a plot needs a record to draw
        for path in ("metrics", "plots/cost.svg"):
            response = api_client.get(f"/v1/jobs/{job['id']}/{path}")
            assert response.status_code == 200
            assert "etag" not in response.headers
            assert response.headers["cache-control"] == "no-cache"
            star = api_client.get(f"/v1/jobs/{job['id']}/{path}", headers={"If-None-Match": "*"})
            assert star.status_code == 200
    finally:
        api_client.delete(f"/v1/jobs/{job['id']}")
