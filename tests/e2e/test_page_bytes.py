"""What the page receives for one playground Play, counted by Chromium itself (issue 9 item 2).

The playground runs a spec of its own (a fresh ``seed``), so its job really runs on the worker
(``reused_from`` is null) and its records come live. Every byte the browser received for the
API's ``/v1/`` answers, from opening the page to the job's last iteration on screen, is summed
from the DevTools protocol's network events (``encodedDataLength``: on the wire, compressed,
headers included); the static files (scripts, styles, plotly.js) are counted apart: a browser
keeps them across Plays.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import attr, open_page, play_to_end, wait_until

pytestmark = pytest.mark.e2e
MOST_BYTES = 2.5 * 1024 * 1024


class Received:
    """Bytes received per request, from Network.* events of a CDP session."""

    def __init__(self, cdp: Any) -> None:
        self.urls: dict[str, str] = {}
        self.streamed: dict[str, int] = {}
        self.finished: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._done)
        cdp.send("Network.enable")

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _data(self, event: dict[str, Any]) -> None:
        rid = event["requestId"]
        self.streamed[rid] = self.streamed.get(rid, 0) + event["encodedDataLength"]

    def _done(self, event: dict[str, Any]) -> None:
        self.finished[event["requestId"]] = int(event["encodedDataLength"])

    def total(self, keep: Any) -> int:
        ids = {rid for rid, url in self.urls.items() if keep(url)}
        return sum(max(self.finished.get(rid, 0), self.streamed.get(rid, 0)) for rid in ids)

    def events_url(self) -> str | None:
        return next((url for url in self.urls.values() if "/events" in url), None)


def test_one_playground_play_receives_at_most_2_5_mb(
    browser: Any, site: str, http: httpx.Client
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        received = Received(context.new_cdp_session(page))
        open_page(page, f"/?seed={time.time_ns() % 1_000_000 + 1000}")
        wait_until(lambda: attr(page, "#playground", "data-iteration") == "0")
        job_id = attr(page, "#playground", "data-job")
        play_to_end(page, "#pg-status", "#pg-play")
        job = http.get(f"/v1/jobs/{job_id}").json()
        wait_until(lambda: attr(page, "#playground", "data-iteration") == str(job["iteration"]))
        assert job["reused_from"] is None and job["status"] == "succeeded"
        assert job["iteration"] == 1000
        time.sleep(0.5)  # the last network events
        api = received.total(lambda url: "/v1/" in url)
        static = received.total(lambda url: "/v1/" not in url)
        stream = received.total(lambda url: "/events" in url)
        print(f"\npage bytes: /v1/ {api / 2**20:.2f} MiB (events {stream / 2**20:.2f} MiB), "
              f"static {static / 2**20:.2f} MiB")  # fmt: skip
        assert received.events_url() is not None
        assert stream > 100_000  # the records did come through the stream
        assert api <= MOST_BYTES, f"{api / 2**20:.2f} MiB for one Play"
    finally:
        context.close()
