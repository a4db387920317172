"""Records and parameter snapshots as stored: a small JSON skeleton beside binary arrays.

Every list of numbers that :func:`store.arrays.to_array` can hold exactly leaves the JSON for
one zstd frame of arrays (store/arrays.py), and ``{"$a": i}`` marks its place. Reading joins
them back: a client gets the same JSON bytes the engine's record would have been.

- A record is a stream entry with ``z`` (its skeleton, zstd with a dictionary of the record's
  key names) and, when it has arrays, ``b`` (their frame). :func:`entry_json` reads one, and
  also an entry of the earlier layout (``r``: the whole record as JSON).
- A snapshot is a few fields of the job's params hash: ``{iteration}`` holds the skeleton and
  how many chunks its frame was cut into, ``{iteration}.{k}`` the chunks (at most
  :data:`CHUNK_BYTES` each, so writing a big snapshot never holds two copies in Redis).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import orjson
import zstandard

from engine.stats import json_array
from store.arrays import MIN_LENGTH, Array, pack, to_array, to_list, unpack
from store.codec import dumps, loads

MARK = "$a"
# a chunk and its string header fill a 256 KiB allocation of Redis's allocator exactly: 1 MiB
# chunks took 1.25 MiB each (the next size class), and a smaller chunk keeps the write's
# transient copy (query buffer, script argument) small beside what is stored
CHUNK_BYTES = (1 << 18) - 64
SPLIT_OVER = 4096
LEVEL = 1  # of a skeleton: smaller than level 3 with the dictionary, and faster
# the names every record repeats: as a zstd dictionary, a record's skeleton does not carry them
_NAMES = """iteration epoch cost train_accuracy test_accuracy layers layer units weights biases
preactivations activations weight_grads activation_grads unit_spread mean std min max histogram
range counts boundary x y resolution p label predictions indices labels predicted correct"""
_WORDS = b"".join(b'"%b":' % word.encode() for word in _NAMES.split())
_DICT = zstandard.ZstdCompressionDict(_WORDS, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


_NESTED = (dict, list, np.ndarray)


def split(value: Any, arrays: list[Array]) -> Any:
    """``value`` with its packable lists and arrays moved to ``arrays`` (their places marked);
    an array that is not packed stays as its JSON-safe list."""
    if isinstance(value, dict):
        return {k: split(v, arrays) if isinstance(v, _NESTED) else v for k, v in value.items()}
    if isinstance(value, np.ndarray):
        array = to_array(value)
        if array is None:
            return split(json_array(value), arrays)
        arrays.append(array)
        return {MARK: len(arrays) - 1}
    if not value or isinstance(value[0], dict):
        return [split(v, arrays) for v in value]
    if len(value) < MIN_LENGTH and not isinstance(value[0], list):
        return value  # too short to gain from packing (and holds no list)
    array = to_array(value)
    if array is None:
        return [split(v, arrays) if isinstance(v, _NESTED) else v for v in value]
    arrays.append(array)
    return {MARK: len(arrays) - 1}


def join(value: Any, arrays: list[Array]) -> Any:
    """The inverse of :func:`split`."""
    if isinstance(value, dict):
        if len(value) == 1 and MARK in value:
            return to_list(arrays[value[MARK]])
        return {k: join(v, arrays) if isinstance(v, _NESTED) else v for k, v in value.items()}
    return [join(v, arrays) if isinstance(v, _NESTED) else v for v in value]


_local = threading.local()  # zstd contexts are not thread-safe; loading the dictionary costs


def _compress(skeleton: bytes) -> bytes:
    if not hasattr(_local, "compressor"):
        _local.compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=_DICT)
    return _local.compressor.compress(skeleton)  # type: ignore[no-any-return]


def _decompress(frame: bytes) -> bytes:
    if not hasattr(_local, "decompressor"):
        _local.decompressor = zstandard.ZstdDecompressor(dict_data=_DICT)
    return _local.decompressor.decompress(frame)  # type: ignore[no-any-return]


def _plain_dumps(value: Any) -> bytes:
    """JSON of a value whose arrays are written as their JSON-safe lists would be (orjson's
    own numpy form prints float32 in its shortest form, not as the list's Python floats)."""
    return orjson.dumps(value, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return json_array(value)
    if isinstance(value, np.generic):  # as before arrays came: orjson's numpy form
        return orjson.Fragment(dumps(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pack_record(record: dict[str, Any]) -> tuple[bytes, bytes]:
    """(skeleton frame, arrays frame or b"" when it has none) of a record; its lists may be
    arrays (engine/records.py), packed as the lists they stand for would be, byte for byte."""
    if not any(isinstance(value, dict) for value in record.values()):  # no grid, no batch
        text = _plain_dumps(record)
        if len(text) <= SPLIT_OVER:  # a few short lists: compressed as they are, not walked
            return _compress(text), b""
    arrays: list[Array] = []
    skeleton = dumps(split(record, arrays))
    return _compress(skeleton), pack(arrays) if arrays else b""


def record_json(skeleton: bytes, frame: bytes) -> bytes:
    """The record's JSON from :func:`pack_record`'s two parts."""
    text = _decompress(skeleton)
    return dumps(join(loads(text), unpack(frame))) if frame else text


def entry_json(fields: dict[bytes, bytes]) -> bytes:
    """The JSON of a stored stream entry (this layout, or the earlier ``r``)."""
    if b"z" in fields:
        return record_json(fields[b"z"], fields.get(b"b", b""))
    return fields[b"r"]


def entry_scalars(fields: dict[bytes, bytes]) -> bytes:
    """The JSON of a stored entry with its arrays left as marks: enough, and cheaper, for
    reading its scalars (cost, accuracies)."""
    return _decompress(fields[b"z"]) if b"z" in fields else fields[b"r"]


def pack_snapshot(iteration: int, snapshot: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The params-hash fields of a snapshot: its chunks, then its header (written last, so a
    reader that finds the header finds every chunk)."""
    arrays: list[Array] = []
    skeleton = split(snapshot, arrays)
    frame = pack(arrays) if arrays else b""
    chunks = [frame[at : at + CHUNK_BYTES] for at in range(0, len(frame), CHUNK_BYTES)]
    fields = [(f"{iteration}.{k}", chunk) for k, chunk in enumerate(chunks)]
    return [*fields, (str(iteration), dumps({"chunks": len(chunks), "skeleton": skeleton}))]


def snapshot_chunks(header: bytes) -> int:
    """How many chunk fields a header's snapshot has (0 for one of the earlier layout)."""
    parsed = loads(header)
    return int(parsed["chunks"]) if isinstance(parsed, dict) and "chunks" in parsed else 0


def snapshot_json(header: bytes, chunks: list[bytes]) -> bytes:
    """The snapshot's JSON from its header and chunks (an earlier layout's JSON as is)."""
    parsed = loads(header)
    if not (isinstance(parsed, dict) and "skeleton" in parsed):
        return header
    arrays = unpack(b"".join(chunks)) if chunks else []
    return dumps(join(parsed["skeleton"], arrays))


def is_snapshot_field(name: bytes | str) -> bool:
    """A header field (``{iteration}``), not a chunk (``{iteration}.{k}``)."""
    text = name.decode() if isinstance(name, bytes) else name
    return text.isdigit()
