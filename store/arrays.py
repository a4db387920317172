"""Binary arrays in the store: a JSON list of numbers in, the same JSON list out.

:func:`to_array` turns a list (nested lists of equal length: a grid, a weight matrix) into an
:class:`Array` only when the binary form gives back exactly the same JSON values; anything else
stays JSON (``None``). :func:`pack` writes several as one zstd frame, :func:`unpack` reads them.

Kinds, chosen per list from its values (every one exact):

- ``m``: milli-units, uint16 = round(1000 x), 65535 for ``null``: values on a 1e-3 grid in
  [0, 65.534]; ``n`` the same for float32 values (the float32 nearest to a 1e-3 step), e.g.
  the boundary probabilities a float32 network's engine rounds to 3 decimals. Stored as
  zigzagged differences from the left (and upper) neighbour: a smooth grid is mostly zeros;
- ``f``: float32 (``null`` as NaN): parameters and histograms of a float32 network;
- ``d``: float64 (``null`` as NaN), the fallback of a float list;
- ``?``: booleans, one byte each; ``B``, ``H``, ``I``, ``q``: integers in the smallest of
  uint8, uint16, uint32, int64 that holds them (histogram counts, labels, indices).

Float bytes are shuffled (every value's first byte, then every second byte, ...) before zstd:
the sign and exponent bytes of neighbouring values repeat, and compress far better together.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import zstandard
from numpy.typing import NDArray

MIN_LENGTH = 16  # shorter lists stay JSON: their header would cost more than it saves
MILLI_NULL = 65535
LEVEL = 3  # zstd level: within a few % of level 9's size here, at several times the speed
_INTS = (np.uint8, np.uint16, np.uint32)
_INT_RANGES = [(dtype, int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)) for dtype in _INTS]
_SHUFFLED = {"f": np.float32, "d": np.float64}
_MILLI = ("m", "n")
_PLAIN = {"m": np.uint16, "n": np.uint16, "?": np.bool_, "B": np.uint8, "H": np.uint16,
          "I": np.uint32, "q": np.int64}  # fmt: skip
_HEADER = struct.Struct("<cB")  # kind, ndim; then ndim uint32 sizes


@dataclass(frozen=True)
class Array:
    kind: str
    values: NDArray[Any]


def to_array(value: list[Any] | NDArray[Any]) -> Array | None:
    """``value`` as an exact binary array, or None to keep it as JSON.

    The lists are taken to be homogeneous, as ``ndarray.tolist()`` makes them: a list mixing
    ints with floats would come back with floats only. An ndarray stands for its JSON-safe
    list (``engine.stats.json_array``: non-finite numbers as ``null``) and gives the very
    ``Array`` that list would, without building it.
    """
    if isinstance(value, np.ndarray):
        raw = value
        if raw.dtype.kind == "f" and raw.size >= MIN_LENGTH:
            raw = raw.astype(np.float64)  # what the list's Python floats would give
            bad = ~np.isfinite(raw)
            if bad.any():  # the list's nulls, stored as the NaN that None gives (sign, payload)
                raw[bad] = np.nan
    else:
        try:
            raw = np.asarray(value)
        except ValueError:  # ragged
            return None
    if raw.size < MIN_LENGTH or raw.ndim > 4:
        return None
    if raw.dtype == np.bool_:
        return Array("?", raw)
    if raw.dtype.kind in "iu":
        low, high = raw.min(), raw.max()
        for dtype, least, most in _INT_RANGES:
            if low >= least and high <= most:
                return Array(np.dtype(dtype).char, raw.astype(dtype))
        return Array("q", raw.astype(np.int64))
    if raw.dtype.kind not in "fO":
        return None
    if raw.dtype == object:  # floats with nulls; anything else (strings, ints) stays JSON
        if not all(isinstance(v, float) or v is None for v in raw.flat):
            return None
        raw = raw.astype(np.float64)  # None -> NaN
    return _floats(raw)


def _floats(x: NDArray[np.float64]) -> Array:
    """The exact kind of a float64 array with NaN for ``null``; a boundary grid of 10,201
    values comes here once per recorded iteration, so each check is one pass, unmasked when
    there is no null."""
    nulls = np.isnan(x)
    has_nulls = bool(nulls.any())
    with np.errstate(invalid="ignore", over="ignore"):
        milli = np.multiply(x, 1000)
        np.rint(milli, out=milli)  # what np.round(x * 1000) gives
        if has_nulls:
            milli[nulls] = 0
        negative = np.signbit(x)  # -0.0 would come back as 0.0: a list with one is not milli
        if has_nulls:
            negative &= ~nulls
        if milli.min() >= 0 and milli.max() < MILLI_NULL and not negative.any():
            stored = milli.astype(np.uint16)
            if has_nulls:
                stored[nulls] = MILLI_NULL
            back = np.divide(milli, 1000, out=milli)
            if _equal_or_null(back, x, nulls, has_nulls):
                return Array("m", stored)
            if _equal_or_null(back.astype(np.float32), x, nulls, has_nulls):
                return Array("n", stored)
    with np.errstate(over="ignore"):
        single = x.astype(np.float32)
    if np.array_equal(single, x, equal_nan=True):
        return Array("f", single)
    return Array("d", x)


def _equal_or_null(
    a: NDArray[Any], b: NDArray[Any], nulls: NDArray[np.bool_], has_nulls: bool
) -> bool:
    equal = np.equal(a, b)
    if has_nulls:
        equal |= nulls
    return bool(equal.all())


def to_list(array: Array) -> list[Any]:
    """The JSON list ``array`` came from (``null`` where it had one)."""
    kind, values = array.kind, array.values
    if kind in _MILLI:
        nulls = values == MILLI_NULL
        floats = values / 1000 if kind == "m" else (values / 1000).astype(np.float32)
        return _with_nulls(floats, nulls) if nulls.any() else floats.tolist()  # type: ignore[no-any-return]
    if kind in _SHUFFLED:
        nulls = np.isnan(values)
        return _with_nulls(values, nulls) if nulls.any() else values.tolist()  # type: ignore[no-any-return]
    return values.tolist()  # type: ignore[no-any-return]


def _with_nulls(values: NDArray[Any], nulls: NDArray[np.bool_]) -> list[Any]:
    safe = values.astype(object)
    safe[nulls] = None
    return safe.tolist()  # type: ignore[no-any-return]


_local = threading.local()


def _contexts() -> threading.local:
    """This thread's zstd contexts (they are not thread-safe): making a new one per frame took
    longer than compressing a boundary grid with it."""
    if not hasattr(_local, "compressor"):
        _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
        _local.decompressor = zstandard.ZstdDecompressor()
    return _local


def pack(arrays: list[Array]) -> bytes:
    """Several arrays as one zstd frame."""
    parts: list[bytes] = []
    for array in arrays:
        values = np.ascontiguousarray(array.values)
        parts += [_HEADER.pack(array.kind.encode(), values.ndim)]
        parts += [struct.pack(f"<{values.ndim}I", *values.shape)]
        if array.kind in _MILLI:
            values = _delta(values)
        if array.kind in _SHUFFLED or array.kind in _MILLI:  # byte planes: all first bytes, ...
            planes = values.view(np.uint8).reshape(-1, values.itemsize).T
            parts.append(np.ascontiguousarray(planes).tobytes())
        else:
            parts.append(values.tobytes())
    return _contexts().compressor.compress(b"".join(parts))


def unpack(frame: bytes) -> list[Array]:
    """The arrays :func:`pack` wrote, in order."""
    data = memoryview(_contexts().decompressor.decompress(frame))
    arrays, at = [], 0
    while at < len(data):
        kind_byte, ndim = _HEADER.unpack_from(data, at)
        at += _HEADER.size
        shape = struct.unpack_from(f"<{ndim}I", data, at)
        at += 4 * ndim
        kind = kind_byte.decode()
        dtype = np.dtype(_SHUFFLED.get(kind) or _PLAIN[kind])
        count = int(np.prod(shape))
        size = count * dtype.itemsize
        raw = np.frombuffer(data[at : at + size], dtype=np.uint8)
        at += size
        if kind in _SHUFFLED or kind in _MILLI:
            raw = np.ascontiguousarray(raw.reshape(dtype.itemsize, count).T)
        values = raw.view(dtype).reshape(shape)
        arrays.append(Array(kind, _undelta(values) if kind in _MILLI else values))
    return arrays


def _delta(values: NDArray[np.uint16]) -> NDArray[np.uint16]:
    """Differences along every axis, mod 2^16 (uint16 arithmetic wraps), zigzagged: a small
    step down is a small number too (-1 -> 1, 1 -> 2), so their high bytes are zero."""
    for axis in range(values.ndim):
        values = np.diff(values, axis=axis, prepend=np.zeros_like(values.take([0], axis=axis)))
    signed = values.view(np.int16)
    return ((signed << 1) ^ (signed >> 15)).view(np.uint16)


def _undelta(zigzag: NDArray[np.uint16]) -> NDArray[np.uint16]:
    sign = (zigzag & 1) * np.uint16(0xFFFF)  # all ones where the difference was negative
    values = ((zigzag >> 1) ^ sign).astype(np.uint16)
    for axis in reversed(range(values.ndim)):
        values = np.cumsum(values, axis=axis, dtype=np.uint16)
    return values
