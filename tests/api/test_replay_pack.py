"""A finished job's kept replay is packed (api/streams/feed.py): one zstd copy, decoded only
while identity viewers read it, shared by them and dropped when the last one leaves; freed
heap is given back once per burst (api/streams/memory.py). Real Redis, jobs written by hand."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
import zstandard

from api.streams import memory
from api.streams.feed import Feed
from api.streams.hub import Hub
from api.streams.viewer import ready_replay
from store.async_store import AsyncJobStore, connect
from store.sync_store import JobStore
from tests.api.test_event_stream import append, body_of, events, hub_of, read, running


@pytest.fixture
async def astore(redis_db: str) -> AsyncIterator[AsyncJobStore]:
    client = connect(redis_db, max_connections=4)
    yield AsyncJobStore(client, grace=30)
    await client.aclose()


async def finished_replay(redis_db: str, astore: AsyncJobStore) -> tuple[Hub, Feed, bytes]:
    """A hub that has read a finished job of 40 records once, its kept feed once packed, and
    the body its first viewer got (before any packing)."""
    store = JobStore.from_url(redis_db)
    job = running(store)
    append(store, job, range(40), pad=3000)
    store.finish(job.id, "succeeded", summary={})
    hub = hub_of(astore)
    first = await body_of(hub, await read(astore, job.id))
    feed = hub.finished[job.id]
    while hub._packing:  # packing runs in a thread, after the replay was kept
        await asyncio.sleep(0.01)
    return hub, feed, first


async def drain(parts: AsyncIterator[memoryview]) -> bytes:
    return b"".join([bytes(part) async for part in parts])


@pytest.mark.anyio
async def test_a_packed_replay_decodes_to_exactly_the_bytes_viewers_got(
    redis_db: str, astore: AsyncJobStore
) -> None:
    _, feed, first = await finished_replay(redis_db, astore)
    assert feed.packed and feed.body is None  # kept as its zstd copy only
    assert zstandard.ZstdDecompressor().decompress(feed.compressed["zstd"]) == first
    assert [e for e, _, _ in events(first)] == ["status"] + ["record"] * 40 + ["end"]
    assert feed.size == len(feed.compressed["zstd"]) < len(first) / 5


@pytest.mark.anyio
async def test_identity_and_zstd_viewers_of_a_packed_replay_get_the_same_stream(
    redis_db: str, astore: AsyncJobStore
) -> None:
    hub, feed, first = await finished_replay(redis_db, astore)
    job = await read(astore, feed.job_id)
    plain_ready = ready_replay(hub, job, None, None)
    zstd_ready = ready_replay(hub, job, None, "zstd")
    assert plain_ready is not None and zstd_ready is not None
    assert plain_ready[0] == len(first) and zstd_ready[0] == len(feed.compressed["zstd"])
    plain, packed = await drain(plain_ready[1]), await drain(zstd_ready[1])
    assert plain == first
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed) == first
    # a viewer resuming after record 30 reads slices of the decoded body, then lets it go
    resumed = events(await body_of(hub, job, after=30))
    assert [i for e, i, _ in resumed if e == "record"] == [str(i) for i in range(31, 40)]
    assert feed.holders == 0 and feed.body is None


@pytest.mark.anyio
async def test_identity_viewers_share_one_decoded_body_dropped_when_the_last_leaves(
    redis_db: str, astore: AsyncJobStore
) -> None:
    hub, feed, first = await finished_replay(redis_db, astore)
    job = await read(astore, feed.job_id)
    readers = []
    for _ in range(3):
        ready = ready_replay(hub, job, None, None)
        assert ready is not None
        readers.append(ready[1])
    heads = [await anext(reader) for reader in readers]  # each has sent its first slice
    assert feed.holders == 3 and feed.body is not None
    assert all(head.obj is feed.body for head in heads)  # slices of one shared copy
    for count, reader in enumerate(readers, start=1):
        rest = await drain(reader)
        assert bytes(heads[count - 1]) + rest == first
        assert (feed.body is None) == (count == 3)  # held until the last reader is done
    assert feed.holders == 0


@pytest.mark.anyio
async def test_a_burst_of_releases_trims_the_heap_once(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[float] = []

    def counted() -> bool:
        trims.append(1.0)
        return True

    monkeypatch.setattr(memory, "trim_heap", counted)
    monkeypatch.setattr(memory, "DELAY_SECONDS", 0.05)
    for _ in range(10):
        memory.return_freed_memory()
    assert trims == []  # not at once: after the burst
    await asyncio.sleep(0.2)
    assert len(trims) == 1
    memory.return_freed_memory()
    await asyncio.sleep(0.2)
    assert len(trims) == 2


def test_trimming_the_heap_works_on_this_libc() -> None:
    """glibc has malloc_trim: after freeing 64 MB of small objects some pages go back."""
    hoard = [bytearray(4000) for _ in range(16_000)]
    del hoard
    assert memory.trim_heap()


@pytest.mark.anyio
async def test_viewers_waiting_for_the_decoded_body_all_resume_in_one_turn(
    redis_db: str, astore: AsyncJobStore
) -> None:
    """They wait on one decoding, not on a lock that would wake them one turn after another
    (500 viewers on a busy loop: seconds before the last got its first byte)."""
    _, feed, first = await finished_replay(redis_db, astore)
    waiting = [asyncio.create_task(feed.hold_body()) for _ in range(100)]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    for _ in range(2):
        await asyncio.sleep(0)
    assert all(task.done() for task in waiting)
    assert all(task.result() is feed.body for task in waiting) and feed.body == first
    for _ in waiting:
        feed.release_body()
    assert feed.body is None


RSS_AFTER_BIG_BLOCKS = """
import sys
from pathlib import Path
from api.streams import memory

def rss_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(x for x in status if x.startswith("VmRSS")).split()[1]) / 1024

if sys.argv[1] == "fixed":
    assert memory.keep_big_blocks_mapped()
before = rss_mb()
for _ in range(3):  # a replay's body decoded, sent, dropped, again
    body = bytes(20_000_000)
    del body
print(rss_mb() - before)
"""


@pytest.mark.parametrize("threshold", ["fixed", "glibc"])
def test_freed_bodies_leave_the_process_with_the_mmap_threshold_kept(threshold: str) -> None:
    """glibc alone serves the second 20 MB body from its heap (the first one freed raised its
    threshold) and keeps it resident once freed; kept at 128 KiB, none stays."""
    run = [sys.executable, "-c", RSS_AFTER_BIG_BLOCKS, threshold]
    grown = float(subprocess.run(run, capture_output=True, text=True, check=True).stdout)
    if threshold == "fixed":
        assert grown < 5
    else:
        assert grown > 15  # what the setting is for: glibc's own behaviour here
