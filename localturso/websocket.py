"""Hrana over WebSocket (hrana1/2/3, JSON): hello, streams multiplexed on one socket, responses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from localturso.admission import Admission
from localturso.auth import JWT_EXPIRED, Authenticator
from localturso.database import Database, Worker
from localturso.engine import SqlConnection
from localturso.errors import (
    WS_CLOSE_UNSUPPORTED,
    HranaError,
    ProtocolError,
    StmtError,
    json_error,
    not_supported,
)
from localturso.protocol import (
    HRANA1,
    HRANA2,
    HRANA3,
    BatchStep,
    Stmt,
    decode_batch,
    decode_sql,
    decode_stmt,
    expect_int32,
    request_type,
)
from localturso.socket_faults import WS_CLOSE_SERVICE_RESTART, SocketFaults

log = logging.getLogger(__name__)

SUBPROTOCOLS = {"hrana3": HRANA3, "hrana2": HRANA2, "hrana1": HRANA1}
MAX_STORED_SQLS = 50
WS_CLOSE_NORMAL = 1000
WS_CLOSE_INTERNAL = 1011
GOODBYE = "Thank you for using localturso"


class Overloaded(Exception):
    """A stream was to be opened while the server is at its admission limit."""


@dataclass(eq=False)
class WsStream:
    """A stream opened on a WebSocket; `worker` is None when it failed to open."""

    worker: Worker | None
    cursor_id: int | None = None
    cursor: deque[dict[str, Any]] = field(default_factory=deque)


# Jobs run on a stream's own thread; each returns the Hrana response object.
def _execute(connection: SqlConnection, stmt: Stmt) -> dict[str, Any]:
    return {"type": "execute", "result": connection.execute(stmt)}


def _batch(connection: SqlConnection, steps: list[BatchStep]) -> dict[str, Any]:
    return {"type": "batch", "result": connection.batch(steps)}


def _sequence(connection: SqlConnection, sql: str) -> dict[str, Any]:
    connection.sequence(sql)
    return {"type": "sequence"}


def _describe(connection: SqlConnection, sql: str) -> dict[str, Any]:
    return {"type": "describe", "result": connection.describe(sql)}


def _get_autocommit(connection: SqlConnection) -> dict[str, Any]:
    return {"type": "get_autocommit", "is_autocommit": connection.is_autocommit}


def _reply(_connection: SqlConnection, response: dict[str, Any]) -> dict[str, Any]:
    return response


def _fail(_connection: SqlConnection, error: HranaError) -> dict[str, Any]:
    raise error


def _open_cursor(
    connection: SqlConnection, stream: WsStream, steps: list[BatchStep]
) -> dict[str, Any]:
    stream.cursor = deque(connection.cursor_entries(steps))
    return {"type": "open_cursor"}


def _fetch_cursor(_connection: SqlConnection, stream: WsStream, max_count: int) -> dict[str, Any]:
    entries = [stream.cursor.popleft() for _ in range(min(max_count, len(stream.cursor)))]
    return {"type": "fetch_cursor", "entries": entries, "done": not stream.cursor}


def _close_cursor(_connection: SqlConnection, stream: WsStream) -> dict[str, Any]:
    stream.cursor.clear()
    return {"type": "close_cursor"}


def negotiate(offered: list[str]) -> tuple[int, str | None] | None:
    """The Hrana version for the offered subprotocols (none offered means hrana1, as in sqld)."""
    if not offered:
        return HRANA1, None
    for name, version in SUBPROTOCOLS.items():
        if name in offered:
            return version, name
    return None


class HranaSocket:
    """One client connection: authentication state, its streams, stored SQL and open cursors."""

    def __init__(
        self,
        websocket: WebSocket,
        version: int,
        database: Database,
        auth: Authenticator,
        max_pending: int,
        admission: Admission,
        faults: SocketFaults | None = None,
    ) -> None:
        self._ws = websocket
        self._admission = admission
        self._admitted = 0  # this socket's requests counted in `admission`, not yet answered
        self._faults = faults or SocketFaults()
        self._version = version
        self._database = database
        self._auth = auth
        self._authenticated = False
        self._streams: dict[int, WsStream] = {}
        self._sqls: dict[int, str] = {}
        self._cursors: dict[int, int] = {}
        # Outgoing text frames, or a (code, reason) tuple telling the sender to close.
        self._outbox: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        # Stop reading new requests while this many are unanswered (TCP back-pressure).
        self._pending = asyncio.Semaphore(max_pending)
        self._closing = False
        self._silent = False  # half-open: nothing more is sent, not even a close
        self._dropped = False  # over the admission limit: the TCP connection is just closed

    async def serve(self) -> None:
        sender = asyncio.create_task(self._send_loop())
        try:
            await self._receive_for_lifetime()
        finally:
            self._release_streams()
            self._admission.leave(self._admitted)
            self._admitted = 0
            if self._dropped:
                sender.cancel()
            elif not sender.done():
                self._outbox.put_nowait((WS_CLOSE_NORMAL, GOODBYE))
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def _receive_for_lifetime(self) -> None:
        """Serve until the client goes; with a socket fault set, only until the fault is due."""
        lifetime_s = self._faults.lifetime_s
        if lifetime_s is None:
            await self._receive_loop()
            return
        try:
            async with asyncio.timeout(lifetime_s):
                await self._receive_loop()
            return
        except TimeoutError:
            pass
        if self._faults.goes_silent:
            await self._ignore_until_disconnect()
            return
        self._closing = True
        self._outbox.put_nowait((WS_CLOSE_SERVICE_RESTART, "connection recycled"))
        self._faults.closed_one()

    async def _ignore_until_disconnect(self) -> None:
        """Half-open: whatever comes is read and dropped, nothing is answered, until it goes."""
        self._silent = True
        while await self._next_message() is not None:
            pass

    async def _next_message(self) -> Message | None:
        """The client's next message; None once it has gone."""
        try:
            message = await self._ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return None
        return None if message["type"] == "websocket.disconnect" else message

    async def _receive_loop(self) -> None:
        while not self._closing:
            await self._pending.acquire()
            message = await self._next_message()
            if message is None:
                return
            text = message.get("text")
            if text is None:
                self._close(
                    ProtocolError(
                        "Received a binary WebSocket message, which is not supported in this "
                        "encoding",
                        "BINARY_MESSAGE",
                        WS_CLOSE_UNSUPPORTED,
                    )
                )
                return
            try:
                self._handle_text(text)
            except ProtocolError as exc:
                self._close(exc)
                return
            except Overloaded:
                self._drop()
                return

    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, tuple):
                    if not self._silent:
                        await self._ws.close(code=item[0], reason=item[1])
                    return
                if self._silent:
                    continue
                await self._ws.send_text(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away; whatever was still queued has nobody to go to.
            self._closing = True

    def _drop(self) -> None:
        """As sqld: a stream over the limit ends the whole socket, no close frame, no answers."""
        log.warning("dropping a WebSocket: Too many concurrent requests")
        self._closing = True
        self._dropped = True

    def _close(self, error: ProtocolError) -> None:
        log.info("closing a WebSocket after a protocol error: %s", error.message)
        self._closing = True
        # A close reason is limited to 123 bytes of UTF-8.
        reason = error.message.encode()[:120].decode(errors="ignore")
        self._outbox.put_nowait((error.close_code, reason))

    def _send(self, message: dict[str, Any]) -> None:
        self._outbox.put_nowait(orjson.dumps(message).decode())

    def _handle_text(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise json_error(str(exc)) from None
        kind = request_type(message, "client message")
        if kind == "hello":
            self._pending.release()
            self._hello(message.get("jwt"))
        elif kind == "request":
            if not self._authenticated:
                raise ProtocolError(
                    "Received a request before hello message", "REQUEST_BEFORE_HELLO"
                )
            request_id = expect_int32(message.get("request_id"), "request_id")
            request = message.get("request")
            if request is None:
                raise ProtocolError("Request type not recognized", "REQUEST_TYPE_UNKNOWN")
            kind = request_type(request, "request")
            # sqld applies its limit where a stream gets its connection, so only there.
            if kind == "open_stream" and self._admission.full:
                raise Overloaded
            self._admission.enter()
            self._admitted += 1
            self._request(request_id, kind, request)
        else:
            raise ProtocolError("ClientMsg type not recognized", "CLIENT_MSG_TYPE_UNKNOWN")

    def _hello(self, jwt: Any) -> None:
        if jwt is not None and type(jwt) is not str:
            raise json_error("hello.jwt must be a string or null")
        if self._authenticated and self._version < HRANA2:
            raise not_supported("Repeated hello message", HRANA2)
        error = self._auth_error(jwt)
        if error is None:
            self._authenticated = True
            self._send({"type": "hello_ok"})
            return
        # The spec wants every later message ignored: answer, then close.
        self._send({"type": "hello_error", "error": error})
        self._closing = True
        self._outbox.put_nowait((WS_CLOSE_NORMAL, GOODBYE))

    def _auth_error(self, jwt: str | None) -> dict[str, str] | None:
        if not self._auth.required:
            return None
        if jwt is None:
            return {
                "message": "Authentication failed: Expected authorization header but none given",
                "code": "AUTH_HEADER_NOT_FOUND",
            }
        problem = self._auth.problem(jwt.encode())
        if problem is None:
            return None
        code = "AUTH_JWT_EXPIRED" if problem == JWT_EXPIRED else "AUTH_JWT_INVALID"
        return {"message": f"Authentication failed: {problem}", "code": code}

    def _respond(self, request_id: int, future: asyncio.Future[dict[str, Any]]) -> None:
        if future.done():  # it ran on the loop already (Worker.run_now)
            self._on_done(request_id, future)
        else:
            future.add_done_callback(lambda done: self._on_done(request_id, done))

    def _respond_now(self, request_id: int, response: dict[str, Any]) -> None:
        self._send({"type": "response_ok", "request_id": request_id, "response": response})
        self._answered()

    def _respond_error(self, request_id: int, error: HranaError) -> None:
        self._send({"type": "response_error", "request_id": request_id, "error": error.to_proto()})
        self._answered()

    def _answered(self) -> None:
        self._pending.release()
        if self._admitted:  # not when answered after the socket ended (given back then)
            self._admission.leave()
            self._admitted -= 1

    def _on_done(self, request_id: int, future: asyncio.Future[dict[str, Any]]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            self._respond_now(request_id, future.result())
        elif isinstance(exc, ProtocolError):
            self._close(exc)
        elif isinstance(exc, HranaError):
            self._respond_error(request_id, exc)
        else:
            log.error("internal error in a WebSocket request", exc_info=exc)
            self._closing = True
            self._outbox.put_nowait((WS_CLOSE_INTERNAL, "Internal server error"))

    def _stream(self, request: dict[str, Any]) -> tuple[int, WsStream]:
        stream_id = expect_int32(request.get("stream_id"), "stream_id")
        try:
            return stream_id, self._streams[stream_id]
        except KeyError:
            raise ProtocolError(f"Stream {stream_id} not found", "STREAM_NOT_FOUND") from None

    def _on_stream(self, request_id: int, request: dict[str, Any], job: Any, *args: Any) -> None:
        """Queue `job` behind everything sent earlier on the request's stream."""
        stream_id, stream = self._stream(request)
        if stream.worker is None:
            error = StmtError(f"Stream {stream_id} has failed to open", "STREAM_NOT_OPEN")
            self._respond_error(request_id, error)
            return
        self._respond(request_id, stream.worker.submit(job, *args))

    def _read_now(self, request_id: int, request: dict[str, Any], stmt: Stmt) -> bool:
        """Answer a short read on the loop when its stream has nothing queued (no thread hop)."""
        _, stream = self._stream(request)
        if stream.worker is None:
            return False
        try:
            result = stream.worker.try_read(stmt)
        except HranaError as error:
            self._respond_error(request_id, error)
            return True
        if result is None:
            return False
        self._respond_now(request_id, {"type": "execute", "result": result})
        return True

    def _require(self, version: int, what: str) -> None:
        if self._version < version:
            raise not_supported(what, version)

    def _request(self, request_id: int, kind: str, request: dict[str, Any]) -> None:
        if kind == "open_stream":
            self._open_stream(request_id, request)
        elif kind == "close_stream":
            self._close_stream(request_id, request)
        elif kind in ("execute", "batch"):
            try:
                if kind == "execute":
                    job, arg = _execute, decode_stmt(request.get("stmt"), self._sqls, self._version)
                else:
                    job, arg = _batch, decode_batch(request.get("batch"), self._sqls, self._version)
            except StmtError as exc:
                self._on_stream(request_id, request, _fail, exc)
                return
            if job is _execute and self._read_now(request_id, request, arg):
                return
            self._on_stream(request_id, request, job, arg)
        elif kind in ("sequence", "describe"):
            self._require(HRANA2, f"The `{kind}` request")
            sql = decode_sql(request, self._sqls, self._version, kind)
            self._on_stream(
                request_id, request, _sequence if kind == "sequence" else _describe, sql
            )
        elif kind == "store_sql":
            self._require(HRANA2, "The `store_sql` request")
            self._store_sql(request_id, request)
        elif kind == "close_sql":
            self._require(HRANA2, "The `close_sql` request")
            self._sqls.pop(expect_int32(request.get("sql_id"), "sql_id"), None)
            self._respond_now(request_id, {"type": "close_sql"})
        elif kind == "get_autocommit":
            self._require(HRANA3, "The `get_autocommit` request")
            self._on_stream(request_id, request, _get_autocommit)
        elif kind in ("open_cursor", "fetch_cursor", "close_cursor"):
            self._require(HRANA3, f"The `{kind}` request")
            self._cursor_request(request_id, kind, request)
        else:
            raise ProtocolError("Request type not recognized", "REQUEST_TYPE_UNKNOWN")

    def _open_stream(self, request_id: int, request: dict[str, Any]) -> None:
        stream_id = expect_int32(request.get("stream_id"), "stream_id")
        if stream_id in self._streams:
            raise ProtocolError(f"Stream {stream_id} already exists", "STREAM_EXISTS")
        try:
            worker = self._database.acquire()
        except HranaError as exc:
            self._streams[stream_id] = WsStream(None)
            self._respond_error(request_id, exc)
            return
        self._streams[stream_id] = WsStream(worker)
        self._respond(request_id, worker.run_now(_reply, {"type": "open_stream"}))

    def _close_stream(self, request_id: int, request: dict[str, Any]) -> None:
        stream_id, stream = self._stream(request)
        del self._streams[stream_id]
        if stream.cursor_id is not None:
            self._cursors.pop(stream.cursor_id, None)
        if stream.worker is None:
            self._respond_now(request_id, {"type": "close_stream"})
            return
        released = self._database.release(stream.worker)
        self._respond(request_id, _closed(released))

    def _store_sql(self, request_id: int, request: dict[str, Any]) -> None:
        sql_id = expect_int32(request.get("sql_id"), "sql_id")
        sql = request.get("sql")
        if type(sql) is not str:
            raise json_error("store_sql.sql must be a string")
        if sql_id in self._sqls:
            raise ProtocolError(f"SQL text {sql_id} already exists", "SQL_EXISTS")
        if len(self._sqls) >= MAX_STORED_SQLS:
            error = StmtError(
                f"The server already stores {len(self._sqls)} SQL texts, it cannot store more",
                "SQL_STORE_TOO_MANY",
            )
            self._respond_error(request_id, error)
            return
        self._sqls[sql_id] = sql
        self._respond_now(request_id, {"type": "store_sql"})

    def _cursor_request(self, request_id: int, kind: str, request: dict[str, Any]) -> None:
        if kind == "open_cursor":
            stream_id, stream = self._stream(request)
            cursor_id = expect_int32(request.get("cursor_id"), "cursor_id")
            if stream.cursor_id is not None:
                raise ProtocolError(
                    f"Stream {stream_id} already has an open cursor", "CURSOR_ALREADY_OPEN"
                )
            if cursor_id in self._cursors:
                raise ProtocolError(f"Cursor {cursor_id} already exists", "CURSOR_EXISTS")
            steps = decode_batch(request.get("batch"), self._sqls, self._version)
            self._cursors[cursor_id] = stream_id
            stream.cursor_id = cursor_id
            self._on_stream(request_id, request, _open_cursor, stream, steps)
            return
        cursor_id = expect_int32(request.get("cursor_id"), "cursor_id")
        if cursor_id not in self._cursors:
            raise ProtocolError(f"Cursor {cursor_id} not found", "CURSOR_NOT_FOUND")
        stream_id = self._cursors[cursor_id]
        stream_request = {"stream_id": stream_id}
        stream = self._streams[stream_id]
        if kind == "fetch_cursor":
            max_count = request.get("max_count")
            if type(max_count) is not int or max_count < 0:
                raise json_error("fetch_cursor.max_count must be a non-negative integer")
            self._on_stream(request_id, stream_request, _fetch_cursor, stream, max_count)
        else:
            del self._cursors[cursor_id]
            stream.cursor_id = None
            self._on_stream(request_id, stream_request, _close_cursor, stream)

    def _release_streams(self) -> None:
        for stream in self._streams.values():
            if stream.worker is not None:
                self._database.release(stream.worker)
        self._streams.clear()
        self._cursors.clear()


def _closed(released: asyncio.Future[None]) -> asyncio.Future[dict[str, Any]]:
    """The close_stream response, once the stream's connection is back in the pool."""
    response: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def settle(done: asyncio.Future[None]) -> None:
        if done.cancelled():
            response.cancel()
        elif done.exception() is not None:
            response.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            response.set_result({"type": "close_stream"})

    released.add_done_callback(settle)
    return response


async def serve_websocket(
    websocket: WebSocket,
    database: Database,
    auth: Authenticator,
    max_pending: int,
    admission: Admission,
    faults: SocketFaults | None = None,
) -> None:
    refusal = faults.refusal() if faults else None
    if refusal is not None:
        await websocket.send_denial_response(refusal)
        return
    negotiated = negotiate(list(websocket.scope.get("subprotocols", [])))
    if negotiated is None:
        await websocket.close(code=WS_CLOSE_UNSUPPORTED)
        return
    version, subprotocol = negotiated
    await websocket.accept(subprotocol=subprotocol)
    await HranaSocket(websocket, version, database, auth, max_pending, admission, faults).serve()
