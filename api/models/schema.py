"""Markers that api/openapi.py turns into ``$ref``s to schemas pydantic does not emit itself."""

from __future__ import annotations

from typing import Any

REF = "x-initlab-ref"


def refer(name: str) -> dict[str, Any]:
    """``json_schema_extra`` of a field whose schema is the component ``name``."""
    return {REF: name}
