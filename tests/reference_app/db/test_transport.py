"""The one conversion of client errors, and the transport's counting, on real clients."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
import pytest
from aiohttp import web
from libsql_client import Client, LibsqlError, create_client

from harness.auth import READ_WRITE_CLAIMS, JwtAuth
from harness.processes import free_port
from harness.settings import HarnessSettings
from harness.stack import TlsFiles, local_turso
from reference_app.db import transport as transport_module
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.token import TokenFile
from reference_app.db.transport import Transport, classify, parse_retry_after
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


def connector_error() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))


def certificate_error() -> aiohttp.ClientConnectorCertificateError:
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, True, True, None, None, None)
    return aiohttp.ClientConnectorCertificateError(
        key, ssl.SSLCertVerificationError("certificate verify failed")
    )


@pytest.mark.parametrize(
    ("error", "kind", "maybe_applied"),
    [
        (connector_error(), TransientDbError, False),
        (aiohttp.ServerDisconnectedError(), TransientDbError, True),
        (ConnectionResetError(104, "reset"), TransientDbError, True),
        (TimeoutError(), DbTimeoutError, True),
        (json.JSONDecodeError("truncated", "{", 1), TransientDbError, True),
        (LibsqlError("Server returned HTTP status 503", "SERVER_ERROR"), TransientDbError, True),
        (LibsqlError("Server returned HTTP status 404", "SERVER_ERROR"), UnknownDbError, True),
        (LibsqlError("Server returned HTTP status 401", "SERVER_ERROR"), DbAuthRejected, False),
        (LibsqlError("Server returned HTTP status 403", "SERVER_ERROR"), DbAuthRejected, False),
        (LibsqlError("Server returned HTTP status 400", "SERVER_ERROR"), DbProtocolError, False),
        (
            LibsqlError("Server returned HTTP status 429", "SERVER_ERROR"),
            DbTooManyRequestsError,
            False,
        ),
        (
            LibsqlError("Too many concurrent requests", "TOO_MANY_REQUESTS"),
            DbTooManyRequestsError,
            False,
        ),
        (LibsqlError("The stream has expired", "STREAM_EXPIRED"), TransientDbError, True),
        (LibsqlError("WebSocket was closed", "HRANA_WEBSOCKET_ERROR"), TransientDbError, True),
        (LibsqlError("database is locked", "SQLITE_BUSY"), DbBusyError, False),
        (LibsqlError("table is locked", "SQLITE_LOCKED_SHAREDCACHE"), DbBusyError, False),
        (LibsqlError("UNIQUE failed", "SQLITE_CONSTRAINT_UNIQUE"), ConstraintViolation, True),
        (LibsqlError("near 'SELEC': syntax error", "SQL_PARSE_ERROR"), PermanentDbError, True),
        (LibsqlError("no such table", "SQLITE_UNKNOWN"), PermanentDbError, True),
        (LibsqlError("near 'SELEC': syntax error", "SQLITE_ERROR"), PermanentDbError, True),
        (LibsqlError("too many parameters", "ARGS_INVALID"), PermanentDbError, True),
        (LibsqlError("column index out of range", "SQLITE_RANGE"), PermanentDbError, True),
        (LibsqlError("The client is closed", "CLIENT_CLOSED"), DbClientClosedError, True),
        (RuntimeError("Session is closed"), DbClientClosedError, False),
        (LibsqlError("The JWT is invalid", "AUTH_JWT_INVALID"), DbAuthRejected, True),
        (LibsqlError("The JWT has expired", "AUTH_JWT_EXPIRED"), DbAuthRejected, True),
        (LibsqlError("not authorized", "SQLITE_AUTH"), DbAuthRejected, True),
        (LibsqlError("database or disk is full", "SQLITE_FULL"), DbFullError, True),
        (LibsqlError("disk I/O error", "SQLITE_IOERR_WRITE"), DbIoError, True),
        (LibsqlError("unable to open database file", "SQLITE_CANTOPEN"), DbIoError, True),
        (LibsqlError("readonly database", "SQLITE_READONLY"), DbReadOnlyError, True),
        (
            LibsqlError("Received unexpected message type", "HRANA_PROTO_ERROR"),
            DbProtocolError,
            True,
        ),
        (LibsqlError("something new", "SOMETHING_NEW"), UnknownDbError, True),
        (LibsqlError("database disk image is malformed", "SQLITE_CORRUPT"), UnknownDbError, True),
        (KeyError("result"), AppBugError, True),
        (TypeError("unsupported operand"), AppBugError, True),
        (certificate_error(), UnreachableDbError, False),
        (ssl.SSLCertVerificationError("certificate verify failed"), UnreachableDbError, False),
        (aiohttp.InvalidURL("http://[::1"), UnreachableDbError, False),
        (
            LibsqlError("Unsupported URL scheme", "URL_SCHEME_NOT_SUPPORTED"),
            UnreachableDbError,
            False,
        ),
    ],
)
def test_classify(error: BaseException, kind: type[DbError], maybe_applied: bool) -> None:
    converted = classify(error)

    assert type(converted) is kind
    assert converted.maybe_applied is maybe_applied


async def test_every_call_is_one_round_trip_whatever_its_outcome(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    counter = RoundTripCounter(lambda operation, _s, outcome: calls.append((operation, outcome)))
    transport = Transport.open(f"file:{tmp_path / 't.db'}", None, round_trips=counter)

    await transport.batch([("CREATE TABLE t (x UNIQUE)", ()), ("INSERT INTO t VALUES (?)", (1,))])
    result = await transport.execute(("SELECT x FROM t", ()))
    with pytest.raises(ConstraintViolation):
        await transport.execute(("INSERT INTO t VALUES (?)", (1,)))
    with pytest.raises(PermanentDbError):
        await transport.execute(("SELEC 1", ()))

    assert result.rows == [{"x": 1}]
    assert counter.total == 4
    assert calls == [
        ("batch", "ok"),
        ("execute", "ok"),
        ("execute", "permanent"),
        ("execute", "permanent"),
    ]


async def test_raw_errors_leave_the_client_exception_as_it_was(tmp_path: Path) -> None:
    counter = RoundTripCounter()
    raw = Transport.open(f"file:{tmp_path / 't.db'}", None, round_trips=counter, raw_errors=True)

    with pytest.raises(LibsqlError):
        await raw.execute(("SELEC 1", ()))


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_refused_connection_is_transient_and_never_applied(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}"
    transport = Transport.open(url, None, round_trips=RoundTripCounter())
    try:
        with pytest.raises(TransientDbError) as raised:
            await transport.execute(("SELECT 1", ()))
    finally:
        await transport.close()

    assert raised.value.maybe_applied is False


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("Fri, 27 Nov 2026 12:00:05 GMT", 5.0),
        ("Fri, 27 Nov 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after(header, now) == seconds


@pytest.mark.integration
async def test_a_refusal_carries_the_servers_retry_after(log_dir: Path, tmp_path: Path) -> None:
    args = ["--max-concurrent-requests", "1", "--retry-after-s", "7"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.http_url, None, round_trips=RoundTripCounter())
        try:
            refusal = await refused_while_busy(server.http_url, transport)
        finally:
            await transport.close()

    assert isinstance(refusal, TransientDbError)
    assert refusal.retry_after_s == 7.0


SLOW_SQL = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) "
    "SELECT count(*) FROM c"
)


async def refused_while_busy(url: str, transport: Transport) -> DbError:
    """The transport's call, made once the server is seen full (a slow query holds its slot)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as raw:
        for _ in range(10):
            holder = asyncio.create_task(raw.post("/v1/execute", json={"stmt": {"sql": SLOW_SQL}}))
            try:
                while not holder.done():
                    probe = await raw.post("/v1/execute", json={"stmt": {"sql": "SELECT 1"}})
                    if probe.status_code == 429:  # full now: the slow query has the slot
                        try:
                            await transport.execute(("SELECT 1", []))
                        except DbError as error:
                            return error
            finally:
                await asyncio.gather(holder, return_exceptions=True)
    pytest.fail("no call was refused while the slot was taken")


@pytest.mark.parametrize("url", ["foo://127.0.0.1", "http://[::1"])
async def test_an_unusable_url_is_unreachable_not_transient(url: str) -> None:
    with pytest.raises(UnreachableDbError) as raised:
        Transport.open(url, None, round_trips=RoundTripCounter())

    assert raised.value.maybe_applied is False


@pytest.mark.integration
async def test_an_untrusted_certificate_is_unreachable_not_transient(
    tmp_path: Path, log_dir: Path
) -> None:
    tls = TlsFiles.from_settings(HarnessSettings())
    with local_turso(tmp_path / "db.sqlite", log_dir, tls=tls) as server:
        transport = Transport.open(server.http_url, None, round_trips=RoundTripCounter())
        try:
            with pytest.raises(UnreachableDbError):
                await transport.execute(("SELECT 1", ()))
        finally:
            await transport.close()


@pytest.mark.integration
async def test_a_refused_websocket_upgrade_carries_the_servers_retry_after(
    log_dir: Path, tmp_path: Path
) -> None:
    # The server closes each socket after 0.3 s, then refuses upgrades for 5 s.
    args = ["--ws-close-after-s", "0.3", "--ws-refuse-after-close-s", "5", "--retry-after-s", "2"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        try:
            await transport.execute(("SELECT 1", ()))
            await asyncio.sleep(0.4)  # the server has closed the socket
            with pytest.raises(TransientDbError) as raised:
                await transport.execute(("SELECT 1", ()))
        finally:
            await transport.close()

    assert isinstance(raised.value.__cause__, aiohttp.WSServerHandshakeError)
    assert raised.value.maybe_applied is False
    assert raised.value.retry_after_s == 2.0


SILENT_AFTER_S = 1.0
ATTEMPT_TIMEOUT_S = 0.2


@pytest.mark.integration
async def test_a_websocket_that_went_silent_is_retired_after_a_timeout(
    log_dir: Path, tmp_path: Path
) -> None:
    # Each socket goes half-open (reads, never answers, never closes) 1 s after its upgrade.
    args = ["--ws-silent-after-s", str(SILENT_AFTER_S)]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        counter = RoundTripCounter()
        transport = Transport.open(server.ws_url, None, round_trips=counter)
        try:
            await transport.execute(("SELECT 1", ()))
            await asyncio.sleep(SILENT_AFTER_S)
            # Another caller's call waits on the same silent socket, with no timeout of its own.
            waiting = asyncio.create_task(transport.execute(("SELECT 2", ())))
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(ATTEMPT_TIMEOUT_S):
                    await transport.execute(("SELECT 1", ()))
            assert transport.retire_unanswered_connection(grace_s=ATTEMPT_TIMEOUT_S) == 1
            # Timed out again on the retired socket: the same fault, seen again, set aside.
            assert transport.retire_unanswered_connection(grace_s=ATTEMPT_TIMEOUT_S) == 0
            # After the grace its socket is closed; the call still waiting on it is failed.
            with pytest.raises(RetiredConnectionError):
                await asyncio.wait_for(waiting, ATTEMPT_TIMEOUT_S * 2)
            async with asyncio.timeout(ATTEMPT_TIMEOUT_S):  # a fresh socket answers at once
                result = await transport.execute(("SELECT 1 AS one", ()))
        finally:
            await transport.close()

    assert result.rows == [{"one": 1}]
    assert counter.connects == 2


@pytest.mark.integration
async def test_calls_lost_with_a_dropped_websocket_are_counted_by_the_first_to_see_it(
    log_dir: Path, tmp_path: Path
) -> None:
    # Over its admission limit the server drops the whole socket, every call on it failing.
    args = ["--max-concurrent-requests", "2"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        try:
            await transport.execute(("SELECT 1", ()))
            outcomes = await asyncio.gather(
                *(transport.execute(("SELECT 1", ())) for _ in range(6)), return_exceptions=True
            )
        finally:
            await transport.close()

    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failed) >= 2
    assert all(isinstance(error, ConnectionLostError) for error in failed)
    assert [e.calls_lost for e in failed if e.calls_lost is not None] == [len(failed)]
    assert all(error.maybe_applied for error in failed)


@pytest.mark.integration
async def test_a_ping_lost_with_a_dropped_websocket_leaves_the_count_to_the_other_calls(
    log_dir: Path, tmp_path: Path
) -> None:
    # The readiness ping runs outside the pipeline: its limiter and breaker would never hear.
    args = ["--max-concurrent-requests", "2"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        try:
            await transport.execute(("SELECT 1", ()))
            # The pings go first, filling the server's limit and passing it: the first of the
            # calls to see the socket dropped are pings.
            calls = [
                *(transport.ping() for _ in range(4)),
                *(transport.execute(("SELECT 1", ())) for _ in range(3)),
            ]
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await transport.close()

    pings_failed = [outcome for outcome in outcomes[:4] if isinstance(outcome, BaseException)]
    others_failed = [outcome for outcome in outcomes[4:] if isinstance(outcome, BaseException)]
    assert pings_failed
    assert all(isinstance(ping, ConnectionLostError) for ping in pings_failed)
    assert all(ping.calls_lost is None for ping in pings_failed)
    assert all(isinstance(error, ConnectionLostError) for error in others_failed)
    assert len([e for e in others_failed if e.calls_lost is not None]) == 1


@pytest.mark.parametrize("scheme", ["file", "http", "ws"])
async def test_an_argument_the_client_refuses_is_our_bug_not_the_databases(
    scheme: str, tmp_path: Path
) -> None:
    # http and ws: nobody listens, and the argument is refused before anything is sent.
    url = f"file:{tmp_path / 't.db'}" if scheme == "file" else f"{scheme}://127.0.0.1:{free_port()}"
    transport = Transport.open(url, None, round_trips=RoundTripCounter())
    try:
        with pytest.raises(AppBugError) as raised:
            await transport.execute(("SELECT ?", ([1],)))  # type: ignore[list-item]
    finally:
        await transport.close()

    assert isinstance(raised.value.__cause__, TypeError)


# Hrana answers that parse as JSON but miss a field or have one of the wrong type: libsql-client
# raises KeyError, TypeError or ValueError (not LibsqlError) while reading them.
GARBLED_RESULTS: list[object] = [
    {"cols": []},  # no rows: KeyError
    {"cols": [], "rows": [[{"type": "integer", "value": "x"}]], "affected_row_count": 0},
    {"cols": [], "rows": 7, "affected_row_count": 0},  # TypeError
]


@pytest.fixture
async def garbling_server() -> AsyncIterator[Callable[[object], str]]:
    """A Hrana-looking server on loopback whose every execute answer has the given result;
    gives a function that sets the result and returns the server's base URL (http; ws too)."""
    answer: dict[str, object] = {}

    async def http_execute(_request: web.Request) -> web.Response:
        return web.json_response({"result": answer["result"]})

    async def ws_session(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(protocols=["hrana2"])
        await socket.prepare(request)
        async for message in socket:
            sent = json.loads(message.data)
            if sent["type"] == "hello":
                await socket.send_json({"type": "hello_ok"})
                continue
            request_type = sent["request"]["type"]
            result = answer["result"] if request_type == "execute" else None
            response = {"type": request_type, "result": result}
            await socket.send_json(
                {"type": "response_ok", "request_id": sent["request_id"], "response": response}
            )
        return socket

    app = web.Application()
    app.router.add_post("/v1/execute", http_execute)
    app.router.add_get("/", ws_session)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    def answering(result: object) -> str:
        answer["result"] = result
        return f"127.0.0.1:{port}"

    try:
        yield answering
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("scheme", ["http", "ws"])
@pytest.mark.parametrize("result", GARBLED_RESULTS)
async def test_a_garbled_answer_the_client_cannot_parse_is_a_protocol_fault(
    scheme: str, result: object, garbling_server: Callable[[object], str]
) -> None:
    url = f"{scheme}://{garbling_server(result)}"
    transport = Transport.open(url, None, round_trips=RoundTripCounter())
    try:
        with pytest.raises(DbProtocolError) as raised:
            await transport.execute(("SELECT 1", ()))
    finally:
        await transport.close()

    assert isinstance(raised.value.__cause__, KeyError | TypeError | ValueError)


ROTATIONS = 4


def open_sockets_to(port: int) -> int:
    """This process's established TCP connections to `port` on loopback."""
    return sum(
        1
        for connection in psutil.Process().net_connections(kind="tcp")
        if connection.raddr
        and connection.raddr.port == port
        and connection.status == psutil.CONN_ESTABLISHED
    )


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_the_client_of_a_replaced_token_is_closed_not_kept(
    scheme: str, tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Client] = []

    def recorded(url: str, **kwargs: Any) -> Client:
        made.append(create_client(url, **kwargs))
        return made[-1]

    monkeypatch.setattr(transport_module, "create_client", recorded)
    key = JwtAuth.generate()
    expired = [key.sign({**READ_WRITE_CLAIMS, "exp": 1, "n": n}) for n in range(ROTATIONS)]
    tokens = TokenFile(tmp_path / "token", min_interval_s=0)
    with local_turso(tmp_path / "db.sqlite", log_dir, jwt_auth=key) as server:
        transport = Transport.open(
            server.url(scheme), expired[0], round_trips=RoundTripCounter(), token_file=tokens
        )
        try:
            # Each token is refused (it has expired), so the next call takes the next one.
            for token in [*expired[1:], key.token]:
                with pytest.raises(DbAuthRejected):
                    await transport.execute(("SELECT 1", ()))
                tokens.path.write_text(token)
            await transport.execute(("SELECT 1", ()))
            open_clients = await open_clients_once_closed(made, in_use=1)
            sockets = open_sockets_to(server.port)
        finally:
            await transport.close()

    assert len(made) == ROTATIONS + 1
    assert open_clients == 1
    assert sockets == 1


async def open_clients_once_closed(
    made: Sequence[Client | GatedClient], *, in_use: int, limit: int = 100
) -> int:
    """How many of `made` are open, once those being closed (in tasks) are: at most `limit`
    turns of the loop, 10 ms apart, for all but the `in_use` ones to close."""
    for _ in range(limit):
        if sum(not client.closed for client in made) <= in_use:
            break
        await asyncio.sleep(0.01)
    return sum(not client.closed for client in made)


class GatedClient:
    """A real file: client whose calls wait while `gate` is clear, and that refuses its token
    (as the database would) once `refusal` is set."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = asyncio.Event()
        self.refusal: LibsqlError | None = None

    async def execute(self, *args: Any) -> Any:
        if self.refusal is not None:
            raise self.refusal
        self.waiting.set()
        await self.gate.wait()
        return await self._client.execute(*args)

    async def close(self) -> None:
        await self._client.close()

    @property
    def closed(self) -> bool:
        return self._client.closed


async def test_a_replaced_client_is_closed_once_its_calls_in_flight_have_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[GatedClient] = []

    def gated(url: str, **kwargs: Any) -> GatedClient:
        made.append(GatedClient(create_client(url, **kwargs)))
        return made[-1]

    monkeypatch.setattr(transport_module, "create_client", gated)
    tokens = TokenFile(tmp_path / "token", min_interval_s=0)
    tokens.path.write_text("old")
    transport = Transport.open(
        f"file:{tmp_path / 't.db'}", "old", round_trips=RoundTripCounter(), token_file=tokens
    )
    try:
        [old] = made
        old.gate.clear()
        in_flight = asyncio.create_task(transport.execute(("SELECT 1 AS x", ())))
        await old.waiting.wait()
        old.refusal = LibsqlError("The JWT has expired", "AUTH_JWT_EXPIRED")
        with pytest.raises(DbAuthRejected):
            await transport.execute(("SELECT 1", ()))
        tokens.path.write_text("new")
        await transport.execute(("SELECT 1", ()))  # on a new client: the old one is replaced
        open_while_in_flight = not old.closed
        old.gate.set()
        answered = await in_flight
        open_after = await open_clients_once_closed([old], in_use=0)
    finally:
        await transport.close()

    assert len(made) == 2
    assert open_while_in_flight
    assert answered.rows == [{"x": 1}]
    assert open_after == 0


@pytest.mark.integration
async def test_timeouts_on_a_retired_socket_after_its_replacement_answered_are_not_set_aside(
    log_dir: Path, tmp_path: Path
) -> None:
    """Calls on a silent socket time out over one attempt timeout; those ending after the
    fresh socket has answered are that socket's fault alone, and must not be charged to the
    fresh one's first timeout (which then opened the breaker on one slow call)."""

    async def timed_out(timeout_s: float) -> int:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await transport.execute(("SELECT 1", ()))
        return transport.retire_unanswered_connection(grace_s=1.0)

    args = ["--ws-silent-after-s", str(SILENT_AFTER_S)]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        try:
            await transport.execute(("SELECT 1", ()))
            await asyncio.sleep(SILENT_AFTER_S)  # the first socket is silent from here on
            late = asyncio.create_task(timed_out(0.6))
            first = await timed_out(ATTEMPT_TIMEOUT_S)
            await transport.execute(("SELECT 1", ()))  # the fresh socket answers
            set_aside = await late
            await asyncio.sleep(SILENT_AFTER_S)  # now the fresh socket is silent too
            fresh_socket_timeout = await timed_out(ATTEMPT_TIMEOUT_S)
        finally:
            await transport.close()

    assert (first, set_aside, fresh_socket_timeout) == (1, 0, 1)


async def test_calls_waiting_on_a_socket_cut_while_connecting_are_reported_once() -> None:
    """A proxy resets a new connection: every call waiting on that socket fails with it, one
    fault for the breaker (counted per call, six calls had opened it)."""

    async def cut(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    server = await asyncio.start_server(cut, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Transport.open(f"ws://127.0.0.1:{port}", None, round_trips=RoundTripCounter())
    try:
        failed = await asyncio.gather(
            *(transport.execute((f"SELECT {i}", ())) for i in range(6)), return_exceptions=True
        )
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()

    assert all(isinstance(error, DbError) for error in failed)
    reporters = [e for e in failed if isinstance(e, DbError) and not e.reported_by_another_call]
    assert len(reporters) == 1
