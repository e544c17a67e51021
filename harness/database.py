"""Asks an external database (TURSO_DATABASE_URL) for `SELECT 1` before anything starts,
so a wrong URL or token is one line that says what to fix, not a failed load run."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from harness.cli import UserError

# Hrana's HTTP endpoints sit under the same host for every URL form the app accepts.
HTTP_SCHEMES = {"libsql": "https", "https": "https", "wss": "https", "http": "http", "ws": "http"}
CHECK_TIMEOUT_S = 5.0
PIPELINE = {"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}]}
FIX_URL = "check TURSO_DATABASE_URL and that the database is running"


def hrana_http_url(url: str) -> str:
    """The http(s) base of a libsql:, https:, wss:, http: or ws: database URL."""
    parts = urlsplit(url)
    scheme = HTTP_SCHEMES.get(parts.scheme)
    if scheme is None or not parts.netloc:
        forms = ", ".join(f"{s}://HOST" for s in HTTP_SCHEMES)
        raise UserError(f"TURSO_DATABASE_URL={url!r} is not a database URL; use {forms}")
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def check_database(url: str, auth_token: str | None) -> None:
    """Raise UserError unless the database at `url` answers a Hrana `SELECT 1`."""
    base = hrana_http_url(url)
    headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
    try:
        response = httpx.post(
            f"{base}/v2/pipeline", json=PIPELINE, headers=headers, timeout=CHECK_TIMEOUT_S
        )
    except httpx.HTTPError as error:
        cause = str(error).strip() or type(error).__name__
        raise UserError(f"cannot reach TURSO_DATABASE_URL={url} ({cause}); {FIX_URL}") from error
    if response.status_code in (401, 403):
        raise UserError(
            f"TURSO_DATABASE_URL={url} refused the credentials (HTTP {response.status_code});"
            " set TURSO_AUTH_TOKEN to a valid token for it"
        )
    if not response.is_success:
        raise UserError(
            f"TURSO_DATABASE_URL={url} answered HTTP {response.status_code} to a Hrana request;"
            f" {FIX_URL}"
        )
