"""Hrana over HTTP as sqld serves it: v1 execute/batch, v2/v3 pipelines, v3 cursor, probes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from localturso import __version__
from localturso.database import Database
from localturso.engine import SqlConnection
from localturso.errors import HranaError, ProtocolError, body_too_large, json_error
from localturso.pipeline import run_cursor, run_pipeline
from localturso.protocol import (
    HRANA1,
    HRANA2,
    HRANA3,
    decode_batch,
    decode_stmt,
    expect_list,
    expect_object,
)
from localturso.streams import StreamRegistry

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]
_NO_SQLS: dict[int, str] = {}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def error_response(error: HranaError) -> Response:
    if isinstance(error, ProtocolError):
        # sqld answers a request it cannot take with its message as plain text.
        return PlainTextResponse(error.message, error.http_status)
    return json_response(error.http_body(), error.http_status)


def answers_errors(endpoint: Endpoint) -> Endpoint:
    """Turn every failure into a JSON error body; nothing below ever reaches the client raw."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except HranaError as exc:
            return error_response(exc)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path)
            return json_response({"message": "Internal server error", "code": "INTERNAL"}, 500)

    return wrapped


def _version_text(text: str) -> Endpoint:
    async def endpoint(_request: Request) -> Response:
        return PlainTextResponse(text)

    return endpoint


async def _empty(_request: Request) -> Response:
    return Response(b"")  # sqld's /health: 200 and no body


class HttpApi:
    """The HTTP endpoints, bound to one database and one registry of HTTP streams."""

    def __init__(self, database: Database, streams: StreamRegistry, max_body_bytes: int) -> None:
        self._database = database
        self._streams = streams
        self._max_body_bytes = max_body_bytes
        self.health = _empty
        self.version = _version_text(f"localturso {__version__} (sqld-compatible Hrana server)")
        self.v1 = _version_text("This is sqld HTTP API v1")
        self.v2 = _version_text("Hello, this is HTTP API v2 (Hrana over HTTP)")
        # sqld's own words for /v3, which name v2.
        self.v3 = _version_text("Hello, this is HTTP API v2 (Hrana over HTTP)")
        self.v1_execute = answers_errors(self._v1_execute)
        self.v1_batch = answers_errors(self._v1_batch)
        self.v2_pipeline = answers_errors(functools.partial(self._pipeline, version=HRANA2))
        self.v3_pipeline = answers_errors(functools.partial(self._pipeline, version=HRANA3))
        self.v3_cursor = answers_errors(self._cursor)

    async def _read_json(self, request: Request) -> dict[str, Any]:
        limit = self._max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise body_too_large(limit)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError as exc:
            raise json_error(str(exc)) from None
        return expect_object(body, "request body")

    async def _v1_execute(self, request: Request) -> Response:
        body = await self._read_json(request)
        stmt = decode_stmt(body.get("stmt"), _NO_SQLS, HRANA1)
        result = await self._database.execute(stmt)
        return json_response({"result": result})

    async def _v1_batch(self, request: Request) -> Response:
        body = await self._read_json(request)
        steps = decode_batch(body.get("batch"), _NO_SQLS, HRANA1)
        result = await self._database.run(SqlConnection.batch, steps)
        return json_response({"result": result})

    def _baton(self, body: dict[str, Any]) -> str | None:
        baton = body.get("baton")
        if baton is not None and type(baton) is not str:
            raise json_error("baton must be a string or null")
        return baton

    async def _pipeline(self, request: Request, version: int) -> Response:
        body = await self._read_json(request)
        baton = self._baton(body)
        requests = expect_list(body.get("requests"), "requests")
        stream = self._streams.acquire(baton)
        try:
            results = await stream.worker.submit(run_pipeline, stream, requests, version)
        except BaseException:
            # As in sqld, a request that fails as a whole takes its stream down with it.
            self._streams.discard(stream)
            raise
        next_baton = self._streams.release(stream)
        return json_response({"baton": next_baton, "base_url": None, "results": results})

    async def _cursor(self, request: Request) -> Response:
        body = await self._read_json(request)
        baton = self._baton(body)
        batch = body.get("batch")
        stream = self._streams.acquire(baton)
        try:
            entries = await stream.worker.submit(run_cursor, stream, batch, HRANA3)
        except BaseException:
            self._streams.discard(stream)
            raise
        head = {"baton": self._streams.release(stream), "base_url": None}
        lines = b"".join(orjson.dumps(item) + b"\n" for item in [head, *entries])
        return Response(lines, media_type="text/plain")
