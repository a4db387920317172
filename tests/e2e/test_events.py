"""Server-Sent Events over a real uvicorn: order, status, end, resume."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.job_helpers import Event, long_spec, sse, submit, wait_for

pytestmark = [pytest.mark.e2e]

EXPECTED = list(range(0, 20_001, 100))


def record_ids(events: list[Event]) -> list[int]:
    return [int(e.id) for e in events if e.event == "record"]  # type: ignore[arg-type]


def test_the_stream_delivers_every_record_in_order_then_ends(api_client: httpx.Client) -> None:
    job = submit(api_client, long_spec(20_000, 100))
    events = list(sse(api_client, job["links"]["events"]))
    assert events[0].event == "status"
    assert record_ids(events) == EXPECTED
    records = [json.loads(e.data) for e in events if e.event == "record"]
    assert [r["iteration"] for r in records] == EXPECTED and "cost" in records[0]
    statuses = [json.loads(e.data)["status"] for e in events if e.event == "status"]
    assert statuses in (
        ["queued", "running", "succeeded"],
        ["running", "succeeded"],
        ["queued", "succeeded"],
        ["succeeded"],
    )
    assert events[-1].event == "end" and json.loads(events[-1].data) == {"status": "succeeded"}
    assert [e.event for e in events].count("end") == 1


def test_the_stream_resumes_after_last_event_id_without_gap_or_repeat(
    api_client: httpx.Client,
) -> None:
    job = submit(api_client, long_spec(20_000, 100))
    first: list[Event] = []
    for event in sse(api_client, job["links"]["events"]):  # leave mid-run
        first.append(event)
        if len(record_ids(first)) == 30:
            break
    last = record_ids(first)[-1]
    rest = list(sse(api_client, job["links"]["events"], {"Last-Event-ID": str(last)}))
    assert record_ids(first) + record_ids(rest) == EXPECTED
    assert rest[-1].event == "end"

    wait_for(api_client, job["id"])
    by_query = list(sse(api_client, f"{job['links']['events']}?last_event_id=19000"))
    assert record_ids(by_query) == [
        19_100,
        19_200,
        19_300,
        19_400,
        19_500,
        19_600,
        19_700,
        19_800,
        19_900,
        20_000,
    ]
    both = {"Last-Event-ID": "19900"}  # the header (a browser's reconnect) wins over the query
    assert record_ids(list(sse(api_client, f"{job['links']['events']}?last_event_id=0", both))) == [
        20_000
    ]


def test_a_finished_job_streams_its_records_and_ends_at_once(api_client: httpx.Client) -> None:
    job = submit(api_client, long_spec(500, 50))
    wait_for(api_client, job["id"])
    events = list(sse(api_client, job["links"]["events"]))
    assert [e.event for e in events] == ["status"] + ["record"] * 11 + ["end"]
