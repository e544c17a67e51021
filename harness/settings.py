"""The harness's settings, read once from the environment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# How the app reaches the database; each command's --transport (make's TRANSPORT) picks one.
TRANSPORTS = ("ws", "http")
TRANSPORT_HELP = "ws (WebSocket, what libsql:// opens) or http; default TRANSPORT, else ws"


class HarnessSettings(BaseSettings):
    """Where the harness finds its tools and which database it points the app at."""

    model_config = SettingsConfigDict(extra="ignore")

    toxiproxy_url: str | None = Field(
        default=None, description="A running toxiproxy API to use instead of starting one."
    )
    toxiproxy_server: Path = Field(
        default=PROJECT_ROOT / "bin" / "toxiproxy-server",
        description="The toxiproxy-server binary `make setup` builds.",
    )
    turso_database_url: str | None = Field(
        default=None, description="Real Turso or sqld; unset means start the local server."
    )
    turso_auth_token: str | None = Field(
        default=None, description="The token for `TURSO_DATABASE_URL`."
    )
    sqld_bin: Path | None = Field(
        default=None,
        description="A sqld binary (the real Turso server): the stack runs it instead of the"
        " local server, behind the same proxy. Unset means the local server.",
    )
    transport: Literal["ws", "http"] = Field(
        default="ws",
        description="How the app reaches the database: `ws` (WebSocket, wss with TLS), what a"
        " Turso `libsql://` URL opens, or `http` (https with TLS).",
    )
    app_workers: int = Field(
        default=1,
        ge=1,
        description="uvicorn worker processes for the app (APP_WORKERS); the app is told too.",
    )
    redis_server: Path = Field(
        default=Path("/usr/bin/redis-server"),
        description="Debian's redis-server (`make setup` installs it): the app's shared cache.",
    )
    results_dir: Path = Field(
        default=PROJECT_ROOT / "results", description="Where every run's figures and reports go."
    )
    ci: bool = Field(
        default=False,
        description="CI systems set `CI=true`: there a test that cannot run (no Chromium, no"
        " sqld where CI has one) fails instead of being skipped.",
    )
    tls_cert: Path = Field(
        default=PROJECT_ROOT / ".certs" / "localturso.pem",
        description="The local server's certificate for 127.0.0.1 (`make setup` writes it).",
    )
    tls_key: Path = Field(
        default=PROJECT_ROOT / ".certs" / "localturso-key.pem",
        description="Its private key.",
    )

    @field_validator("sqld_bin", mode="before")
    @classmethod
    def _absolute(cls, value: object) -> object:
        # `SQLD_BIN=` (empty) means unset; a relative path is taken from where the command was
        # started and resolved once, so every child process agrees on it.
        if value is None or value == "":
            return None
        return Path(str(value)).expanduser().resolve()


def settings_for(transport: str | None) -> HarnessSettings:
    """The environment's settings, with a command's --transport (when given) over TRANSPORT."""
    return HarnessSettings(transport=transport) if transport else HarnessSettings()


def new_run_id() -> str:
    """A results directory name that sorts by time (UTC)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
