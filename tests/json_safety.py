"""Finding the floats JSON cannot carry: orjson writes them as null, hiding them."""

import math
import typing


def non_finite(value: object, path: str = "") -> typing.Iterator[str]:
    """Paths of every float in a JSON-like value that is nan or infinite."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from non_finite(item, f"{path}[{index}]")
