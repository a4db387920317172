"""Errors as JSON: 422 naming the field, 503 when Redis or the queue is unreachable, 500 with
only a request id for anything unexpected (api/observability.py catches it)."""

from __future__ import annotations

import json
import logging
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

from store import logs

log = logging.getLogger("api.errors")


class ORJSONResponse(JSONResponse):
    """JSON with non-finite floats written as null (orjson's rule), never NaN."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json_text(value: Any, most: int = 200) -> str:
    """Any JSON value as short JSON text for a message: integers past 64 bits too (orjson
    refuses them), cut to ``most`` characters."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = json.dumps(value, default=repr)
    return text if len(text) <= most else text[: most - 3] + "..."


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


def unavailable(what: str, exc: BaseException) -> dict[str, Any]:
    """A 503 body: what is down and the request id; the backend's own message (addresses,
    auth failures) goes to the log only."""
    request_id = logs.REQUEST_ID.get()
    log.warning("%s unavailable: %s: %s", what, type(exc).__name__, exc)
    detail = f"{what} unavailable: retry later (request id {request_id})"
    return {"detail": detail, "request_id": request_id}


async def _store_down(_: Request, exc: Exception) -> JSONResponse:
    return ORJSONResponse(unavailable("job store", exc), status_code=503)


async def _store_full(request: Request, exc: Exception) -> JSONResponse:
    """Redis refused a write (``maxmemory``, ``noeviction``): a 507, never a 500."""
    retry = request.app.state.settings.store_retry_after_seconds
    detail = f"job store full: Redis refused a write ({exc}); retry in {retry} s"
    return ORJSONResponse({"detail": detail}, status_code=507, headers={"Retry-After": str(retry)})


async def _queue_down(_: Request, exc: Exception) -> JSONResponse:
    return ORJSONResponse(unavailable("job queue", exc), status_code=503)


def internal_error(request_id: str) -> ORJSONResponse:
    """The answer to an unexpected error: a JSON 500 with the request id and no internals."""
    detail = f"internal error; the server logged it with request id {request_id}"
    return ORJSONResponse({"detail": detail, "request_id": request_id}, status_code=500)


def add_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(redis.exceptions.ConnectionError, _store_down)
    app.add_exception_handler(redis.exceptions.TimeoutError, _store_down)
    app.add_exception_handler(redis.exceptions.OutOfMemoryError, _store_full)
    app.add_exception_handler(OperationalError, _queue_down)
