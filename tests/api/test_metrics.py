"""GET /v1/jobs/{id}/metrics: stored record bytes spliced into the page, equal to a parsed read."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.spec import resolve
from engine.train import Training
from store.codec import dumps, loads, record_fields
from store.keys import Keys
from store.packing import entry_json
from store.sync_store import JobStore

# iterations 0, 2, ..., 40: bulky keys on some records only (boundary every 10, histograms every 5)
SPEC = resolve(
    {
        "training": {"iterations": 40, "seed": 7},
        "record": {
            "every": 2,
            "boundary": {"every": 10, "resolution": 5},
            "histograms": {"every": 5},
        },
    }
)
STARTS, STOPS, EVERIES, LIMITS = (0, 3, 18), (None, 0, 21, 40), (1, 3, 7), (None, 1, 4)
FIELDS = (
    None,
    "cost",
    "iteration",
    "cost,layers",
    "epoch,boundary",
    "test_accuracy,train_accuracy",
)


@pytest.fixture(scope="module")
def job_id(store: JobStore) -> str:
    """A succeeded job with the records of a real (small) training run."""
    job_id = store.create(SPEC.model_dump(mode="json"), "metrics-test", 3600)
    job = store.start(job_id, max_deliveries=3)
    assert job is not None
    records = [(r["iteration"], dumps(r)) for r in Training(SPEC).run()]
    store.append(job, records, [])
    assert store.finish(job_id, "succeeded")
    return job_id


def expected_page(store: JobStore, job_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """The page computed the plain way: every stored record parsed, then filtered."""
    records = [loads(entry_json(fields)) for _, fields in store.redis.xrange(Keys(job_id).records)]
    start, stop, every = query["start"], query.get("stop"), query["every"]
    in_range = [
        r for r in records if r["iteration"] >= start and (stop is None or r["iteration"] <= stop)
    ]
    limit = query.get("limit") or 1000
    page, rest = in_range[: limit * every : every], in_range[limit * every :]
    if query.get("fields") is not None:
        keep = {*query["fields"].split(","), "iteration"}
        page = [{k: v for k, v in r.items() if k in keep} for r in page]
    next_start = rest[0]["iteration"] if rest else None
    return {"job_id": job_id, "status": "succeeded", "records": page, "next": next_start}


def test_every_query_combination_equals_a_parsed_read(
    client: TestClient, store: JobStore, job_id: str
) -> None:
    for start, stop, every, limit, fields in itertools.product(
        STARTS, STOPS, EVERIES, LIMITS, FIELDS
    ):
        if stop is not None and stop < start:
            continue
        query = {"start": start, "stop": stop, "every": every, "limit": limit, "fields": fields}
        query = {k: v for k, v in query.items() if v is not None}
        response = client.get(f"/v1/jobs/{job_id}/metrics", params=query)
        assert response.status_code == 200, (query, response.text)
        assert response.json() == expected_page(store, job_id, query), query


def test_pages_followed_by_next_give_every_record_once(
    client: TestClient, store: JobStore, job_id: str
) -> None:
    query: dict[str, Any] = {"limit": 4, "every": 2}
    seen = []
    while True:
        page = client.get(f"/v1/jobs/{job_id}/metrics", params=query).json()
        seen += [r["iteration"] for r in page["records"]]
        if page["next"] is None:
            break
        query["start"] = page["next"]
    assert seen == list(range(0, 41, 4))


def test_the_unfiltered_page_is_the_stored_bytes(
    client: TestClient, store: JobStore, job_id: str
) -> None:
    raw = [entry_json(fields) for _, fields in store.redis.xrange(Keys(job_id).records)]
    body = client.get(f"/v1/jobs/{job_id}/metrics").content
    assert b'"records":[' + b",".join(raw) + b"]" in body


@pytest.mark.parametrize(
    "record",
    [
        {"iteration": 1, "cost": 0.5, "layers": [{"layers": 1}], "boundary": {"p": [[0.5]]}},
        {"layers": [], "iteration": 2, "cost": 0.25},  # a scalar after a bulky key
        {"boundary": {"a": {"x": 1}}, "iteration": 3, "layers": [], "cost": 1.0},
        {"iteration": 4, "note": ',"layers":', "cost": None, "layers": []},  # inside a string
        {"iteration": 5, "nested": {"cost": 2.0, "layers": 1}, "cost": 3.0, "predictions": {}},
        {"iteration": 6},  # no cost at all
    ],
)
def test_record_fields_equals_parsing_the_whole_record(record: dict[str, Any]) -> None:
    raw = dumps(record)
    for keep in ({"iteration", "cost"}, {"iteration"}, {"iteration", "layers"}, {"nested"}):
        assert loads(record_fields(raw, keep)) == {k: v for k, v in record.items() if k in keep}
