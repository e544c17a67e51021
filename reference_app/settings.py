"""The app's one settings object, read from the environment and validated once at start."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reference_app.domain import UPDATE_KEYS_KEPT_S
from reference_app.resilience import retry


class CacheBackend(StrEnum):
    """Where GET /posts/{id} is cached; `auto` picks the one that stays correct."""

    AUTO = "auto"  # redis if APP_REDIS_URL is set; else per process if APP_WORKERS=1; else off
    PROCESS = "process"  # per process whatever APP_WORKERS says: stale reads across workers
    REDIS = "redis"  # shared by every worker; needs APP_REDIS_URL


class AppMode(StrEnum):
    """`naive` is the guide's pattern; `hardened` adds every resilience feature."""

    HARDENED = "hardened"
    NAIVE = "naive"


DEFAULT_EMBEDDED_DB_PATH = "reference_app.db"
# The largest valid request, `POST /posts/batch` with 500 posts at every field's maximum, is
# 61.2 MB when every character is outside the BMP (an emoji) and `json.dumps` writes each as
# a surrogate pair of `\uXXXX` escapes, 12 bytes: the widest a character can be sent. It fits
# with ~9% to spare; a 100 MB body does not.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_REQUEST_DEADLINE_MS = 2_000
# An update's retries must end well before its request key is forgotten.
MAX_REQUEST_DEADLINE_MS = UPDATE_KEYS_KEPT_S * 1000 // 2
DEFAULT_DB_ATTEMPT_TIMEOUT_MS = 500
DEFAULT_READINESS_TIMEOUT_MS = 500
DEFAULT_STARTUP_TIMEOUT_MS = 10_000
# The retry policy's own defaults, so they are named once (in resilience.retry).
DEFAULT_RETRY_MAX_ATTEMPTS = retry.DEFAULT_MAX_ATTEMPTS
DEFAULT_RETRY_BASE_DELAY_MS = round(retry.DEFAULT_BASE_DELAY_S * 1000)
DEFAULT_RETRY_MAX_DELAY_MS = round(retry.DEFAULT_MAX_DELAY_S * 1000)
DEFAULT_BREAKER_FAILURE_THRESHOLD = 5
DEFAULT_BREAKER_COOLDOWN_MS = 1_000
DEFAULT_DB_MAX_CONCURRENCY = 32
DEFAULT_BATCH_WINDOW_MS = 2.0
DEFAULT_BATCH_MAX_SIZE = 64
DEFAULT_CACHE_TTL_MS = 5_000
DEFAULT_CACHE_MAX_ENTRIES = 10_000
DEFAULT_REDIS_TIMEOUT_MS = 100
DEFAULT_REPLICA_SYNC_INTERVAL_MS = 100
MAX_BATCH_SIZE = 500


class Settings(BaseSettings):
    """Every knob of the reference app; env names are `APP_<FIELD>` unless aliased."""

    model_config = SettingsConfigDict(
        env_prefix="APP_", extra="ignore", frozen=True, populate_by_name=True
    )

    mode: AppMode = Field(
        default=AppMode.HARDENED,
        validation_alias=AliasChoices("APP_MODE", "mode"),
        description="`naive` is the guide's pattern: a new client per request, nothing around"
        " it, database errors not mapped, `Idempotency-Key` and `If-Match` ignored.",
    )
    # The guide calls it TURSO_CONNECTION_URL; Turso's own docs say TURSO_DATABASE_URL.
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TURSO_DATABASE_URL", "TURSO_CONNECTION_URL", "database_url"),
        description="A `libsql:`, `https:`, `http:`, `wss:`, `ws:` or `file:` URL; unset means"
        " the embedded file `APP_EMBEDDED_DB_PATH`.",
    )
    auth_token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TURSO_AUTH_TOKEN", "auth_token"),
        description="The database token (a Turso JWT).",
    )
    auth_token_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("TURSO_AUTH_TOKEN_FILE", "auth_token_file"),
        description="A file holding the token (a secret mount): read at start, over"
        " `TURSO_AUTH_TOKEN`, and re-read when the database refuses the token, so a rotated"
        " token is picked up with no restart (the naive app and the replica read it at start).",
    )
    embedded_db_path: str = Field(
        default=DEFAULT_EMBEDDED_DB_PATH,
        description="The embedded database file used when no URL is set.",
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        gt=0,
        description="The longest request body; a longer one is a 413 before it is read (or as"
        " soon as it passes this, sent chunked). The largest valid one, a batch of 500 posts"
        " at every field's maximum, is 61.2 MB even with every character an emoji that"
        " `json.dumps` escapes to 12 bytes.",
    )

    timeouts_enabled: bool = Field(
        default=True, description="The request deadline (504) and the per-attempt DB timeout."
    )
    request_deadline_ms: int = Field(
        default=DEFAULT_REQUEST_DEADLINE_MS,
        gt=0,
        le=MAX_REQUEST_DEADLINE_MS,
        description="The whole request's budget, retries and queueing included; then 504.",
    )
    db_attempt_timeout_ms: int = Field(
        default=DEFAULT_DB_ATTEMPT_TIMEOUT_MS,
        gt=0,
        description="One database attempt's budget, never more than what is left of the deadline.",
    )
    readiness_timeout_ms: int = Field(
        default=DEFAULT_READINESS_TIMEOUT_MS,
        gt=0,
        description="The deadline of `/readyz`'s `SELECT 1`.",
    )
    startup_timeout_ms: int = Field(
        default=DEFAULT_STARTUP_TIMEOUT_MS,
        gt=0,
        description="The deadline for creating the schema at start.",
    )

    retry_enabled: bool = Field(default=True, description="Retry transient database faults.")
    retry_max_attempts: int = Field(
        default=DEFAULT_RETRY_MAX_ATTEMPTS, ge=1, description="Attempts, the first included."
    )
    retry_base_delay_ms: int = Field(
        default=DEFAULT_RETRY_BASE_DELAY_MS,
        ge=0,
        description="The backoff window starts here and doubles up to `APP_RETRY_MAX_DELAY_MS`;"
        " the wait is random within it (full jitter).",
    )
    retry_max_delay_ms: int = Field(
        default=DEFAULT_RETRY_MAX_DELAY_MS, ge=0, description="The backoff window's ceiling."
    )

    breaker_enabled: bool = Field(default=True, description="The circuit breaker.")
    breaker_failure_threshold: int = Field(
        default=DEFAULT_BREAKER_FAILURE_THRESHOLD,
        ge=1,
        description="Consecutive transient failures that open the breaker. Over ws, the calls"
        " one dropped or silent socket takes down count once; if its fresh replacement times"
        " out too before answering, the silent socket's timeouts count after all (a blackhole"
        " opens it within one deadline).",
    )
    breaker_cooldown_ms: int = Field(
        default=DEFAULT_BREAKER_COOLDOWN_MS,
        gt=0,
        description="How long an open breaker fails fast before one probe is let through.",
    )

    limiter_enabled: bool = Field(default=True, description="A bound on concurrent DB calls.")
    db_max_concurrency: int = Field(
        default=DEFAULT_DB_MAX_CONCURRENCY,
        ge=1,
        description="DB slots; callers wait within their deadline, then 503. The server's"
        " signs of overload, a 429 (http) or a dropped WebSocket, halve them, once for calls in"
        " flight together; they grow back by one per 250 ms in which calls queued"
        " (`app_db_slots_limit` in `/metrics`).",
    )

    batch_enabled: bool = Field(default=True, description="Batch concurrent single creates.")
    batch_window_ms: float = Field(
        default=DEFAULT_BATCH_WINDOW_MS,
        ge=0,
        description="How long a create waits for others to share its round trip.",
    )
    batch_max_size: int = Field(
        default=DEFAULT_BATCH_MAX_SIZE,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="The most creates in one batch.",
    )

    cache_enabled: bool = Field(default=True, description="The read cache of `GET /posts/{id}`.")
    cache_ttl_ms: int = Field(
        default=DEFAULT_CACHE_TTL_MS, gt=0, description="How long a cached post is served."
    )
    cache_max_entries: int = Field(
        default=DEFAULT_CACHE_MAX_ENTRIES,
        ge=1,
        description="The per-process cache's size bound.",
    )
    cache_backend: CacheBackend = Field(
        default=CacheBackend.AUTO,
        description="`auto`: Redis when `APP_REDIS_URL` is set, else per process only with"
        " `APP_WORKERS=1`, else off (said at start); `process`: per process whatever the worker"
        " count (stale reads across workers, to show them); `redis`: needs `APP_REDIS_URL`.",
    )
    redis_url: str | None = Field(
        default=None,
        description="The shared cache, e.g. `redis://127.0.0.1:6379/0`; the app never needs it"
        " to answer (an outage only costs cache hits).",
    )
    redis_timeout_ms: int = Field(
        default=DEFAULT_REDIS_TIMEOUT_MS,
        gt=0,
        description="The bound on every Redis call; past it the request reads the database.",
    )
    replica_path: str | None = Field(
        default=None,
        description="An embedded replica file: `GET /posts/{id}` reads it instead of the"
        " database (the primary must be sqld or Turso).",
    )
    replica_sync_interval_ms: int = Field(
        default=DEFAULT_REPLICA_SYNC_INTERVAL_MS,
        gt=0,
        description="How often the replica pulls from the primary.",
    )
    prometheus_multiproc_dir: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"),
        description="prometheus_client's multiprocess directory: `/metrics` then sums every"
        " worker's values (the harness sets it).",
    )
    # A server's own --workers flag never reaches the app, so only 1, said here, lets `auto`
    # keep a per-process cache.
    workers: int | None = Field(
        default=None,
        ge=1,
        description="How many processes serve this app, every worker of every server; unset"
        " means unknown, and only `1` allows the per-process cache. The harness sets it.",
    )

    @model_validator(mode="after")
    def _check_backoff(self) -> Settings:
        if self.retry_base_delay_ms > self.retry_max_delay_ms:
            raise ValueError("APP_RETRY_BASE_DELAY_MS must not exceed APP_RETRY_MAX_DELAY_MS")
        return self

    @model_validator(mode="after")
    def _check_cache(self) -> Settings:
        if self.cache_backend is CacheBackend.REDIS and not self.redis_url:
            raise ValueError("APP_CACHE_BACKEND=redis needs APP_REDIS_URL")
        return self

    @property
    def naive(self) -> bool:
        return self.mode is AppMode.NAIVE

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or an embedded file so the app runs with no server at all."""
        return self.database_url or f"file:{self.embedded_db_path}"
