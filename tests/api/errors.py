"""Reading a 422: its errors, each exactly ``{loc, msg, type}`` (no input echoed back)."""

from __future__ import annotations

from typing import Any


def detail(response: Any, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["detail"]
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}  # nothing else (no echoed input)
    return errors


def locs(response: Any) -> list[list[Any]]:
    return [error["loc"] for error in detail(response)]
