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
        default=AppMode.HARDENED, validation_alias=AliasChoices("APP_MODE", "mode")
    )
    # The guide calls it TURSO_CONNECTION_URL; Turso's own docs say TURSO_DATABASE_URL.
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TURSO_DATABASE_URL", "TURSO_CONNECTION_URL", "database_url"),
    )
    auth_token: str | None = Field(
        default=None, validation_alias=AliasChoices("TURSO_AUTH_TOKEN", "auth_token")
    )
    # A file holding the token (a secret mount): read at start, over TURSO_AUTH_TOKEN, and
    # re-read when the database rejects the token, so a rotated token is picked up by itself.
    auth_token_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("TURSO_AUTH_TOKEN_FILE", "auth_token_file")
    )
    embedded_db_path: str = DEFAULT_EMBEDDED_DB_PATH
    # A longer request body is refused with 413 before it is read (or as soon as it passes this).
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)

    timeouts_enabled: bool = True
    request_deadline_ms: int = Field(
        default=DEFAULT_REQUEST_DEADLINE_MS, gt=0, le=MAX_REQUEST_DEADLINE_MS
    )
    db_attempt_timeout_ms: int = Field(default=DEFAULT_DB_ATTEMPT_TIMEOUT_MS, gt=0)
    readiness_timeout_ms: int = Field(default=DEFAULT_READINESS_TIMEOUT_MS, gt=0)
    startup_timeout_ms: int = Field(default=DEFAULT_STARTUP_TIMEOUT_MS, gt=0)

    retry_enabled: bool = True
    retry_max_attempts: int = Field(default=DEFAULT_RETRY_MAX_ATTEMPTS, ge=1)
    retry_base_delay_ms: int = Field(default=DEFAULT_RETRY_BASE_DELAY_MS, ge=0)
    retry_max_delay_ms: int = Field(default=DEFAULT_RETRY_MAX_DELAY_MS, ge=0)

    breaker_enabled: bool = True
    breaker_failure_threshold: int = Field(default=DEFAULT_BREAKER_FAILURE_THRESHOLD, ge=1)
    breaker_cooldown_ms: int = Field(default=DEFAULT_BREAKER_COOLDOWN_MS, gt=0)

    limiter_enabled: bool = True
    db_max_concurrency: int = Field(default=DEFAULT_DB_MAX_CONCURRENCY, ge=1)

    batch_enabled: bool = True
    batch_window_ms: float = Field(default=DEFAULT_BATCH_WINDOW_MS, ge=0)
    batch_max_size: int = Field(default=DEFAULT_BATCH_MAX_SIZE, ge=1, le=MAX_BATCH_SIZE)

    cache_enabled: bool = True
    cache_ttl_ms: int = Field(default=DEFAULT_CACHE_TTL_MS, gt=0)
    cache_max_entries: int = Field(default=DEFAULT_CACHE_MAX_ENTRIES, ge=1)
    cache_backend: CacheBackend = CacheBackend.AUTO
    # The shared cache; the app never needs it to answer (an outage only costs cache hits).
    redis_url: str | None = None
    redis_timeout_ms: int = Field(default=DEFAULT_REDIS_TIMEOUT_MS, gt=0)
    # An embedded replica file for GET /posts/{id} (the primary must be sqld or Turso).
    replica_path: str | None = None
    replica_sync_interval_ms: int = Field(default=DEFAULT_REPLICA_SYNC_INTERVAL_MS, gt=0)
    # prometheus_client's multiprocess directory: /metrics then sums every worker's values.
    prometheus_multiproc_dir: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"),
    )
    # How many processes serve this app, every worker of every server. Unset means unknown:
    # a server's own --workers flag never reaches the app, so only 1, said here, lets `auto`
    # keep a per-process cache. The harness sets it.
    workers: int | None = Field(default=None, ge=1)

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
