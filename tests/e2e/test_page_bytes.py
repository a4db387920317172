"""What the page receives for one playground Play, counted by Chromium itself (issue 9 item 2).

The playground runs a spec of its own (a fresh ``seed``), so its job really runs on the worker
(``reused_from`` is null) and its records come live. Every byte the browser received for that
job (its submission, polls, first record, dataset, parameters and event stream; the other
sections' submissions too, indistinguishable by URL), from opening
the page to the job's last iteration on screen, is summed from the DevTools protocol's network
events (``encodedDataLength``: on the wire, compressed, headers included). The page's other
sections start jobs of their own, and the static files (scripts, plotly.js) stay in the
browser's cache across Plays: both are printed, not counted.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import attr, open_page, play_to_end, wait_until

pytestmark = pytest.mark.e2e
MOST_BYTES = 2_500_000


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

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """(requests, bytes) per kind of /v1/ path (its last segment, ids left out)."""
        out: dict[str, tuple[int, int]] = {}
        for rid, url in self.urls.items():
            if "/v1/" not in url:
                continue
            kind = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            kind = "job" if len(kind) == 32 else kind
            n, size = out.get(kind, (0, 0))
            out[kind] = (n + 1, size + max(self.finished.get(rid, 0), self.streamed.get(rid, 0)))
        return out

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
        # every section's submission counted (the playground's URL has no id yet): an overcount
        play = received.total(lambda url: job_id in url or url.endswith("/v1/jobs"))
        api = received.total(lambda url: "/v1/" in url)
        static = received.total(lambda url: "/v1/" not in url)
        stream = received.total(lambda url: "/events" in url)
        print(f"\npage bytes: the Play {play / 1e6:.2f} MB (events {stream / 1e6:.2f} MB); "
              f"all of /v1/ {api / 1e6:.2f} MB, static {static / 1e6:.2f} MB")  # fmt: skip
        print(received.by_kind())
        assert received.events_url() is not None
        assert stream > 100_000  # the records did come through the stream
        assert play <= MOST_BYTES, f"{play / 1e6:.2f} MB for one Play"
    finally:
        context.close()
