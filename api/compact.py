"""The opt-in compact encoding (``?encoding=compact``): big numeric arrays as base64 binary.

Every array of at least ``MIN_VALUES`` numbers (a list, or a list of equal-length lists) becomes
``{"dtype": "float32" | "int32", "shape": [...], "base64": ...}``: little-endian values, row
by row, NaN where the JSON form has null. Integers stay exact (int32), other numbers are
rounded to float32 (the precision they are computed in). Everything else is unchanged.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import Query

MIN_VALUES = 16
INT32 = np.iinfo(np.int32)

ENCODING_DOC = (
    "`json` (default): numbers as JSON numbers. `compact`: every array of 16 or more numbers "
    "(a list, or a list of equal-length lists: boundary grids, weights, histogram counts) as "
    '`{"dtype": "float32" | "int32", "shape": [...], "base64": ...}`, little-endian values row '
    "by row, NaN where JSON has null; decode with e.g. "
    "`numpy.frombuffer(base64.b64decode(v['base64']), '<f4').reshape(v['shape'])`."
)
Encoding = Literal["json", "compact"]
EncodingQuery = Annotated[Encoding, Query(description=ENCODING_DOC)]


def _numbers(values: list[Any]) -> bool:
    return all(v is None or (type(v) in (int, float)) for v in values)


def _grid(value: list[Any]) -> np.ndarray | None:
    """``value`` as an array when it is a numeric list or a grid of them, else None."""
    if not value:
        return None
    if isinstance(value[0], list):
        width = len(value[0])
        if width == 0 or not all(isinstance(row, list) and len(row) == width for row in value):
            return None
        if not all(_numbers(row) for row in value):
            return None
        rows = [[np.nan if v is None else v for v in row] for row in value]
        return np.asarray(rows)
    if not _numbers(value):
        return None
    return np.asarray([np.nan if v is None else v for v in value])


def _pack(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _pack(item) for key, item in value.items()}
    if not isinstance(value, list):
        return value
    wide = len(value[0]) if value and isinstance(value[0], list) else 1
    array = _grid(value) if len(value) * wide >= MIN_VALUES else None
    if array is None:
        return [_pack(item) for item in value]
    exact = array.dtype.kind in "iu" and INT32.min <= array.min() and array.max() <= INT32.max
    packed = array.astype("<i4" if exact else "<f4")
    return {
        "dtype": "int32" if exact else "float32",
        "shape": list(packed.shape),
        "base64": base64.b64encode(packed.tobytes()).decode(),
    }


def compact(raw: bytes) -> bytes:
    """A JSON document with its big numeric arrays in the compact form."""
    return orjson.dumps(_pack(orjson.loads(raw)))


def unpack(value: dict[str, Any]) -> np.ndarray:
    """The array of one compact value (for clients and tests)."""
    dtype = "<i4" if value["dtype"] == "int32" else "<f4"
    return np.frombuffer(base64.b64decode(value["base64"]), dtype).reshape(value["shape"])
