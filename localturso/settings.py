"""The server's one settings object: command-line flags over LOCALTURSO_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MEMORY_DB = ":memory:"


class Settings(BaseSettings):
    """Everything the server can be told; the defaults mirror sqld where sqld has one."""

    model_config = SettingsConfigDict(env_prefix="LOCALTURSO_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="The address to listen on.")
    port: int = Field(default=8080, ge=0, le=65535, description="The port to listen on.")
    db: str = Field(default=MEMORY_DB, description="The SQLite file, or `:memory:`.")
    # A SecretStr so that the token never shows up in a repr, a validation error or a log line.
    auth_token: SecretStr | None = Field(
        default=None,
        description="An opaque token clients must send (with or beside the JWT key); prefer"
        " the environment to the flag, which shows in `ps`.",
    )
    auth_jwt_key_file: str | None = Field(
        default=None,
        description="A PEM Ed25519 public key, as sqld's `--auth-jwt-key-file`: EdDSA JWTs"
        " signed with its private key are accepted (signature and `exp` checked).",
    )
    stream_expiry_s: float = Field(
        default=10.0,
        gt=0,
        description="Idle Hrana streams expire after this, as sqld's do after 10 s.",
    )
    expired_stream_retention_s: float = Field(
        default=300.0,
        ge=0,
        description="How long an expired stream's baton still gets `STREAM_EXPIRED` rather"
        ' than "invalid baton" (sqld: 300 s).',
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="The longest request body accepted."
    )
    max_concurrent_requests: int = Field(
        default=128,
        ge=1,
        description="Requests run at once; beyond it HTTP gets 429 with sqld's body, and a"
        " WebSocket opening a stream is dropped whole, as sqld does.",
    )
    retry_after_s: int | None = Field(
        default=None,
        ge=0,
        description="`Retry-After` seconds on 429s and refused upgrades (sqld 0.24 sends none).",
    )
    max_connections: int = Field(default=256, ge=1, description="Open client connections.")
    max_ws_pending_requests: int = Field(
        default=128,
        ge=1,
        description="Requests one WebSocket may have in flight before the server stops reading"
        " from it.",
    )
    # WebSocket faults for chaos scenarios (localturso/socket_faults.py); sqld has none of them.
    ws_silent_after_s: float | None = Field(
        default=None,
        gt=0,
        description="A chaos fault: each WebSocket goes silent (half-open: read, never"
        " answered, never closed) this long after its upgrade.",
    )
    ws_close_after_s: float | None = Field(
        default=None,
        gt=0,
        description="A chaos fault: each WebSocket is closed (1012) this long after its upgrade.",
    )
    ws_refuse_after_close_s: float | None = Field(
        default=None,
        gt=0,
        description="A chaos fault: after closing a WebSocket for its age, upgrades are refused"
        " with 503 (and `Retry-After`) this long.",
    )
    busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="How long a writer waits for SQLite's lock before `SQLITE_BUSY`.",
    )
    shutdown_timeout_s: float = Field(
        default=10.0, gt=0, description="How long a stop waits for requests in flight."
    )
    log_level: str = Field(default="info", description="uvicorn's log level.")
    tls_cert: str | None = Field(
        default=None,
        description="A PEM certificate; with `--tls-key`, the server speaks https and wss, so"
        " clients pay TLS handshakes as on Turso.",
    )
    tls_key: str | None = Field(default=None, description="The certificate's PEM private key.")

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both --tls-cert and --tls-key, or neither")
        return self

    @property
    def token(self) -> str | None:
        return self.auth_token.get_secret_value() if self.auth_token else None
