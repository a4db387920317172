"""A sweep's side-by-side view: ranking, per-variation results, status, and how it reads
Redis (a listing's sweeps together; an ended job's records once per API process)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.services.sweeps import sweep_status
from store.async_sweeps import cost_of
from store.codec import dumps
from store.keys import Keys
from store.sync_store import JobStore
from tests.api.sweep_helpers import LAYERS, PLAYGROUND, create, finish, traffic


def test_the_view_ranks_and_reports_each_variation(client: TestClient, store: JobStore) -> None:
    body = {
        "base": {"training": {"iterations": 2}},
        "vary": {"init.seed": [11, 12, 13]},
        "target_cost": 0.1,
    }
    sweep = create(client, body)
    slow, fast, failed = (v["job_id"] for v in sweep["variations"])
    finish(store, slow, [0.7, 0.5, 0.2], "succeeded")
    finish(store, fast, [0.7, 0.09, 0.05], "succeeded")
    assert client.get(f"/v1/sweeps/{sweep['id']}").json()["status"] == "running"
    finish(store, failed, [0.7, None], "failed")
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "mixed" and view["ranking"] == [fast, slow, failed]
    by_job = {v["job_id"]: v for v in view["variations"]}
    assert by_job[fast]["iterations_to_target"] == 1 and by_job[fast]["final_cost"] == 0.05
    assert by_job[slow]["iterations_to_target"] is None and by_job[slow]["final_cost"] == 0.2
    assert by_job[failed]["final_cost"] is None and by_job[failed]["status"] == "failed"
    assert all(v["init_activation_std"] == [1.0, 0.5] for v in view["variations"])
    assert client.get(f"/v1/sweeps/{sweep['id']}").json() == view  # cached results agree

    again = create(client, body)  # every spec has run: succeeded ones are reused at once
    statuses = [v["status"] for v in again["variations"]]
    assert statuses == ["succeeded", "succeeded", "queued"]
    reused = client.get(f"/v1/jobs/{again['variations'][1]['job_id']}").json()
    assert reused["reused_from"] == fast and again["ranking"][0] == reused["id"]
    client.delete(f"/v1/jobs/{fast}")  # its cached results go with it
    gone = {v["job_id"]: v for v in client.get(f"/v1/sweeps/{sweep['id']}").json()["variations"]}
    assert gone[fast]["status"] == "deleted" and gone[fast]["iterations_to_target"] is None
    assert gone[fast]["init_activation_std"] is None and gone[fast]["final_cost"] is None


def test_a_deleted_job_shows_as_deleted(client: TestClient) -> None:
    sweep = create(client, {**PLAYGROUND, "force": True})
    client.delete(f"/v1/jobs/{sweep['variations'][0]['job_id']}")
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert [v["status"] for v in view["variations"]] == ["deleted", "queued"]


def test_a_listing_reads_its_sweeps_together(
    client: TestClient, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweeps = []
    for seeds in ([31, 32], [33], [34, 35, 36]):
        sweep = create(client, {"vary": {"init.seed": seeds}, "force": True})
        for k, variation in enumerate(sweep["variations"]):
            finish(store, variation["job_id"], [0.7, 0.3 / (k + 1)], "succeeded")
        sweeps.append(sweep["id"])
        time.sleep(0.002)
    listed = client.get("/v1/sweeps?limit=3").json()["data"]
    assert [s["id"] for s in listed] == sweeps[::-1]
    assert listed == [client.get(f"/v1/sweeps/{sweep_id}").json() for sweep_id in sweeps[::-1]]
    assert [len(s["variations"]) for s in listed] == [3, 1, 2]
    assert all(v["init_activation_std"] == [1.0, 0.5] for s in listed for v in s["variations"])
    cold = []
    for limit in (1, 3):  # with nothing remembered: every job's records are read
        forget_everything(client)
        cold.append(traffic(client, f"/v1/sweeps?limit={limit}", monkeypatch))
    one, three = cold
    assert three.commands["XRANGE"] == 2 * 6 and one.commands["XRANGE"] == 2 * 3  # two a job
    assert three.round_trips == one.round_trips  # not one per sweep


def forget_everything(client: TestClient) -> None:
    client.app.state.sweep_results.clear()  # type: ignore[attr-defined]


def test_a_finished_sweep_is_read_from_its_jobs_records_once(
    client: TestClient, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = create(client, {"vary": {"init.seed": [41, 42, 43]}, "force": True, "target_cost": 0.2})
    ended, also_ended, running = (v["job_id"] for v in sweep["variations"])
    finish(store, ended, [0.7, 0.3, 0.1], "succeeded")
    finish(store, also_ended, [0.7, None], "failed")
    path = f"/v1/sweeps/{sweep['id']}"
    first = traffic(client, path, monkeypatch)
    assert first.commands["XRANGE"] == 3 + 2  # each job's first record, the ended ones' costs
    second = traffic(client, path, monkeypatch)
    assert second.commands["XRANGE"] == 1 and second.body == first.body  # the queued one's
    job = store.start(running, max_deliveries=3)  # now it runs: its record 0 is read each time
    assert job is not None
    store.append(
        job, [(0, dumps({"iteration": 0, "epoch": 0.0, "cost": 0.7, "layers": LAYERS}))], []
    )
    for _ in range(2):
        assert traffic(client, path, monkeypatch).commands["XRANGE"] == 1
    store.finish(running, "succeeded", summary={"final_cost": 0.7})
    ends = traffic(client, path, monkeypatch)
    assert ends.commands["XRANGE"] == 2  # its first record and its costs, once
    assert traffic(client, path, monkeypatch).commands["XRANGE"] == 0
    by_job = {v["job_id"]: v for v in ends.body["variations"]}
    assert by_job[ended]["iterations_to_target"] == 2 and by_job[running]["final_cost"] == 0.7
    assert by_job[also_ended]["init_activation_std"] == [1.0, 0.5]
    forget_everything(client)  # what was remembered is what the records say
    assert traffic(client, path, monkeypatch).body == ends.body


def test_a_deleted_variation_is_never_served_from_memory(
    client: TestClient, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = create(client, {"vary": {"init.seed": [51, 52]}, "force": True})
    gone, kept = (v["job_id"] for v in sweep["variations"])
    for job_id in (gone, kept):
        finish(store, job_id, [0.7, 0.05], "succeeded")
    path = f"/v1/sweeps/{sweep['id']}"
    remembered = traffic(client, path, monkeypatch).body
    assert all(v["iterations_to_target"] == 1 for v in remembered["variations"])
    remembering = len(client.app.state.sweep_results)  # type: ignore[attr-defined]
    store.redis.delete(*Keys(gone).data())  # as another API process would
    view = traffic(client, path, monkeypatch)
    assert view.commands["XRANGE"] == 0  # the kept one still from memory
    deleted, still = view.body["variations"]
    assert deleted["status"] == "deleted" and deleted["iterations_to_target"] is None
    assert deleted["init_activation_std"] is None and deleted["final_cost"] is None
    assert still == remembered["variations"][1]
    assert len(client.app.state.sweep_results) == remembering - 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["queued", "queued"], "queued"),
        (["queued", "succeeded"], "running"),
        (["running", "failed"], "running"),
        (["succeeded", "succeeded", "deleted"], "succeeded"),
        (["cancelled", "cancelled"], "cancelled"),
        (["succeeded", "failed"], "mixed"),
        (["deleted"], "cancelled"),
    ],
)
def test_the_sweep_status_aggregates_its_jobs(statuses: list[str], expected: str) -> None:
    assert sweep_status(statuses) == expected


def test_the_cost_is_read_from_a_record_without_parsing_it_all() -> None:
    assert cost_of(b'{"iteration":3,"epoch":0.5,"cost":0.25,"layers":[]}') == 0.25
    assert cost_of(b'{"iteration":3,"epoch":0.5,"cost":null}') is None
    assert cost_of(b'{"cost":1e-05,"iteration":3}') == 1e-05  # another order: parsed
