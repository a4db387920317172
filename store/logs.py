"""Structured logs: one JSON object per line, carrying the request id and the job id.

The API sets :data:`REQUEST_ID` per request (api/observability.py), the worker sets
:data:`JOB_ID` while it runs a job (worker/runner.py); every log line written meanwhile in
that context carries them. Fields given as ``extra={...}`` are written too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)

# attributes every LogRecord has: anything else on a record came from ``extra``
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_OURS = "_initlab_handler"  # marks the handlers configure() installed
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


# extras meant for a terminal: uvicorn's colour-coded copy of the message
_TERMINAL_ONLY = frozenset({"color_message"})


# names of the Celery tasks whose task id is their job's id (worker/celery_app.py adds them)
JOB_TASKS: set[str] = set()


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id"?, "job_id"?, extras..., "exc"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, var in (("request_id", REQUEST_ID), ("job_id", JOB_ID)):
            value = getattr(record, name, None) or var.get()
            if value is not None:
                line[name] = value
        task = getattr(record, "data", None)  # Celery's task lines: a job task's id is the job's
        if "job_id" not in line and isinstance(task, dict) and task.get("name") in JOB_TASKS:
            line["job_id"] = task.get("id")
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and key not in _TERMINAL_ONLY:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: str = "INFO", json: bool = True, stream: IO[str] | None = None) -> None:
    """Send the root logger to ``stream`` (stderr), as JSON lines or as text; idempotent.

    Handlers of uvicorn's own loggers (which do not propagate) get the same formatter, so a
    served API writes one format.
    """
    formatter = JsonFormatter() if json else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.access"):
        for other in logging.getLogger(name).handlers:
            other.setFormatter(formatter)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """Log lines written inside carry ``job_id``."""
    token = JOB_ID.set(job_id)
    try:
        yield
    finally:
        JOB_ID.reset(token)
