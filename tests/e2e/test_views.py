"""The other figures in a real browser: nine layers, theory, sweep, embeds, and the controls."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.helpers import attr, open_page, traces, wait_until
from tests.e2e.job_helpers import submit, wait_for

pytestmark = pytest.mark.e2e


def test_nine_layers_grow_and_shrink_by_a_per_layer(page: Any, shoot: Any) -> None:
    open_page(page, "/#nine")
    wait_until(lambda: attr(page, "#nine", "data-jobs"), timeout=120)
    lines = {t["name"]: t for t in traces(page, "#nine-chart")}
    assert len(lines) == 6
    for a in (0.5, 1, 1.5):
        acts, grads = lines[f"a = {a}: activations"], lines[f"a = {a}: gradients"]
        assert acts["x"] == list(range(1, 10))
        # W = a I: the signal after layer l is a^l times the input, the gradient a^(9-l)
        assert acts["y"] == pytest.approx([a**layer for layer in range(1, 10)], rel=1e-3)
        assert grads["y"] == pytest.approx([a ** (9 - layer) for layer in range(1, 10)], rel=1e-3)
    assert page.eval_on_selector("#nine-chart", "(d) => d.layout.yaxis.type") == "log"
    shoot(page.locator("#nine"), "nine-layers")
    page.click("label:has(input[name=nine-scale][value=absolute])")
    wait_until(lambda: attr(page, "#nine-chart", "data-scale") == "absolute")
    assert "nine=absolute" in page.url


def test_theory_sets_predictions_beside_measurements(page: Any, shoot: Any) -> None:
    open_page(page, "/#theory")
    wait_until(lambda: attr(page, "#theory", "data-layers") == "5")
    forward = {t["name"]: t for t in traces(page, "#th-forward")}
    assert set(forward) == {"measured", "article", "mean field", "one step"}
    assert len(forward["measured"]["y"]) == 5 and all(v > 0 for v in forward["measured"]["y"])
    assert page.locator("#th-assumptions li").count() >= 3
    page.select_option("#th-preset", "he_2015")  # a preset brings its own network
    wait_until(lambda: attr(page, "#theory", "data-layers") == "31")
    assert page.input_value("#th-init") == "he_normal" and "th_p=he_2015" in page.url
    shoot(page.locator("#theory"), "theory")


def test_a_sweep_shows_every_chosen_initializer(page: Any, http: httpx.Client, shoot: Any) -> None:
    assert http.post("/v1/sweeps", json={}).status_code == 422  # served: a missing route fails
    # nine_layers: no other test sweeps its initializers, so every job trains live
    open_page(page, "/?sw_p=nine_layers&sw_i=zero,too_small,appropriate,too_large#sweep")
    assert page.locator("#sw-inits input:checked").count() == 4
    page.click("#sw-run")
    wait_until(lambda: attr(page, "#sweep", "data-done") == "true", timeout=240)
    cards = page.locator("#sw-cards .card")
    assert cards.count() == 4
    assert all(int(cards.nth(i).get_attribute("data-points") or 0) > 1 for i in range(4))
    assert "sw=" in page.url  # the link shows this sweep again
    sweep_id = page.url.split("sw=")[1].split("&")[0].split("#")[0]
    for variation in http.get(f"/v1/sweeps/{sweep_id}").json()["variations"]:
        job = http.get(f"/v1/jobs/{variation['job_id']}").json()
        assert job["spec"]["model"]["hidden"] == [2] * 9  # the nine layers' network
        assert job["reused_from"] is None  # trained live, not a copy
    shoot(page.locator("#sweep"), "sweep")


@pytest.mark.parametrize("view", ["cost", "boundary", "histograms", "network"])
def test_embedded_views_draw_one_job(page: Any, http: httpx.Client, shoot: Any, view: str) -> None:
    spec = {"training": {"iterations": 60}, "record": {"parameters": {"every": 1}}, "force": True}
    job = wait_for(http, submit(http, spec)["id"])
    page.set_viewport_size({"width": 560, "height": 380})
    page.goto(f"/embed/{view}?job={job['id']}")
    page.wait_for_selector("body[data-ready=true]", state="attached")
    wait_until(lambda: "iteration 60" in (page.text_content("#embed-title") or ""))
    if view == "network":
        wait_until(lambda: attr(page, ".network", "data-links") == "33")
    else:
        selector = ".hist-row > div" if view == "histograms" else ".chart"
        wait_until(lambda: page.eval_on_selector(selector, "(d) => (d.data || []).length") > 0)
    shoot(page, f"embed-{view}")


def test_unknown_embed_views_and_files_are_404s(http: httpx.Client) -> None:
    response = http.get("/embed/nope")
    assert response.status_code == 404 and "cost" in response.json()["detail"]
    assert http.get("/static/../main.py").status_code == 404
    assert http.get("/static/nope.js").status_code == 404
    assert http.get("/static/a%00b.js").status_code == 404  # a NUL byte: no file, not a 500
    assert http.get("/static/" + "a" * 300 + ".js").status_code == 404  # a name too long
    vendor = http.get("/static/vendor/plotly.min.js")
    assert vendor.status_code == 200 and "javascript" in vendor.headers["content-type"]


def test_every_control_is_labelled_and_the_keyboard_drives_the_player(page: Any) -> None:
    open_page(page)
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('main select, main input, main button')]
            .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                           && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map((e) => e.id || e.name || e.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == []
    wait_until(lambda: attr(page, "#playground", "data-iteration") == "0")
    page.focus("#pg-reset")
    page.keyboard.press("Enter")  # buttons answer the keyboard
    page.locator("body").focus()
    page.keyboard.press("k")
    wait_until(lambda: page.text_content("#pg-play") == "Pause")
    page.keyboard.press("k")
    wait_until(lambda: page.text_content("#pg-play") == "Play")
    page.keyboard.press("r")
    wait_until(lambda: attr(page, "#playground", "data-iteration") == "0")
    page.keyboard.press(".")
    wait_until(lambda: attr(page, "#playground", "data-iteration") == "1")
