"""Assembles the server: routes, the gate (auth, admission limit), database and stream lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from localturso.admission import Admission
from localturso.auth import Authenticator, load_public_key
from localturso.database import Database
from localturso.errors import ServerError, overloaded, unauthorized
from localturso.http import HttpApi
from localturso.settings import Settings
from localturso.socket_faults import SocketFaults
from localturso.streams import StreamRegistry
from localturso.websocket import serve_websocket

log = logging.getLogger(__name__)

# Readiness checks must work without credentials, as with sqld.
OPEN_PATHS = frozenset({"/health"})


class Gate:
    """In front of every HTTP request: bearer-token auth (401) and the admission limit (429).

    WebSocket upgrades pass, as in sqld; their requests meet the limit in `HranaSocket`.
    """

    def __init__(
        self,
        app: ASGIApp,
        auth: Authenticator,
        admission: Admission,
        retry_after_s: int | None = None,
    ) -> None:
        self._app = app
        self._auth = auth
        self._admission = admission
        self._overloaded_headers = (
            [(b"retry-after", str(retry_after_s).encode())] if retry_after_s is not None else []
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self._app(scope, receive, send)
            return
        error = self._auth_error(scope) if self._auth.required else None
        if error is not None:
            await _send_error(send, error)
            return
        if self._admission.full:
            await _send_error(send, overloaded(), self._overloaded_headers)
            return
        self._admission.enter()
        try:
            await self._app(scope, receive, send)
        finally:
            self._admission.leave()

    def _auth_error(self, scope: Scope) -> ServerError | None:
        """sqld's checks and words: a header, the Bearer scheme (any case), a valid token."""
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if header is None:
            return unauthorized("Expected authorization header but none given")
        scheme, _, credentials = header.strip().partition(b" ")
        if not credentials.strip():
            return unauthorized("Auth string does not conform to '<scheme> <token>' form")
        if scheme.lower() != b"bearer":
            return unauthorized(
                "The authentication scheme in the `Authorization` HTTP header is not supported"
            )
        problem = self._auth.problem(credentials.strip())
        return unauthorized(problem) if problem else None


async def _send_error(
    send: Send, error: ServerError, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = orjson.dumps(error.http_body())
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings) -> ASGIApp:
    """The whole server as one ASGI app; opening the database happens here, closing on shutdown."""
    database = Database(settings.db, settings.busy_timeout_ms, settings.max_connections)
    streams = StreamRegistry(
        database, settings.stream_expiry_s, settings.expired_stream_retention_s
    )
    api = HttpApi(database, streams, settings.max_body_bytes)
    jwt_key = load_public_key(settings.auth_jwt_key_file) if settings.auth_jwt_key_file else None
    auth = Authenticator(settings.token, jwt_key)
    socket_faults = SocketFaults.from_settings(settings)
    admission = Admission(settings.max_concurrent_requests)

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await serve_websocket(
            websocket,
            database,
            auth,
            settings.max_ws_pending_requests,
            admission,
            socket_faults,
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        expiry = asyncio.create_task(streams.run_expiry())
        try:
            yield
        finally:
            expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry
            streams.close()
            await database.close()
            log.info("database closed")

    routes = [
        Route("/health", api.health, methods=["GET"]),
        Route("/version", api.version, methods=["GET"]),
        Route("/v1", api.v1, methods=["GET"]),
        Route("/v2", api.v2, methods=["GET"]),
        Route("/v3", api.v3, methods=["GET"]),
        Route("/v1/execute", api.v1_execute, methods=["POST"]),
        Route("/v1/batch", api.v1_batch, methods=["POST"]),
        Route("/v2/pipeline", api.v2_pipeline, methods=["POST"]),
        Route("/v3/pipeline", api.v3_pipeline, methods=["POST"]),
        Route("/v3/cursor", api.v3_cursor, methods=["POST"]),
        WebSocketRoute("/", websocket_endpoint),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return Gate(app, auth, admission, settings.retry_after_s)
