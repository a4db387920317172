"""Errors as JSON: 422 naming the field, 503 when Redis or the queue is unreachable."""

from __future__ import annotations

from typing import Any

import orjson
import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from kombu.exceptions import OperationalError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response


class ORJSONResponse(JSONResponse):
    """JSON with non-finite floats written as null (orjson's rule), never NaN."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _message(error: Any) -> str:
    msg = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":
        detail = (error.get("ctx") or {}).get("error")
        return f"the body is not valid JSON: {detail}" if detail else "the body is not valid JSON"
    if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):
        return "a JSON body is required (an experiment spec; {} runs every default)"
    if error.get("type") == "model_attributes_type" and tuple(error.get("loc", ())) == ("body",):
        return "the body must be a JSON object sent with Content-Type: application/json"
    return msg


def field_errors(errors: list[Any], prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """pydantic errors as ``{loc, msg, type}``: no ``input`` echoed back."""
    return [
        {"loc": [*prefix, *error.get("loc", ())], "msg": _message(error), "type": error["type"]}
        for error in errors
    ]


def invalid(loc: tuple[str | int, ...], msg: str) -> RequestValidationError:
    """A 422 for a check pydantic cannot express (raise it)."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])


def body_error(exc: ValidationError) -> RequestValidationError:
    """A spec that fails ``engine.spec.resolve`` as a 422 with locations under ``body``."""
    return RequestValidationError(
        [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
    )


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return ORJSONResponse({"detail": field_errors(list(exc.errors()))}, status_code=422)


async def _http(request: Request, exc: Exception) -> Response:
    """FastAPI's own answer, but a body it cannot decode (not UTF-8) is a 422 like bad JSON."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        reason = f"the body is not valid JSON: it is not UTF-8 text ({exc.__cause__.reason})"
        error = {"loc": ["body"], "msg": reason, "type": "json_invalid"}
        return ORJSONResponse({"detail": [error]}, status_code=422)
    return await http_exception_handler(request, exc)


async def _store_down(_: Request, exc: Exception) -> JSONResponse:
    return ORJSONResponse({"detail": f"job store unavailable: {exc}"}, status_code=503)


async def _queue_down(_: Request, exc: Exception) -> JSONResponse:
    return ORJSONResponse({"detail": f"job queue unavailable: {exc}"}, status_code=503)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(redis.exceptions.ConnectionError, _store_down)
    app.add_exception_handler(redis.exceptions.TimeoutError, _store_down)
    app.add_exception_handler(OperationalError, _queue_down)
