"""JSON as stored and served: orjson bytes, and records cut down to the fields a reader wants."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """JSON bytes; non-finite floats become null (orjson's rule)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


loads = orjson.loads

# the bulky top-level keys of a stored record, in their order; the scalars (cost, ...) come first
_BULKY = ("layers", "boundary", "predictions", "signal")
_BULKY_STARTS = tuple(b',"%b":' % key.encode() for key in _BULKY)


def record_fields(raw: bytes, keep: set[str]) -> bytes:
    """The stored record ``raw`` (JSON) cut down to its keys in ``keep``, as JSON.

    When no bulky key is wanted, only the part before the first one is parsed (for a
    cost curve, a few dozen bytes of each record instead of all of it). That head parses
    as a JSON object only when the cut is at the top level; whenever it fails to parse or
    lacks a wanted key, the whole record is parsed.
    """
    if keep.isdisjoint(_BULKY):
        cut = len(raw)
        for start in _BULKY_STARTS:  # each search stops at the earliest cut found so far
            found = raw.find(start, 1, cut)
            cut = found if found > 0 else cut
        if cut < len(raw):
            try:
                head = loads(raw[:cut] + b"}")
            except orjson.JSONDecodeError:
                head = None
            if isinstance(head, dict) and keep <= head.keys():
                return dumps({k: v for k, v in head.items() if k in keep})
    return dumps({k: v for k, v in loads(raw).items() if k in keep})


def now_iso(seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if seconds is None else seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_json(kind: str, message: str) -> bytes:
    return dumps({"type": kind, "message": message})
