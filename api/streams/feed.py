"""A feed: one job's event stream, each event encoded once and shared by all its viewers.

A live job's feed is filled by one follower (api/streams/hub.py) and keeps a window of its
latest events (``limit`` bytes; older ones are dropped from the head). A finished job's feed is
complete and immutable: frozen into one body, then packed, kept as that body's zstd copy only
(sent as it is to viewers accepting zstd). Viewers that need the decoded body hold it: the first
decodes it once, all share it, and it is dropped when the last lets go. Copies in other codings
are made once, on demand.

Each event has a position: the iteration of its record, or for other events (status, ping,
end) the previous record's iteration plus 0.5, so a viewer resuming after iteration N starts at
the first event whose position is above N.
"""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_right
from collections.abc import Callable
from functools import partial

from api.encodings import compress, decompress_zstd
from api.streams.memory import return_freed_memory
from store.codec import dumps

START = -1  # "after" of a viewer that wants every record


def sse(event: str, data: bytes, event_id: int | None = None) -> bytes:
    head = b"id: %d\n" % event_id if event_id is not None else b""
    return b"%bevent: %b\ndata: %b\n\n" % (head, event.encode(), data)


def status_event(status: str | None, progress: float, iteration: int | None) -> bytes:
    data = {"status": status, "progress": progress, "iteration": iteration}
    return sse("status", dumps(data))


PING = b": ping\n\n"


class Feed:
    def __init__(self, job_id: str, limit: int) -> None:
        self.job_id = job_id
        self.limit = limit  # bytes kept; older events are dropped (a live feed's window)
        self.events: list[bytes] = []
        self.positions: list[float] = []
        self.offsets: list[int] = [0]  # stream bytes before each kept event, then the total
        self.base = 0  # index in the whole stream of events[0]
        self.dropped_through = START  # records up to this iteration are no longer kept
        self.last = START  # the last record's iteration
        self.status = b""  # the latest status event
        self.done = False
        self.failure: Exception | None = None  # why it ended without its end event
        self.viewers = 0
        self.frozen = False
        self.body: bytes | None = None  # once frozen: every event, joined (``events`` empty)
        self.packed = False  # the body is kept as ``compressed["zstd"]`` only
        self.holders = 0  # viewers reading the decoded body of a packed feed
        self.opening = b""  # once frozen: the first event
        self.compressed: dict[str, bytes] = {}
        self._work: dict[str, asyncio.Future[bytes]] = {}  # a copy being made, per coding
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ writing (the follower)

    def add_status(self, event: bytes) -> None:
        self.status = event
        self._add(event, self.last + 0.5)

    def add_record(self, iteration: int, raw: bytes) -> None:
        """Record ``iteration``: its stored JSON, or its whole event when it starts ``id: ``."""
        self.last = iteration
        self._add(raw if raw.startswith(b"id: ") else sse("record", raw, iteration), iteration)

    def end(self, event: bytes) -> None:
        """The last event: ``end``."""
        self._add(event, self.last + 0.5)
        self.done = True
        self.wake()

    def fail(self, failure: Exception) -> None:
        """No more events, for ``failure``: each viewer sends its own error event (with its own
        request id) in place of an end. Such a feed is never kept."""
        self.failure = failure
        self.done = True
        self.wake()

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def _add(self, event: bytes, position: float) -> None:
        self.events.append(event)
        self.positions.append(position)
        self.offsets.append(self.offsets[-1] + len(event))
        while self.offsets[-1] - self.offsets[0] > self.limit and len(self.events) > 1:
            self.dropped_through = max(self.dropped_through, int(self.positions[0]))
            del self.events[0], self.positions[0], self.offsets[0]
            self.base += 1

    def wake(self) -> None:
        """Let every waiting viewer look at the new events."""
        self._wake.set()
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ reading (the viewers)

    def freeze(self) -> None:
        """Join a complete feed's events into one body, read by slices from then on."""
        assert self.complete and not self.frozen
        self.body = b"".join(self.events)
        self.opening = self.events[0] if self.events else b""
        self.events = []
        self.frozen = True

    async def pack(self) -> None:
        """Keep the frozen body as its zstd copy only (compressed in a thread)."""
        assert self.frozen and self.body is not None
        if "zstd" not in self.compressed:  # shared with a zstd viewer asking meanwhile
            self.compressed["zstd"] = await self._once("zstd", partial(compress, "zstd"), self.body)
        self.packed = True
        self._drop_body()

    async def hold_body(self) -> bytes:
        """The decoded body of a frozen feed, shared; pair with :meth:`release_body`."""
        assert self.frozen
        self.holders += 1
        try:
            if self.body is None:
                decoded = await self._once("identity", decompress_zstd, self.compressed["zstd"])
                self.body = self.body or decoded
        except BaseException:
            self.release_body()
            raise
        return self.body

    async def _once(self, what: str, make: Callable[[bytes], bytes], data: bytes) -> bytes:
        """``make(data)`` in a thread, once for all who ask meanwhile: they wait on one future
        and all resume in the same turn (a lock would wake them one turn after another)."""
        work = self._work.get(what)
        if work is None:
            work = self._work[what] = asyncio.ensure_future(asyncio.to_thread(make, data))
            work.add_done_callback(lambda _: self._work.pop(what, None))
        return await asyncio.shield(work)

    def release_body(self) -> None:
        self.holders -= 1
        self._drop_body()

    def _drop_body(self) -> None:
        if self.packed and self.holders == 0 and self.body is not None:
            self.body = None
            return_freed_memory()

    @property
    def count(self) -> int:
        """Events in the whole stream so far (kept or dropped)."""
        return self.base + len(self.positions)

    def first(self) -> bytes:
        """The first event kept (b"" if none)."""
        if self.frozen:
            return self.opening
        return self.events[0] if self.events else b""

    @property
    def size(self) -> int:
        """Bytes kept: the events (not a packed feed's body, held by its viewers only while they
        read it) and the compressed copies."""
        events = 0 if self.packed else self.offsets[-1] - self.offsets[0]
        return events + sum(map(len, self.compressed.values()))

    @property
    def complete(self) -> bool:
        """Ended with every event since the first still kept."""
        return self.done and not self.failed and self.base == 0

    def start_after(self, after: int) -> int | None:
        """The index of the first event after iteration ``after``; None if it was dropped."""
        if after < self.dropped_through:
            return None
        return self.base + bisect_right(self.positions, after)

    def offset(self, index: int) -> int:
        return self.offsets[max(index - self.base, 0)]

    def read(self, index: int, most: int) -> tuple[bytes | memoryview, int, int | None]:
        """(events from ``index`` up to ``most`` bytes (one at least), the next index, the last
        record iteration among them or None). A frozen feed gives a slice of its body."""
        i = index - self.base
        start = self.offsets[i]
        j = min(max(bisect_right(self.offsets, start + most) - 1, i + 1), len(self.positions))
        last = None
        for k in range(j - 1, i - 1, -1):
            if self.positions[k] == int(self.positions[k]):  # a record's: status and end are x.5
                last = int(self.positions[k])
                break
        if self.frozen:
            assert self.body is not None, "a packed body is read while held"
            return memoryview(self.body)[start : self.offsets[j]], self.base + j, last
        return b"".join(self.events[i:j]), self.base + j, last

    async def wait(self, index: int, timeout: float) -> None:
        """Until an event past ``index`` exists or the feed ends (at most ``timeout`` s)."""
        if index < self.count or self.done:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def compressed_body(self, coding: str) -> bytes:
        """The complete feed as one body in ``coding``, compressed once (in a thread)."""
        assert self.complete
        if coding in self.compressed:
            return self.compressed[coding]
        body = await self.hold_body() if self.frozen else b"".join(self.events)
        try:
            copy = await self._once(coding, partial(compress, coding), body)
        finally:
            if self.frozen:
                self.release_body()
        self.compressed[coding] = copy
        return copy
