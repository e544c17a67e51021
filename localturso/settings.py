"""The server's one settings object: command-line flags over LOCALTURSO_* environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MEMORY_DB = ":memory:"


class Settings(BaseSettings):
    """Everything the server can be told; the defaults mirror sqld where sqld has one."""

    model_config = SettingsConfigDict(env_prefix="LOCALTURSO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    db: str = MEMORY_DB
    # A SecretStr so that the token never shows up in a repr, a validation error or a log line.
    auth_token: SecretStr | None = None
    # A PEM Ed25519 public key, as sqld's --auth-jwt-key-file: EdDSA JWTs signed with its
    # private key are accepted (besides auth_token, when both are set).
    auth_jwt_key_file: str | None = None
    # sqld expires idle HTTP streams after 10 s; tests shorten it instead of sleeping that long.
    stream_expiry_s: float = Field(default=10.0, gt=0)
    # sqld keeps expired streams around for 300 s so that their batons get STREAM_EXPIRED
    # rather than "invalid baton".
    expired_stream_retention_s: float = Field(default=300.0, ge=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_concurrent_requests: int = Field(default=128, ge=1)
    # Seconds in a Retry-After header on 429; sqld sends none, which is the default here too.
    retry_after_s: int | None = Field(default=None, ge=0)
    max_connections: int = Field(default=256, ge=1)
    # Requests a single WebSocket may have in flight before we stop reading from it.
    max_ws_pending_requests: int = Field(default=128, ge=1)
    # WebSocket faults for chaos scenarios (localturso/socket_faults.py); sqld has none of them.
    # Each socket goes silent (half-open), or is closed, this long after its upgrade.
    ws_silent_after_s: float | None = Field(default=None, gt=0)
    ws_close_after_s: float | None = Field(default=None, gt=0)
    # After closing one for its age, upgrades are refused (503, Retry-After) this long.
    ws_refuse_after_close_s: float | None = Field(default=None, gt=0)
    busy_timeout_ms: int = Field(default=5000, ge=0)
    shutdown_timeout_s: float = Field(default=10.0, gt=0)
    log_level: str = "info"
    # PEM files: with both, the server speaks HTTPS/WSS so clients pay TLS handshakes as on Turso.
    tls_cert: str | None = None
    tls_key: str | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both --tls-cert and --tls-key, or neither")
        return self

    @property
    def token(self) -> str | None:
        return self.auth_token.get_secret_value() if self.auth_token else None
