"""The one conversion of client errors, and the transport's counting, on real clients."""

from __future__ import annotations

import asyncio
import contextvars
import json
import ssl
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
import pytest
from libsql_client import LibsqlError

from harness.processes import free_port
from harness.settings import HarnessSettings
from harness.stack import TlsFiles, local_turso
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Transport, classify, parse_retry_after
from reference_app.resilience.errors import (
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
        (LibsqlError("Server returned HTTP status 429", "SERVER_ERROR"), TransientDbError, True),
        (LibsqlError("Too many concurrent requests", "TOO_MANY_REQUESTS"), TransientDbError, True),
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
        (KeyError("result"), UnreachableDbError, True),
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
            assert transport.retire_unanswered_connection(grace_s=ATTEMPT_TIMEOUT_S) is False
            # Timed out again on the retired socket: news, while the new one has not answered.
            assert transport.retire_unanswered_connection(grace_s=ATTEMPT_TIMEOUT_S) is False
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
async def test_a_timeout_on_a_retired_socket_is_no_news_once_its_replacement_answers(
    log_dir: Path, tmp_path: Path
) -> None:
    args = ["--ws-silent-after-s", str(SILENT_AFTER_S)]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        transport = Transport.open(server.ws_url, None, round_trips=RoundTripCounter())
        try:
            await transport.execute(("SELECT 1", ()))
            await asyncio.sleep(SILENT_AFTER_S)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(ATTEMPT_TIMEOUT_S):
                    await transport.execute(("SELECT 1", ()))
            assert transport.retire_unanswered_connection(grace_s=ATTEMPT_TIMEOUT_S) is False
            retired = contextvars.copy_context()  # this task's last call: on the retired socket
            await transport.execute(("SELECT 1", ()))  # the new socket answers

            again = retired.run(transport.retire_unanswered_connection, ATTEMPT_TIMEOUT_S)
        finally:
            await transport.close()

    assert again is True
