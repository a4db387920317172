"""One viewer's event stream: the bytes of a shared feed, sent as fast as the viewer reads.

Nothing is queued per viewer: it holds a position in its job's feed and the chunk being sent
(at most ``CHUNK`` bytes, or one larger event). What a live feed no longer keeps, a viewer
reads from Redis itself, a page at a time. A viewer that falls more than ``lag`` bytes behind
the events that arrived since it joined is cut off with a ``resume`` event naming the last
record it got; it reconnects with ``Last-Event-ID`` (browsers do so by themselves) and goes on
from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from api.encodings import StreamCoder
from api.streams.events import BATCH, REDIS_DOWN, end_event, error_event, job_status, read_from
from api.streams.feed import PING, START, Feed, sse
from api.streams.hub import Hub
from api.streams.memory import return_freed_memory
from store.codec import dumps
from store.jobs import Job

CHUNK = 256 * 1024  # bytes per write
# a replay's first write: hundreds of viewers starting in one turn each get their first events
# before any gets a whole chunk (500 first writes of 256 KiB are 128 MB copied in one turn)
FIRST_CHUNK = 16 * 1024


def resume_event(last: int, why: str) -> bytes:
    after = None if last == START else last
    return b"retry: 1000\n" + sse("resume", dumps({"after": after, "detail": why}))


async def feed_events(
    hub: Hub, feed: Feed, job: Job, after: int | None, lag: int, index: int | None = None
) -> AsyncIterator[bytes | memoryview]:
    """The events a viewer gets: from the feed's start (``after`` None) or after a record, or
    from event ``index`` on."""
    last = START if after is None else after
    joined = feed.offsets[-1]  # what had arrived when this viewer joined
    index = feed.start_after(last) if index is None else index
    while True:
        if index is None or index < feed.base:  # not (or no longer) in the kept window
            index = feed.start_after(last)
        if index is None:  # read what comes next from Redis, a page at a time
            try:
                entries = await hub.store.read_after(job.id, read_from(last), None, BATCH)
            except REDIS_DOWN as exc:
                yield error_event(exc)
                return
            if not entries:
                yield end_event(None)  # the job's records are gone: it was deleted
                return
            yield b"".join(sse("record", raw, iteration) for iteration, raw in entries)
            last = entries[-1][0]
        elif index < feed.count:
            data, index, record = feed.read(index, CHUNK)
            last = record if record is not None else last
            yield data  # returns once it is sent: the viewer has read all but its buffers
            if feed.offsets[-1] - max(feed.offset(index), joined) > lag:
                why = f"more than {lag // 1024} KiB behind; resume with Last-Event-ID"
                yield resume_event(last, why)
                return
        elif feed.done:
            if feed.failure is not None:  # in this viewer's request: its own request id
                yield error_event(feed.failure)
            return
        else:
            before = index
            await feed.wait(index, hub.keepalive)
            if before == feed.count and not feed.done:
                yield PING


def slices(body: bytes) -> Iterator[memoryview]:
    view = memoryview(body)
    yield view[:FIRST_CHUNK]
    for start in range(FIRST_CHUNK, len(body), CHUNK):
        yield view[start : start + CHUNK]


async def sent_in_slices(body: bytes) -> AsyncIterator[memoryview]:
    try:
        for part in slices(body):
            yield part
    finally:
        return_freed_memory()  # what sending it took (the transport's buffers)


async def held_in_slices(feed: Feed) -> AsyncIterator[memoryview]:
    """A packed feed's decoded body, held (shared with its other readers) while it is sent."""
    body = await feed.hold_body()
    try:
        for part in slices(body):
            yield part
    finally:
        feed.release_body()
        return_freed_memory()  # what sending it took (the transport's buffers)


def ready_replay(
    hub: Hub, job: Job, after: int | None, coding: str | None
) -> tuple[int, AsyncIterator[memoryview]] | None:
    """(length, body) of a replay from the start, when this process has it ready: it goes out
    with a ``Content-Length``, in slices of one shared copy."""
    feed = hub.cached(job.id) if after is None and job.final else None
    if feed is None:
        return None
    if coding is None:
        return feed.offsets[-1], held_in_slices(feed)
    body = feed.compressed.get(coding)
    return None if body is None else (len(body), sent_in_slices(body))


async def viewer_body(
    hub: Hub, job: Job, after: int | None, lag: int, coding: str | None, coder: StreamCoder | None
) -> AsyncIterator[bytes | memoryview]:
    """The response body of one viewer, in ``coding`` (``coder`` compresses it chunk by chunk).

    A complete feed viewed from its start in a coding goes out as its one compressed copy.
    """
    status = job_status(job)
    # the status first, before a replay's feed is ready (a compressed replay is one copy)
    early = after is not None or (job.final and coder is None)
    if early:
        yield coder.chunk(status) if coder is not None else status
    feed = await hub.feed(job)
    feed.viewers += 1
    holding = False
    try:
        if after is None and coder is not None and job.final and feed.complete:
            body = await feed.compressed_body(coding or "")
            hub.trim()  # the cache grew by the copy
            for part in slices(body):
                yield part
            return
        if feed.frozen:  # a kept replay, read by slices of its decoded body
            await feed.hold_body()
            holding = True
        # a replay starts with the job's status, sent already
        index = 1 if after is None and early and feed.first() == status else None
        async for data in feed_events(hub, feed, job, after, lag, index):
            yield coder.chunk(bytes(data)) if coder is not None else data
        if coder is not None:
            yield coder.finish()
    finally:
        feed.viewers -= 1
        if holding:
            feed.release_body()
        return_freed_memory()  # what this viewer took: its chunks, its transport's buffers
