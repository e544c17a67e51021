"""Asks an external database (TURSO_DATABASE_URL) for `SELECT 1` before anything starts,
so a wrong URL or token is one line that says what to fix, not a failed load run.

It speaks the transport the app will: Hrana over WebSocket for libsql:, wss: and ws: URLs
(what libsql-client opens for them), Hrana over HTTP for https: and http: ones.
"""

from __future__ import annotations

import asyncio
import ssl
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import httpx

from harness.cli import UserError

# Hrana's HTTP endpoints sit under the same host for every URL form the app accepts.
HTTP_SCHEMES = {"libsql": "https", "https": "https", "wss": "https", "http": "http", "ws": "http"}
# The WebSocket each URL form opens: libsql-client takes libsql: for wss:.
WS_SCHEMES = {"libsql": "wss", "wss": "wss", "ws": "ws"}
CHECK_TIMEOUT_S = 5.0
PIPELINE = {"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}]}
# What a Hrana WebSocket client sends after `hello`: a stream, then the statement on it.
WS_REQUESTS = (
    {"type": "open_stream", "stream_id": 1},
    {"type": "execute", "stream_id": 1, "stmt": {"sql": "SELECT 1", "want_rows": True}},
)
FIX_URL = "check TURSO_DATABASE_URL and that the database is running"
FIX_TOKEN = "set TURSO_AUTH_TOKEN to a valid token for it"
FIX_CERT = "set SSL_CERT_FILE to the server's certificate (a PEM file) if it is self-signed"


def hrana_http_url(url: str) -> str:
    """The http(s) base of a libsql:, https:, wss:, http: or ws: database URL."""
    parts = urlsplit(url)
    scheme = HTTP_SCHEMES.get(parts.scheme)
    if scheme is None or not parts.netloc:
        forms = ", ".join(f"{s}://HOST" for s in HTTP_SCHEMES)
        raise UserError(f"TURSO_DATABASE_URL={url!r} is not a database URL; use {forms}")
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def hrana_ws_url(url: str) -> str | None:
    """The ws(s) URL the app opens for `url`; None for an http(s) URL, which stays HTTP."""
    hrana_http_url(url)  # the same refusal for a URL that is no database URL
    parts = urlsplit(url)
    scheme = WS_SCHEMES.get(parts.scheme)
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}" if scheme else None


def url_transport(url: str) -> Literal["ws", "http"]:
    """How the app reaches a database URL: "ws" for libsql:, wss: and ws:, else "http"."""
    return "ws" if hrana_ws_url(url) else "http"


def check_database(url: str, auth_token: str | None) -> None:
    """Raise UserError unless the database at `url` answers a Hrana `SELECT 1`, over the
    WebSocket or HTTP as the app will reach it."""
    ws_url = hrana_ws_url(url)
    if ws_url is None:
        _check_http(url, auth_token)
        return
    # Its own thread and event loop: callers may already run one (chaos does).
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, _check_ws(url, ws_url, auth_token)).result()


def _check_http(url: str, auth_token: str | None) -> None:
    headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else {}
    try:
        response = httpx.post(
            f"{hrana_http_url(url)}/v2/pipeline",
            json=PIPELINE,
            headers=headers,
            timeout=CHECK_TIMEOUT_S,
        )
    except httpx.HTTPError as error:
        raise _unreachable(url, error) from error
    if response.status_code in (401, 403):
        raise UserError(
            f"TURSO_DATABASE_URL={url} refused the credentials (HTTP {response.status_code});"
            f" {FIX_TOKEN}"
        )
    if not response.is_success:
        raise UserError(
            f"TURSO_DATABASE_URL={url} answered HTTP {response.status_code} to a Hrana request;"
            f" {FIX_URL}"
        )


async def _check_ws(url: str, ws_url: str, auth_token: str | None) -> None:
    # Made here, not at import: it reads SSL_CERT_FILE as it is now, as the app's will.
    tls = ssl.create_default_context()
    timeout = aiohttp.ClientWSTimeout(ws_receive=CHECK_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)) as http,
            http.ws_connect(ws_url, protocols=("hrana2",), ssl=tls, timeout=timeout) as socket,
        ):
            await socket.send_json({"type": "hello", "jwt": auth_token})
            hello = await socket.receive_json()
            if hello.get("type") == "hello_error":
                raise UserError(
                    f"TURSO_DATABASE_URL={url} refused the credentials (hello_error:"
                    f" {_said(hello)}); {FIX_TOKEN}"
                )
            for request_id, request in enumerate(WS_REQUESTS):
                await socket.send_json(
                    {"type": "request", "request_id": request_id, "request": request}
                )
                answer = await socket.receive_json()
                if answer.get("type") != "response_ok":
                    raise UserError(
                        f"TURSO_DATABASE_URL={url} answered a Hrana {request['type']} with"
                        f" {_said(answer)}; {FIX_URL}"
                    )
    except aiohttp.ClientConnectorCertificateError as error:
        raise UserError(
            f"TURSO_DATABASE_URL={url}: its TLS certificate is not trusted"
            f" ({error.certificate_error}); {FIX_CERT}"
        ) from error
    except aiohttp.WSServerHandshakeError as error:
        if error.status in (401, 403):
            raise UserError(
                f"TURSO_DATABASE_URL={url} refused the credentials (HTTP {error.status});"
                f" {FIX_TOKEN}"
            ) from error
        raise UserError(
            f"TURSO_DATABASE_URL={url} refused the WebSocket upgrade (HTTP {error.status});"
            f" {FIX_URL}"
        ) from error
    # A socket closed before answering (TypeError: a close where text was due), or garbage.
    except (aiohttp.ClientError, OSError, TimeoutError, TypeError, ValueError) as error:
        raise _unreachable(url, error) from error


def _said(message: dict[str, Any]) -> str:
    """A Hrana error message's own words, or its type when it has none."""
    error = message.get("error") or {}
    return str(error.get("message") or message.get("type") or message)


def _unreachable(url: str, error: BaseException) -> UserError:
    cause = str(error).strip() or type(error).__name__
    return UserError(f"cannot reach TURSO_DATABASE_URL={url} ({cause}); {FIX_URL}")
