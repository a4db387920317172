"""The viewers of bench/viewers.py: one client process opening N event streams at once.

    python -m bench.viewer_client '{"host", "port", "path", "viewers", "accept", "start",
                                    "deadline", "reference", "records"}'

Each viewer is a raw socket (one request, ``Connection: close``) read by an asyncio protocol
with no copy beyond the kernel's: the HTTP head, then the body, chunked or not, decoded when
zstd. Every viewer's body is checked record by record. When ``reference`` names a file (the
expected stream, itself scanned and found complete), a body is compared byte for byte with it,
which is cheap; at the first difference the viewer scans what it got instead (the reference's
matching prefix, then its own bytes), so a stream that differs is still judged on its own
events. Without a reference every body is scanned.

The process waits until ``start`` (time.monotonic, shared by the processes of a machine),
opens its viewers, prints ``{"ready": seconds}`` once each has its first byte (or has ended),
and at the end one JSON object: per viewer its times from ``start`` (head
received, first body byte, end), whether it was complete and its error; the lag of its own
event loop (how late a 10 ms sleep woke, p50 / p95 / most) and its CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any, cast

import uvloop
import zstandard

TICK = 0.01  # the loop-lag probe's sleep


class Scan:
    """Record ids and event names of a stream fed in pieces."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.events: dict[str, int] = {}
        self.carry = b"\n"  # the start of a line not yet complete

    def feed(self, data: bytes | memoryview) -> None:
        text = self.carry + bytes(data)
        cut = text.rfind(b"\n")
        for field in (b"\nid: ", b"\nevent: "):
            at = text.find(field, 0, cut + 1)
            while at >= 0:
                start = at + len(field)
                end = text.find(b"\n", start)
                value = text[start:end].rstrip(b"\r")
                if field == b"\nid: ":
                    self.ids.append(int(value))
                else:
                    name = value.decode()
                    self.events[name] = self.events.get(name, 0) + 1
                at = text.find(field, end, cut + 1)
        self.carry = text[cut:]

    def complete(self, records: int) -> bool:
        """Records 0..records-1 in order, one ``end``, and nothing cut off after it."""
        ended = self.carry == b"\n" and self.events.get("end") == 1
        return ended and self.ids == list(range(records))


class Reference:
    """The expected stream and what a scan of it found."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.scan = Scan()
        self.scan.feed(body)


class Check:
    """A body compared with the reference while it matches, scanned once it does not."""

    def __init__(self, reference: Reference | None) -> None:
        self.reference = reference
        self.matched = 0
        self.scan: Scan | None = None if reference is not None else Scan()

    def feed(self, piece: bytes | memoryview) -> None:
        if self.scan is None:
            assert self.reference is not None
            if self.reference.body.startswith(piece, self.matched):  # compared in place
                self.matched += len(piece)
                return
            self.scan = Scan()
            self.scan.feed(self.reference.body[: self.matched])
        self.scan.feed(piece)

    def result(self) -> Scan:
        if self.scan is not None:
            return self.scan
        assert self.reference is not None
        if self.matched == len(self.reference.body):
            return self.reference.scan
        scan = Scan()  # the body is the reference's first ``matched`` bytes
        scan.feed(self.reference.body[: self.matched])
        return scan


class Viewer(asyncio.Protocol):
    """One request; its response's head, then its body fed to a :class:`Check`."""

    transport: asyncio.Transport

    def __init__(self, request: bytes, reference: Reference | None, start: float) -> None:
        self.request = request
        self.check = Check(reference)
        self.start = start
        self.head = b""
        self.times: dict[str, float] = {}
        self.error = ""
        self.chunked = False
        self.remaining = 0  # bytes left in the current chunk
        self.size_line = b""  # a chunk-size line still arriving
        self.decoder: Any = None
        self.done = asyncio.get_running_loop().create_future()

    def stamp(self, name: str) -> None:
        self.times.setdefault(name, time.monotonic() - self.start)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.stamp("connected")
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.receive(data)
        except (ValueError, IndexError, zstandard.ZstdError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self.transport.close()

    def receive(self, data: bytes) -> None:
        view = memoryview(data)
        if "head" not in self.times:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.stamp("head")
            head, rest = self.head[:end].lower(), self.head[end + 4 :]
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                self.error = f"HTTP {status}"
            self.chunked = b"transfer-encoding: chunked" in head
            if b"content-encoding: zstd" in head:
                self.decoder = zstandard.ZstdDecompressor().decompressobj()
            view = memoryview(rest)
        if view:
            self.stamp("first")
            self.dechunk(view) if self.chunked else self.body(view)

    def dechunk(self, view: memoryview) -> None:
        while view and self.remaining >= 0:
            if self.remaining > 0:  # inside a chunk: its data, then its CRLF
                if self.remaining > 2:
                    self.body(view[: self.remaining - 2])
                taken = min(len(view), self.remaining)
                self.remaining -= taken
                view = view[taken:]
                continue
            head = bytes(view[:64])  # a chunk-size line is short
            newline = head.find(b"\n")
            if newline < 0:
                if len(head) == 64:
                    raise ValueError("no chunk size line")
                self.size_line += head
                return
            line, self.size_line = self.size_line + head[:newline], b""
            view = view[newline + 1 :]
            size = int(line.strip().split(b";")[0], 16)
            self.remaining = size + 2 if size else -1  # -1: the last chunk came

    def body(self, piece: memoryview) -> None:
        self.check.feed(self.decoder.decompress(piece) if self.decoder else piece)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stamp("ended")
        if exc is not None:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        if not self.done.done():
            self.done.set_result(None)

    def report(self, records: int) -> dict[str, Any]:
        scan = self.check.result()
        error = self.error
        if not error and scan.events.get("error"):
            error = "error event"
        elif not error and not scan.events.get("end"):
            error = "no end event"
        return {**self.times, "complete": scan.complete(records), "error": error}


async def loop_lag(out: list[float], stop: asyncio.Event) -> None:
    """How late each 10 ms sleep of this process's loop woke, in seconds."""
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(TICK)
        out.append(time.monotonic() - before - TICK)


async def run(job: dict[str, Any]) -> dict[str, Any]:
    reference = Reference(Path(job["reference"]).read_bytes()) if job.get("reference") else None
    host, port = job["host"], job["port"]
    request = (
        f"GET {job['path']} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        f"Accept-Encoding: {job['accept']}\r\nConnection: close\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(job["start"] - time.monotonic(), 0))
    lags: list[float] = []
    stop = asyncio.Event()
    lagger = asyncio.create_task(loop_lag(lags, stop))
    viewers = [Viewer(request, reference, job["start"]) for _ in range(job["viewers"])]

    async def one(viewer: Viewer) -> None:
        try:
            await loop.create_connection(lambda: viewer, host, port)
        except OSError as exc:
            viewer.error = f"connect: {exc}"
            viewer.stamp("ended")
            return
        await viewer.done

    tasks = [asyncio.create_task(one(viewer)) for viewer in viewers]
    deadline = job["start"] + job["deadline"]
    while time.monotonic() < deadline and not all(
        "first" in viewer.times or "ended" in viewer.times for viewer in viewers
    ):
        await asyncio.sleep(0.05)
    print(json.dumps({"ready": time.monotonic() - job["start"]}), flush=True)
    _, pending = await asyncio.wait(tasks, timeout=max(deadline - time.monotonic(), 0.1))
    for task in pending:
        task.cancel()
    stop.set()
    await lagger
    reports = [viewer.report(job["records"]) for viewer in viewers]
    for report, task in zip(reports, tasks, strict=True):
        if task in pending:
            report["error"] = "deadline"
    lags.sort()
    quantile = (lambda q: lags[int(q * (len(lags) - 1))]) if lags else (lambda q: 0.0)
    return {"viewers": reports, "lag": [quantile(0.5), quantile(0.95), quantile(1.0)],
            "cpu": time.process_time()}  # fmt: skip


def main() -> None:
    result = uvloop.run(run(json.loads(sys.argv[1])))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
