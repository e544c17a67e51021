"""The only module that calls libsql-client, and the one place its exceptions are converted.

`classify` turns anything the client can raise (LibsqlError codes, aiohttp and OS errors,
timeouts, truncated JSON, a malformed message) into TransientDbError, PermanentDbError or
UnreachableDbError, or one of their named kinds (auth rejected, disk full, read-only, ...).
PermanentDbError, the one answered 500, is kept for codes that mean our own SQL is wrong and
for any other exception (AppBugError): a bug of ours.
libsql-client 0.3.1 speaks WebSocket through aiohttp's `ws_connect`, so aiohttp's exceptions
cover WebSocket faults too. Over WebSocket it also retires a connection that stopped answering
(`retire_unanswered_connection`), which libsql-client itself would keep forever, and tells the
calls lost with a socket that ended under them how many went with it (ConnectionLostError).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import ssl
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from libsql_client import Client, LibsqlError, ResultSet, create_client
from libsql_client.hrana.client import HranaClient
from libsql_client.hrana.conn import HranaConn
from libsql_client.http import HttpClient

from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.token import TokenFile
from reference_app.resilience.errors import (
    AppBugError,
    ConnectionLostError,
    ConstraintViolation,
    DbAuthRejected,
    DbBusyError,
    DbClientClosedError,
    DbError,
    DbFullError,
    DbIoError,
    DbProtocolError,
    DbReadOnlyError,
    DbTimeoutError,
    DbTooManyRequestsError,
    PermanentDbError,
    RetiredConnectionError,
    TransientDbError,
    UnknownDbError,
    UnreachableDbError,
)

logger = logging.getLogger(__name__)

Value = str | int | float | bytes | None
Statement = tuple[str, Sequence[Value]]
# Column types follow from each statement's SQL, which the caller wrote, not from the transport.
Row = dict[str, Any]
T = TypeVar("T")

# What the http client reports for a non-JSON error response; the status is only in the text.
_HTTP_STATUS = re.compile(r"HTTP status (\d{3})")
_RETRYABLE_HTTP_STATUSES = frozenset({408})
# Codes (and extended-code prefixes) for a lost connection or stream, and a server that
# failed inside (sqld's 500 bodies).
_TRANSIENT_CODE_PREFIXES = (
    "HRANA_WEBSOCKET_ERROR",
    "STREAM_EXPIRED",
    "STREAM_CLOSED",
    "INTERNAL",
)
# sqld's (and the local server's) 429 body: refused at the admission limit, before running.
_TOO_MANY_REQUESTS_CODE = "TOO_MANY_REQUESTS"
# SQLite's "try again": the lock was not had, so the statement (or batch) did not apply.
_BUSY_CODE_PREFIXES = ("SQLITE_BUSY", "SQLITE_LOCKED")
# Codes that mean the SQL or its arguments, which we wrote, are wrong: the only 500s.
# SQLITE_UNKNOWN is sqld's name for SQLITE_ERROR ("no such table", a bad column).
_OUR_BUG_CODE_PREFIXES = (
    "SQL_PARSE_ERROR",
    "SQL_NO_STATEMENT",
    "SQL_MANY_STATEMENTS",
    "SQL_INPUT_ERROR",
    "ARGS_",
    "SQLITE_UNKNOWN",
    "SQLITE_ERROR",
    "SQLITE_RANGE",
    "SQLITE_MISMATCH",
    "SQLITE_MISUSE",
    "SQLITE_TOOBIG",
)
# Faults of the database or the path to it, by code prefix; anything else is UnknownDbError.
# Hrana's hello_error codes (WebSocket) start AUTH_; over HTTP a refusal is a 401 or 403.
_FAULT_CODE_PREFIXES: tuple[tuple[str, type[DbError]], ...] = (
    ("AUTH_", DbAuthRejected),
    ("SQLITE_AUTH", DbAuthRejected),
    ("SQLITE_FULL", DbFullError),
    ("SQLITE_IOERR", DbIoError),
    ("SQLITE_CANTOPEN", DbIoError),
    ("SQLITE_READONLY", DbReadOnlyError),
    ("HRANA_PROTO_ERROR", DbProtocolError),
    ("CLIENT_CLOSED", DbClientClosedError),
)
_AUTH_HTTP_STATUSES = frozenset({401, 403})


# libsql-client raises on an HTTP refusal without the response's headers; the session's response
# class keeps the one the retry policy needs, in the task that awaits the call, so the value is
# seen by that call alone. A refused WebSocket upgrade runs in the client's own connect task,
# where a context variable set would never reach the caller; its WSServerHandshakeError, which
# the client hands to every call waiting on that connection, carries the headers instead.
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_server_retry_after_s: ContextVar[float | None] = ContextVar("server_retry_after_s", default=None)
# The WebSocket connection the current task's last call went out on: the one to retire when
# that call got no answer in time.
_call_connection: ContextVar[HranaConn | None] = ContextVar("call_connection", default=None)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _note_refusal(status: int, headers: Mapping[str, str]) -> None:
    if status in _RETRY_AFTER_STATUSES:
        _server_retry_after_s.set(parse_retry_after(headers.get("Retry-After")))


def _refusal_retry_after_s(error: BaseException) -> float | None:
    """The server's Retry-After for this failed call: an HTTP refusal's, or a refused upgrade's."""
    noted = _server_retry_after_s.get()
    if noted is not None:
        return noted
    if isinstance(error, aiohttp.WSServerHandshakeError) and error.status in _RETRY_AFTER_STATUSES:
        return parse_retry_after((error.headers or {}).get("Retry-After"))
    return None


class _RefusalAwareResponse(aiohttp.ClientResponse):
    """An HTTP response that notes a refusal's Retry-After once its headers are read."""

    async def start(self, connection: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        response = await super().start(connection)
        _note_refusal(self.status, self.headers)
        return response


class _CountingConnector(aiohttp.TCPConnector):
    """aiohttp's default connector, counting each connection (TCP, plus TLS) it opens."""

    def __init__(self, round_trips: RoundTripCounter) -> None:
        super().__init__()
        self._new_connections = round_trips

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        protocol = await super()._create_connection(*args, **kwargs)
        self._new_connections.record_connect()
        return protocol


def _watch_session(client: Client, round_trips: RoundTripCounter) -> None:
    """Count the client's new connections, and keep an HTTP refusal's Retry-After.

    The HTTP client gets a session whose connector and response class do both: aiohttp's
    tracing, which the WebSocket client keeps, costs ~12-16 µs of CPU per HTTP call
    (measured), a twentieth of a point read. The WebSocket client's connection opens with the
    session it built, and tracing costs it only then. The file: client opens no socket.
    """
    session = getattr(client, "_session", None)
    if not isinstance(session, aiohttp.ClientSession):
        return
    if isinstance(client, HttpClient):
        client._session = aiohttp.ClientSession(
            headers=session.headers,
            connector=_CountingConnector(round_trips),
            response_class=_RefusalAwareResponse,
        )
        session.detach()  # it never connected: nothing to close
        return

    async def on_connect(*_: object) -> None:
        round_trips.record_connect()

    tracing = aiohttp.TraceConfig()
    tracing.on_connection_create_end.append(on_connect)
    tracing.freeze()
    session.trace_configs.append(tracing)  # read per request, so adding it now takes effect


# libsql-client's codes for a URL it cannot use: no request was ever sent.
_BAD_URL_CODES = frozenset({"URL_SCHEME_NOT_SUPPORTED", "URL_INVALID", "URL_PARAM_NOT_SUPPORTED"})
# The code a retired connection's waiting calls fail with: a lost connection.
_RETIRED = "HRANA_WEBSOCKET_ERROR"
_RETIRED_CLOSE_TIMEOUT_S = 0.1


@dataclass(frozen=True, slots=True)
class Result:
    """Rows as dicts by column name, plus what a write reports."""

    rows: list[Row]
    rows_affected: int
    last_insert_rowid: int | None


def classify(error: BaseException) -> DbError:
    """The one decision: is this fault worth retrying, and may the server have applied it?"""
    message = f"{type(error).__name__}: {error}"
    match error:
        case LibsqlError():
            return _classify_libsql(error)
        case ssl.SSLCertVerificationError() | aiohttp.InvalidURL():
            # A rejected certificate or an unusable URL fails the same way every time, before
            # any statement is sent. (Checked before OSError: aiohttp's certificate error is one.)
            return UnreachableDbError(message, maybe_applied=False)
        case aiohttp.ClientConnectorError() | aiohttp.WSServerHandshakeError():
            # Never connected (refused, DNS, upgrade rejected): nothing reached the server.
            return TransientDbError(message, maybe_applied=False)
        case TimeoutError():
            return DbTimeoutError(message)
        case RuntimeError() if str(error) == "Session is closed":
            # aiohttp's word for a request on an HTTP client that was closed.
            return DbClientClosedError(message, maybe_applied=False)
        case aiohttp.ClientError() | OSError() | json.JSONDecodeError():
            # Reset, disconnected, truncated or garbled response: the path failed mid-call.
            return TransientDbError(message)
        case _ if _raised_reading_a_message(error.__traceback__):
            # A server message missing a field or of the wrong shape (a KeyError, TypeError or
            # ValueError in the client's parsing): garbled on the path, as HRANA_PROTO_ERROR.
            return DbProtocolError(message)
        case _:
            # Raised by our own code or by the client refusing what we passed it: a bug.
            return AppBugError(message)


# libsql-client 0.3.1's functions that read a server message (module, function). Those that
# convert our arguments (_stmt_to_proto, _value_to_proto, _normalize_value) are not here.
_MESSAGE_READERS = frozenset(
    {
        ("libsql_client.http", "_send"),
        ("libsql_client.http", "execute"),  # response["result"]
        ("libsql_client.http", "batch"),
        ("libsql_client.hrana.conn", "_receive"),
        ("libsql_client.hrana.conn", "get_result"),
        ("libsql_client.hrana.convert", "_result_set_from_proto"),
        ("libsql_client.hrana.convert", "_batch_results_from_proto"),
        ("libsql_client.hrana.convert", "_value_from_proto"),
        ("libsql_client.hrana.convert", "_error_from_proto"),
    }
)


def _raised_reading_a_message(traceback: TracebackType | None) -> bool:
    """Whether the innermost libsql-client frame of `traceback` was reading a server message."""
    innermost: tuple[str, str] | None = None
    while traceback is not None:
        frame = traceback.tb_frame
        module = frame.f_globals.get("__name__", "")
        if module.startswith("libsql_client."):
            innermost = (module, frame.f_code.co_name)
        traceback = traceback.tb_next
    return innermost in _MESSAGE_READERS


def _classify_libsql(error: LibsqlError) -> DbError:
    code, message = error.code, str(error)
    if code in _BAD_URL_CODES:
        return UnreachableDbError(message, maybe_applied=False)
    if "CONSTRAINT" in code:
        return ConstraintViolation(message)
    if code == "SERVER_ERROR":
        return _classify_http_status(error)
    if code.startswith(_BUSY_CODE_PREFIXES):
        return DbBusyError(message)
    if code == _TOO_MANY_REQUESTS_CODE:
        return DbTooManyRequestsError(message)
    if code.startswith(_TRANSIENT_CODE_PREFIXES):
        return TransientDbError(message)
    if code.startswith(_OUR_BUG_CODE_PREFIXES):
        return PermanentDbError(message)
    for prefix, kind in _FAULT_CODE_PREFIXES:
        if code.startswith(prefix):
            return kind(message)
    return UnknownDbError(message)


def _classify_http_status(error: LibsqlError) -> DbError:
    """A non-JSON HTTP error response: its status is all there is to go on."""
    found = _HTTP_STATUS.search(error.explanation)
    status = int(found[1]) if found else None
    message = str(error)
    if status in _AUTH_HTTP_STATUSES:
        return DbAuthRejected(message, maybe_applied=False)
    if status == 400:
        # The server could not read the request: a message mangled on the way, or a client
        # out of step with the server; either way not our SQL, which it never parsed.
        return DbProtocolError(message, maybe_applied=False)
    if status == 429:
        return DbTooManyRequestsError(message)
    if status and 400 <= status < 500 and status not in _RETRYABLE_HTTP_STATUSES:
        return UnknownDbError(message)  # 404 (no such database), 413, ...: not ours to fix
    return TransientDbError(message)


class _ConnectionRetired(LibsqlError):
    """What the calls waiting on a retired WebSocket are failed with."""

    def __init__(self) -> None:
        super().__init__("connection retired: a call on it got no answer in time", _RETIRED)


async def _close_retired(conn: HranaConn, grace_s: float) -> None:
    try:
        await asyncio.sleep(grace_s)
    finally:
        # A call still waiting (one with no timeout of its own) is failed, to be retried.
        conn._set_exception(_ConnectionRetired())
        # A silent peer never answers the close handshake: cut the socket rather than wait.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_RETIRED_CLOSE_TIMEOUT_S):
                await conn.close()


def _retired(error: BaseException) -> DbError | None:
    if isinstance(error, _ConnectionRetired):
        return RetiredConnectionError(str(error))
    return None


def _to_result(result_set: ResultSet) -> Result:
    rows = [row.asdict() for row in result_set.rows]
    return Result(rows, result_set.rows_affected, result_set.last_insert_rowid)


async def _close_quietly(client: Client) -> None:
    """Close a replaced client, whose calls have all ended: a failure loses nothing."""
    try:
        await client.close()
    except Exception as error:
        logger.warning("could not close the client of a replaced database token: %s", error)


def _client(url: str, auth_token: str | None, round_trips: RoundTripCounter) -> Client:
    client = create_client(url, auth_token=auth_token)
    _watch_session(client, round_trips)
    return client


class Transport:
    """One libsql-client client; every call is counted, timed and (unless raw) converted.

    With a token file, a call after the database rejected the token re-reads the file (at most
    every REREAD_INTERVAL_S) and, if it holds another token, goes out on a new client with it;
    the old client is closed once its calls in flight have ended.
    """

    def __init__(
        self,
        client: Client,
        *,
        round_trips: RoundTripCounter,
        raw_errors: bool,
        url: str = "",
        auth_token: str | None = None,
        token_file: TokenFile | None = None,
    ) -> None:
        self._client = client
        self._round_trips = round_trips
        self._raw_errors = raw_errors
        self._url = url
        self._auth_token = auth_token
        self._token_file = token_file
        self._token_rejected = False
        # A client of a replaced token is closed once its last call in flight has ended, not at
        # once: those calls end with the database's answer, not with "client closed".
        self._in_flight: Counter[Client] = Counter()
        self._retired: set[Client] = set()
        self._closing: set[asyncio.Task[None]] = set()
        # WebSockets retired after a timeout, each closed after its grace.
        self._retiring: set[asyncio.Task[None]] = set()
        # Calls in flight per WebSocket, and the sockets whose loss a call has reported.
        self._calls_on: Counter[HranaConn] = Counter()
        self._reported_lost: weakref.WeakSet[HranaConn] = weakref.WeakSet()
        # Timeouts on retired WebSockets not yet counted: see retire_unanswered_connection.
        self._timeouts_set_aside = 0
        self._current_socket_answered = False

    @classmethod
    def open(
        cls,
        url: str,
        auth_token: str | None,
        *,
        round_trips: RoundTripCounter,
        raw_errors: bool = False,
        token_file: TokenFile | None = None,
    ) -> Transport:
        """A client for `url` (file:, http(s):, ws(s):, libsql:); `raw_errors` skips conversion.

        `token_file` is where `auth_token` came from, re-read when the database rejects it.
        """
        try:
            client = _client(url, auth_token, round_trips)
        except Exception as error:
            if raw_errors:
                raise
            # Nothing was sent, and the same URL will fail the same way.
            raise UnreachableDbError(
                f"cannot use database URL: {type(error).__name__}: {error}", maybe_applied=False
            ) from error
        return cls(
            client,
            round_trips=round_trips,
            raw_errors=raw_errors,
            url=url,
            auth_token=auth_token,
            token_file=token_file,
        )

    async def execute(self, statement: Statement) -> Result:
        sql, args = statement
        client = self._current_client()
        return _to_result(
            await self._call("execute", self._on(client, client.execute(sql, list(args))))
        )

    async def ping(self) -> None:
        """SELECT 1, outside the resilience pipeline: if it is lost with a socket, it leaves
        the count of calls lost to a pipeline call on that socket, whose limiter and breaker
        learn of the loss."""
        client = self._current_client()
        pending = self._on(client, client.execute("SELECT 1", []))
        await self._call("execute", pending, reports_loss=False)

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        """All statements in one round trip and one transaction: one failing rolls back all."""
        stmts = [(sql, list(args)) for sql, args in statements]
        client = self._current_client()
        return [
            _to_result(rs)
            for rs in await self._call("batch", self._on(client, client.batch(stmts)))
        ]

    async def close(self) -> None:
        for retiring in self._retiring:
            retiring.cancel()  # closes its connection now rather than after the grace
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await asyncio.gather(*self._closing)
        for client in (*self._retired, self._client):
            await client.close()

    def _current_client(self) -> Client:
        """The client for the next call: a new one if the token was rejected and has changed."""
        if self._token_rejected and self._token_file is not None:
            # A small file, read at most every REREAD_INTERVAL_S: not worth a thread.
            token = self._token_file.reread(self._auth_token)
            if token is not None:
                self._retire_client(self._client)
                self._client = _client(self._url, token, self._round_trips)
                self._auth_token, self._token_rejected = token, False
                logger.warning(
                    "database token rejected; using the new one in %s", self._token_file.path
                )
        return self._client

    def retire_unanswered_connection(self, grace_s: float) -> int:
        """After this task's call got no answer in time: the next call opens a new WebSocket.
        Returns how many failures of the database the breaker should count for the timeout.

        libsql-client replaces a connection only once it has failed, so a half-open socket
        (a peer or a middlebox gone without a reset) would take every later call down with it.
        Calls still waiting on the old socket keep it for `grace_s` (the attempt timeout: by
        then each has its answer or has timed out itself), then it is closed. Only the
        connection the call went out on is retired, and only once.

        Calls caught together on a socket that went silent all time out at once. Counted
        each, they would open the breaker although a fresh socket works, so a timeout on a
        socket already retired counts 0 and is set aside. Once a call on a fresh socket is
        answered, those were one socket's fault and are forgotten; if the fresh socket times
        out too before answering anything, the fault is beyond one socket (a blackhole), and
        its timeout counts for itself and for every one set aside.
        """
        conn = _call_connection.get()
        if not isinstance(self._client, HranaClient) or conn is None:
            return 1
        if conn.exception is not None:
            return 1  # it failed on its own, and libsql-client replaces it
        if self._client._conn is not conn:
            # Retired already: only a retired connection is replaced before it fails. Once its
            # replacement has answered, the old socket's last timeouts are its fault alone.
            if not self._current_socket_answered:
                self._timeouts_set_aside += 1
            return 0
        self._replace_connection(self._client, grace_s)
        failures, self._timeouts_set_aside = 1 + self._timeouts_set_aside, 0
        return failures

    def _replace_connection(self, client: HranaClient, grace_s: float) -> None:
        """The next call opens a new WebSocket; the old one is closed after `grace_s`."""
        conn = client._conn
        client._conn = client._open_conn()
        self._current_socket_answered = False
        closing = asyncio.create_task(_close_retired(conn, grace_s))
        self._retiring.add(closing)
        closing.add_done_callback(self._retiring.discard)

    async def _on(self, client: Client, pending: Awaitable[T]) -> T:
        """`pending`, a call on `client`, counted in flight until it ends."""
        self._in_flight[client] += 1
        try:
            return await pending
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]
                if client in self._retired:
                    self._close_replaced_client(client)

    def _retire_client(self, client: Client) -> None:
        self._retired.add(client)
        if not self._in_flight[client]:
            self._close_replaced_client(client)

    def _close_replaced_client(self, client: Client) -> None:
        # In a task: a call must not wait for another client's close (a WebSocket's close
        # handshake waits for the peer). Shutdown waits for it.
        self._retired.discard(client)
        closing = asyncio.create_task(_close_quietly(client))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _call(self, operation: str, pending: Awaitable[T], *, reports_loss: bool = True) -> T:
        started = time.perf_counter()
        outcome = "cancelled"
        _server_retry_after_s.set(None)
        conn = self._current_connection()
        _call_connection.set(conn)
        if conn is not None:
            self._calls_on[conn] += 1
        try:
            result = await pending
        except Exception as error:
            converted = (
                _retired(error)
                or self._lost_with(conn, error, reports_loss=reports_loss)
                or self._failed_to_connect(conn, error, reports_loss=reports_loss)
                or classify(error)
            )
            converted.retry_after_s = _refusal_retry_after_s(error)
            self._round_trips.record_error(converted.kind)
            if isinstance(converted, DbAuthRejected):
                self._token_rejected = True
            outcome = "transient" if isinstance(converted, TransientDbError) else "permanent"
            if self._raw_errors:
                raise
            raise converted from error
        else:
            outcome = "ok"
            if isinstance(self._client, HranaClient) and conn is self._client._conn:
                # A fresh socket answers: the timeouts set aside were one socket's fault.
                self._timeouts_set_aside, self._current_socket_answered = 0, True
            return result
        finally:
            self._round_trips.record(operation, time.perf_counter() - started, outcome)
            if conn is not None:
                self._calls_on[conn] -= 1
                if not self._calls_on[conn]:
                    del self._calls_on[conn]

    def _failed_to_connect(
        self, conn: HranaConn | None, error: BaseException, *, reports_loss: bool
    ) -> DbError | None:
        """The error of a call that waited on a WebSocket that never connected (refused or
        reset during its handshake), marked when another call has reported that failure.

        Every call waiting on the socket fails with it at once: one fault for the breaker,
        not one per call (six calls on a socket reset at connect had opened it).
        """
        if conn is None or conn._socket is not None or error is not conn.exception:
            return None
        converted = classify(error)
        if isinstance(converted, DbAuthRejected):
            return converted
        converted.reported_by_another_call = not self._first_to_report(conn, reports_loss)
        return converted

    def _first_to_report(self, conn: HranaConn, reports_loss: bool) -> bool:
        """Whether this call reports `conn`'s failure: the first of its calls to get here."""
        first = reports_loss and conn not in self._reported_lost
        if first:
            self._reported_lost.add(conn)
        return first

    def _lost_with(
        self, conn: HranaConn | None, error: BaseException, *, reports_loss: bool
    ) -> DbError | None:
        """A ConnectionLostError if this call failed because its open WebSocket ended (dropped,
        reset, cut), not because it never connected or the server refused our token.

        Every call on the socket is failed at once, and the first to get here counts them:
        the others are still in flight (`_calls_on`) until their own turn.
        """
        if conn is None or conn._socket is None or error is not conn.exception:
            return None  # an answer of the server, or never connected (refused, rejected)
        if not isinstance(classify(error), TransientDbError):
            return None  # a hello_error: the server refused our token
        first = self._first_to_report(conn, reports_loss)
        calls_lost = self._calls_on[conn] if first else None
        return ConnectionLostError(f"{type(error).__name__}: {error}", calls_lost=calls_lost)

    def _current_connection(self) -> HranaConn | None:
        """The WebSocket connection a call made now goes out on.

        A failed one is replaced here, as libsql-client would inside the call, so that the
        call is counted on the socket it goes out on (`_calls_on`).
        """
        client = self._client
        if not isinstance(client, HranaClient) or client.closed:
            return None
        if client._conn.exception is not None:
            self._replace_connection(client, grace_s=0.0)
        return client._conn
