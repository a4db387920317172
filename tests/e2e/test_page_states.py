"""The page shows only what is true while settings change, jobs vanish and requests fail.

Browser errors fail every test here (the `page` fixture), so a crash on the way counts too.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import attr, open_page, wait_until
from tests.e2e.job_helpers import long_spec, submit, wait_for, wait_for_records

pytestmark = pytest.mark.e2e

START_PLAYER = """async ([id, job]) => {
    const { Player } = await import('/static/js/player.js');
    window.player = new Player({ render() {}, onChange() {} });
    window.player.load(job || await (await fetch(`/v1/jobs/${id}`)).json(), []);
    window.player.open();
}"""


def job_submissions(route: Any, held: list[Any]) -> None:
    if route.request.method == "POST":
        held.append(route)
    else:
        route.continue_()


def mnist_cells_coloured(page: Any) -> int:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        "#mn-grid .cell.ok, #mn-grid .cell.bad", "(cells) => cells.length"
    )


def test_changing_an_mnist_setting_mid_run_clears_the_old_run(
    page: Any, http: httpx.Client
) -> None:
    open_page(page, "/?m_n=500#mnist")
    page.click("#mn-play")
    wait_until(lambda: attr(page, "#mn-grid", "data-iteration") is not None)
    old_job = attr(page, "#mnist", "data-job")
    assert mnist_cells_coloured(page) == 100

    page.select_option("#mn-init", "standard_normal")
    assert attr(page, "#mn-grid", "data-iteration") is None
    assert attr(page, "#mnist", "data-job") is None
    assert mnist_cells_coloured(page) == 0 and page.text_content("#mn-wrong") == "\u2013/100"
    assert "Press play" in (page.text_content("#mn-status") or "")
    page.click("#mn-reset")  # nothing left to reset to; it used to throw here

    page.click("#mn-play")
    wait_until(lambda: attr(page, "#mnist", "data-job") not in (None, old_job))
    new_job = http.get(f"/v1/jobs/{attr(page, '#mnist', 'data-job')}").json()
    assert new_job["spec"]["init"]["method"] == "standard_normal"


def test_an_mnist_job_submitted_before_a_setting_changed_is_not_adopted(page: Any) -> None:
    open_page(page, "/?m_n=500#mnist")
    held: list[Any] = []
    page.route("**/v1/jobs", lambda route: job_submissions(route, held))
    page.click("#mn-play")
    wait_until(lambda: held)
    page.select_option("#mn-init", "uniform")  # while the submission is in flight
    with page.expect_response(lambda r: r.url.endswith("/v1/jobs")):
        held[0].continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # its handlers ran
    assert attr(page, "#mnist", "data-job") is None
    assert "Press play" in (page.text_content("#mn-status") or "")
    assert "m_init=uniform" in page.url


def test_a_refused_playground_submission_does_not_replay_the_old_run(page: Any) -> None:
    open_page(page)
    wait_until(lambda: attr(page, "#playground", "data-iteration") == "0")
    refusal = json.dumps({"detail": "rate limit: 60 submissions per minute per key"})
    page.route(
        "**/v1/jobs",
        lambda route: (
            route.fulfill(status=429, content_type="application/json", body=refusal)
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    # set without focus: a focused field would fire another change (another try) on blur
    page.eval_on_selector(
        "#pg-it", "(e) => { e.value = '300'; e.dispatchEvent(new Event('change')); }"
    )
    wait_until(lambda: "Could not start" in (page.text_content("#pg-status") or ""))
    assert attr(page, "#playground", "data-job") is None
    page.click("#pg-play")  # no job: nothing to play, the refusal stays in view
    page.wait_for_timeout(300)
    assert "rate limit" in (page.text_content("#pg-status") or "")


def test_a_job_deleted_mid_stream_ends_as_deleted_not_running(
    page: Any, http: httpx.Client
) -> None:
    open_page(page)
    job = submit(http, long_spec(100_000, 100))
    wait_for_records(http, job["id"])
    page.evaluate(START_PLAYER, [job["id"], None])
    wait_until(lambda: page.evaluate("window.player.records.length") > 0)
    assert http.delete(f"/v1/jobs/{job['id']}").status_code == 204
    wait_until(lambda: page.evaluate("window.player.ended"), timeout=30)
    assert page.evaluate("window.player.status") == "deleted"


def test_a_stream_that_cannot_open_says_so_and_play_can_retry(page: Any) -> None:
    open_page(page)
    unknown = {"id": "0" * 32, "status": "queued"}  # its events answer 404
    page.evaluate(START_PLAYER, [None, unknown])
    error = wait_until(lambda: page.evaluate("window.player.error"), timeout=30)
    assert "could not be opened" in error
    assert page.evaluate("window.player.source") is None  # play or step opens a new stream


def test_unticking_every_sweep_initializer_round_trips_through_the_url(page: Any) -> None:
    open_page(page, "/#sweep")
    page.evaluate("document.querySelectorAll('#sw-inits input:checked').forEach((b) => b.click())")
    assert "sw_i=none" in page.url
    open_page(page, page.url)
    assert page.eval_on_selector_all("#sw-inits input:checked", "(boxes) => boxes.length") == 0


@pytest.mark.parametrize("widths", ["6,0", "6,5000", "6,,x"])
def test_a_hidden_layer_width_the_spec_refuses_stays_out_of_the_url(page: Any, widths: str) -> None:
    open_page(page)
    page.fill("#pg-hid", widths)
    page.dispatch_event("#pg-hid", "change")
    assert "hid=" not in page.url
    assert page.evaluate("document.getElementById('pg-hid').validity.valid") is False
    page.fill("#pg-hid", "4,4")
    page.dispatch_event("#pg-hid", "change")
    assert "hid=4%2C4" in page.url


def force_submissions(route: Any) -> None:
    """A job the page submits runs even if an equal one ran earlier in the session."""
    if route.request.method != "POST":
        return route.continue_()
    body = {**json.loads(route.request.post_data or "{}"), "force": True}
    return route.continue_(post_data=json.dumps(body))


def test_an_mnist_job_waiting_behind_long_ones_says_where_it_stands(
    page: Any, http: httpx.Client
) -> None:
    longs = [submit(http, long_spec(100_000)) for _ in range(2)]  # the batch lane's 2 processes
    try:
        for job in longs:
            wait_for(http, job["id"], {"running"})
        page.route("**/v1/jobs", force_submissions)
        open_page(page, "/?m_n=500#mnist")
        page.click("#mn-play")
        note = wait_until(lambda: waiting_note(page), timeout=20)
        assert "Queued in the batch lane" in note and "next to start" in note
        job = http.get(f"/v1/jobs/{attr(page, '#mnist', 'data-job')}").json()
        assert job["status"] == "queued" and job["queue"]["position"] == 0
    finally:
        for job in longs:
            http.post(f"/v1/jobs/{job['id']}/cancel")


def waiting_note(page: Any) -> str | None:
    text = page.text_content("#mn-status") or ""
    return text if text.startswith("Queued") else None
