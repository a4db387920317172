"""The reference page in a real browser against the real stack: playground, links, MNIST, URLs."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import (
    BAD_COLOUR,
    OK_COLOUR,
    attr,
    open_page,
    play_to_end,
    record_at,
    wait_until,
)
from tests.e2e.job_helpers import wait_for

pytestmark = pytest.mark.e2e
BLUE, ORANGE = "#1a6bb5", "#e07b00"


def loaded_job(page: Any) -> str:
    """The playground's job once its iteration 0 is shown."""
    wait_until(lambda: attr(page, "#playground", "data-iteration") == "0")
    return attr(page, "#playground", "data-job") or ""


@pytest.mark.parametrize("init", ["zero", "too_small", "appropriate", "too_large"])
def test_playground_trains_live_with_each_article_init(
    page: Any, http: httpx.Client, shoot: Any, init: str
) -> None:
    open_page(page, f"/?init={init}&seed=4242")  # a seed no other test uses: a job of its own
    job_id = loaded_job(page)
    assert http.get(f"/v1/jobs/{job_id}").json()["reused_from"] is None  # it trains live
    page.click("#pg-play")
    costs_seen, boundaries_seen = set(), set()

    def ended() -> bool:
        costs_seen.add(attr(page, "#pg-cost", "data-points"))
        boundaries_seen.add(attr(page, "#pg-boundary", "data-iteration"))
        return "succeeded" in (page.text_content("#pg-status") or "")

    wait_until(ended, timeout=90)
    # the charts grew step by step while the records streamed in, not once at the end
    assert len(costs_seen) >= 5, costs_seen
    assert len(boundaries_seen) >= 5, boundaries_seen
    job = http.get(f"/v1/jobs/{job_id}").json()
    assert job["spec"]["init"]["method"] == init and job["status"] == "succeeded"
    last = job["iteration"]
    params = {"fields": "cost", "limit": 5000}
    records = http.get(f"/v1/jobs/{job_id}/metrics", params=params).json()["records"]
    finite = [r["cost"] for r in records if r["cost"] is not None]
    assert attr(page, "#pg-cost", "data-points") == str(len(finite))
    plotted = page.evaluate("document.getElementById('pg-cost').data[0].y.at(-1)")
    assert plotted == pytest.approx(records[-1]["cost"])
    assert attr(page, "#pg-boundary", "data-iteration") == str(last)
    shoot(page.locator("#playground"), f"playground-{init}")


def link_values(page: Any) -> list[tuple[float, str]]:
    script = """[...document.querySelectorAll('#pg-network line.link')]
        .map((l) => [Number(l.dataset.value), l.getAttribute('stroke')])"""
    return [(value, stroke) for value, stroke in page.evaluate(script)]


def flat(layers: list[dict[str, Any]]) -> list[float]:
    return [w for layer in layers for row in layer["weights"] for w in row]


def test_links_toggle_between_weights_and_gradients(
    page: Any, http: httpx.Client, shoot: Any
) -> None:
    open_page(page, "/?it=50")
    job_id = loaded_job(page)
    for _ in range(3):
        page.click("#pg-step")
    wait_until(lambda: attr(page, "#pg-network", "data-iteration") == "3")
    assert attr(page, "#pg-network", "data-mode") == "weights"
    weights_3 = http.get(f"/v1/jobs/{job_id}/parameters", params={"iteration": 3}).json()["layers"]
    shown = link_values(page)
    assert len(shown) == 2 * 6 + 6 * 3 + 3 * 1
    assert [v for v, _ in shown] == pytest.approx(flat(weights_3))
    shoot(page.locator(".network-panel"), "network-weights")

    page.focus("input[name=pg-links][value=weights]")
    page.keyboard.press("ArrowRight")  # a radio group: the keyboard switches the view
    wait_until(lambda: attr(page, "#pg-network", "data-mode") == "gradients")
    assert "links=gradients" in page.url
    weights_4 = http.get(f"/v1/jobs/{job_id}/parameters", params={"iteration": 4}).json()["layers"]
    lr = http.get(f"/v1/jobs/{job_id}").json()["spec"]["optimizer"]["learning_rate"]
    expected = [(a - b) / lr for a, b in zip(flat(weights_3), flat(weights_4), strict=True)]
    shown = link_values(page)
    assert [v for v, _ in shown] == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert any(v != 0 for v, _ in shown)
    for value, stroke in shown:  # coloured by sign
        assert stroke == (BLUE if value > 0 else ORANGE if value < 0 else stroke)
    widths = [float(w) for w in page.eval_on_selector_all(
        "#pg-network line.link", "(lines) => lines.map((l) => l.getAttribute('stroke-width'))"
    )]  # fmt: skip
    biggest = max(range(len(shown)), key=lambda i: abs(shown[i][0]))
    assert widths[biggest] == max(widths)  # sized by magnitude
    shoot(page.locator(".network-panel"), "network-gradients")


def test_one_mnist_epoch_shows_the_records_predictions(
    page: Any, http: httpx.Client, shoot: Any
) -> None:
    # he_normal: no other test runs this epoch, so it trains live rather than from a copy
    open_page(page, "/?m_init=he_normal#mnist")
    page.click("#mn-play")
    seen: set[str | None] = set()

    def ended() -> bool:
        shown = attr(page, "#mn-grid", "data-iteration")
        seen.add(shown)
        return shown == "100" and "succeeded" in (page.text_content("#mn-status") or "")

    wait_until(ended, timeout=240)
    assert len(seen) >= 5, seen  # the grid and histograms followed the stream
    job_id = attr(page, "#mnist", "data-job") or ""
    job = http.get(f"/v1/jobs/{job_id}").json()
    spec = job["spec"]
    assert spec["dataset"]["n_samples"] == 10_000 and spec["init"]["method"] == "he_normal"
    assert job["reused_from"] is None
    iteration = int(attr(page, "#mn-grid", "data-iteration") or -1)
    assert iteration == job["spec"]["training"]["iterations"] == 100
    predictions = record_at(http, job_id, iteration)["predictions"]
    cells = page.evaluate(
        """[...document.querySelectorAll('#mn-grid .cell')].map((c) => [c.textContent,
            getComputedStyle(c).backgroundColor, getComputedStyle(c, '::after').content])"""
    )
    assert len(cells) == 100
    for (text, colour, mark), predicted, correct in zip(
        cells, predictions["predicted"], predictions["correct"], strict=True
    ):
        assert text == str(predicted)
        assert colour == (OK_COLOUR if correct else BAD_COLOUR)
        assert (mark != "none") == (not correct)  # wrong ones are also crossed out
    wrong = predictions["correct"].count(False)
    assert page.text_content("#mn-wrong") == f"{wrong}/100"
    hist = page.eval_on_selector_all("#mn-hist .hist", "(ds) => ds.map((d) => d.data[0].y.length)")
    assert hist == [200, 200, 200, 200]
    shoot(page.locator("#mnist"), "mnist")


def test_the_batch_images_are_drawn(page: Any, http: httpx.Client, shoot: Any) -> None:
    probe = http.get("/v1/datasets/mnist/images", params={"indices": "0", "split": "test"})
    assert probe.status_code == 200, probe.text  # a missing route fails, never skips
    open_page(page, "/?m_n=500#mnist")
    page.click("#mn-step")
    wait_until(lambda: attr(page, "#mn-images", "data-images") == "100", timeout=120)
    shoot(page.locator(".mnist-grids"), "mnist-batch")


def test_a_shared_url_reproduces_the_experiment(
    page: Any, browser: Any, site: str, http: httpx.Client
) -> None:
    open_page(page)
    first = loaded_job(page)
    page.click("label:has(input[value=moon])")
    page.select_option("#pg-init", "too_small")
    page.fill("#pg-lr", "0.5")
    page.press("#pg-lr", "Tab")
    page.fill("#pg-it", "200")
    page.press("#pg-it", "Tab")
    page.select_option("#pg-speed", "5000")
    wait_until(lambda: attr(page, "#playground", "data-job") not in (None, first))
    job_id = loaded_job(page)
    url = page.url
    for part in ("ds=moon", "init=too_small", "lr=0.5", "it=200", "speed=5000"):
        assert part in url
    status = play_to_end(page, "#pg-status", "#pg-play")

    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_page(other, url)
    assert other.input_value("#pg-init") == "too_small"
    assert other.input_value("#pg-lr") == "0.5" and other.input_value("#pg-it") == "200"
    assert other.is_checked("input[name=pg-ds][value=moon]")
    again = loaded_job(other)
    ours, theirs = (http.get(f"/v1/jobs/{i}").json() for i in (job_id, again))
    assert theirs["spec_hash"] == ours["spec_hash"]  # the same experiment, not a look-alike
    assert theirs["spec"]["optimizer"]["learning_rate"] == 0.5
    assert play_to_end(other, "#pg-status", "#pg-play") == status
    ours, theirs = (http.get(f"/v1/jobs/{i}").json() for i in (job_id, again))
    assert math.isclose(ours["summary"]["final_cost"], theirs["summary"]["final_cost"])
    other.context.close()
    # the link gave a copy of the same job; determinism is two real runs of the spec, bit for bit
    assert ours["reused_from"] is None and theirs["reused_from"] == job_id
    rerun = http.post("/v1/jobs", json={**ours["spec"], "force": True}).json()
    assert rerun["reused_from"] is None
    assert wait_for(http, rerun["id"])["status"] == ours["status"] == "succeeded"
    first, second = (
        http.get(f"/v1/jobs/{i}/metrics", params={"limit": 10_000}).json()["records"]
        for i in (job_id, rerun["id"])
    )
    assert len(first) == 201 and first == second
