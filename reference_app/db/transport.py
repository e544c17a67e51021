"""The only module that calls libsql-client, and the one place its exceptions are converted.

`classify` turns anything the client can raise (LibsqlError codes, aiohttp and OS errors,
timeouts, truncated JSON) into TransientDbError, PermanentDbError or UnreachableDbError.
libsql-client 0.3.1 speaks WebSocket through aiohttp's `ws_connect`, so aiohttp's exceptions
cover WebSocket faults too.
"""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from libsql_client import Client, LibsqlError, ResultSet, create_client

from reference_app.db.roundtrips import RoundTripCounter
from reference_app.resilience.errors import (
    ConstraintViolation,
    DbError,
    DbTimeoutError,
    PermanentDbError,
    TransientDbError,
    UnreachableDbError,
)

Value = str | int | float | bytes | None
Statement = tuple[str, Sequence[Value]]
# Column types follow from each statement's SQL, which the caller wrote, not from the transport.
Row = dict[str, Any]
T = TypeVar("T")

# What the http client reports for a non-JSON error response; the status is only in the text.
_HTTP_STATUS = re.compile(r"HTTP status (\d{3})")
_RETRYABLE_HTTP_STATUSES = frozenset({408, 429})
# Codes (and extended-code prefixes) for a lost connection or stream, a server that is
# overloaded or failed inside (sqld's 429 and 500 bodies), and SQLite's "try again".
_TRANSIENT_CODE_PREFIXES = (
    "HRANA_WEBSOCKET_ERROR",
    "STREAM_EXPIRED",
    "STREAM_CLOSED",
    "TOO_MANY_REQUESTS",
    "INTERNAL",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
)
# libsql-client's codes for a URL it cannot use: no request was ever sent.
_BAD_URL_CODES = frozenset({"URL_SCHEME_NOT_SUPPORTED", "URL_INVALID", "URL_PARAM_NOT_SUPPORTED"})


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
        case aiohttp.ClientError() | OSError() | json.JSONDecodeError():
            # Reset, disconnected, truncated or garbled response: the path failed mid-call.
            return TransientDbError(message)
        case _:
            # Unknown: not retried (it may be a bug), and no proof the database answers.
            return UnreachableDbError(message)


def _classify_libsql(error: LibsqlError) -> DbError:
    code, message = error.code, str(error)
    if code in _BAD_URL_CODES:
        return UnreachableDbError(message, maybe_applied=False)
    if "CONSTRAINT" in code:
        return ConstraintViolation(message)
    if code == "SERVER_ERROR":
        found = _HTTP_STATUS.search(error.explanation)
        status = int(found[1]) if found else None
        if status and 400 <= status < 500 and status not in _RETRYABLE_HTTP_STATUSES:
            return PermanentDbError(message)
        return TransientDbError(message)
    if code.startswith(_TRANSIENT_CODE_PREFIXES):
        return TransientDbError(message)
    return PermanentDbError(message)


def _to_result(result_set: ResultSet) -> Result:
    rows = [row.asdict() for row in result_set.rows]
    return Result(rows, result_set.rows_affected, result_set.last_insert_rowid)


class Transport:
    """One libsql-client client; every call is counted, timed and (unless raw) converted."""

    def __init__(self, client: Client, *, round_trips: RoundTripCounter, raw_errors: bool) -> None:
        self._client = client
        self._round_trips = round_trips
        self._raw_errors = raw_errors

    @classmethod
    def open(
        cls,
        url: str,
        auth_token: str | None,
        *,
        round_trips: RoundTripCounter,
        raw_errors: bool = False,
    ) -> Transport:
        """A client for `url` (file:, http(s):, ws(s):, libsql:); `raw_errors` skips conversion."""
        try:
            client = create_client(url, auth_token=auth_token)
        except Exception as error:
            if raw_errors:
                raise
            # Nothing was sent, and the same URL will fail the same way.
            raise UnreachableDbError(
                f"cannot use database URL: {type(error).__name__}: {error}", maybe_applied=False
            ) from error
        return cls(client, round_trips=round_trips, raw_errors=raw_errors)

    async def execute(self, statement: Statement) -> Result:
        sql, args = statement
        return _to_result(await self._call("execute", self._client.execute(sql, list(args))))

    async def batch(self, statements: Sequence[Statement]) -> list[Result]:
        """All statements in one round trip and one transaction: one failing rolls back all."""
        stmts = [(sql, list(args)) for sql, args in statements]
        return [_to_result(rs) for rs in await self._call("batch", self._client.batch(stmts))]

    async def close(self) -> None:
        await self._client.close()

    async def _call(self, operation: str, pending: Awaitable[T]) -> T:
        started = time.perf_counter()
        outcome = "cancelled"
        try:
            result = await pending
        except Exception as error:
            converted = classify(error)
            outcome = "transient" if isinstance(converted, TransientDbError) else "permanent"
            if self._raw_errors:
                raise
            raise converted from error
        else:
            outcome = "ok"
            return result
        finally:
            self._round_trips.record(operation, time.perf_counter() - started, outcome)
