"""Integers in query strings and headers, read one way only.

pydantic reads ``"007"``, ``"+5"``, ``" 5"``, ``"1_000"`` and ``"5.0"`` as integers, so one
value had many spellings (and many cache keys). :data:`Count` takes ASCII digits with no sign
and no leading zero (``0`` itself aside), at most 18 of them; anything else is a 422 that
says so. Bounds (``ge``, ``le``) go on the ``Query`` or ``Header`` as before.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

CANONICAL = re.compile(r"0|[1-9][0-9]{0,17}")


def _canonical(value: object) -> object:
    if isinstance(value, str) and not CANONICAL.fullmatch(value):
        raise ValueError(
            "must be a whole number in ASCII digits, with no sign, spaces or leading zeros"
        )
    return value


Count = Annotated[int, BeforeValidator(_canonical)]
