"""The error tree the server answers with, and the one mapping of SQLite failures to sqld codes."""

from __future__ import annotations

import apsw

# sqld reports SQLite's primary result code by name (rusqlite's ErrorCode); SQLITE_ERROR
# itself is rusqlite's ErrorCode::Unknown, hence SQLITE_UNKNOWN.
_SQLITE_CODES = {
    apsw.SQLITE_ERROR: "SQLITE_UNKNOWN",
    apsw.SQLITE_INTERNAL: "SQLITE_INTERNAL",
    apsw.SQLITE_PERM: "SQLITE_PERM",
    apsw.SQLITE_ABORT: "SQLITE_ABORT",
    apsw.SQLITE_BUSY: "SQLITE_BUSY",
    apsw.SQLITE_LOCKED: "SQLITE_LOCKED",
    apsw.SQLITE_NOMEM: "SQLITE_NOMEM",
    apsw.SQLITE_READONLY: "SQLITE_READONLY",
    apsw.SQLITE_INTERRUPT: "SQLITE_INTERRUPT",
    apsw.SQLITE_IOERR: "SQLITE_IOERR",
    apsw.SQLITE_CORRUPT: "SQLITE_CORRUPT",
    apsw.SQLITE_NOTFOUND: "SQLITE_NOTFOUND",
    apsw.SQLITE_FULL: "SQLITE_FULL",
    apsw.SQLITE_CANTOPEN: "SQLITE_CANTOPEN",
    apsw.SQLITE_PROTOCOL: "SQLITE_PROTOCOL",
    apsw.SQLITE_SCHEMA: "SQLITE_SCHEMA",
    apsw.SQLITE_TOOBIG: "SQLITE_TOOBIG",
    apsw.SQLITE_CONSTRAINT: "SQLITE_CONSTRAINT",
    apsw.SQLITE_MISMATCH: "SQLITE_MISMATCH",
    apsw.SQLITE_MISUSE: "SQLITE_MISUSE",
    apsw.SQLITE_NOLFS: "SQLITE_NOLFS",
    apsw.SQLITE_AUTH: "SQLITE_AUTH",
    apsw.SQLITE_RANGE: "SQLITE_RANGE",
    apsw.SQLITE_NOTADB: "SQLITE_NOTADB",
}

# sqld parses SQL with its own parser before SQLite sees it, so these SQLite messages are
# the ones sqld would have reported as SQL_PARSE_ERROR.
_PARSE_ERROR_MARKERS = ("syntax error", "incomplete input", "unrecognized token")

# WebSocket close codes sqld uses for protocol violations.
WS_CLOSE_POLICY = 1008
WS_CLOSE_INVALID = 1007
WS_CLOSE_UNSUPPORTED = 1003


class HranaError(Exception):
    """An error the client is told about as a Hrana `Error` object `{message, code}`."""

    http_status = 500

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def to_proto(self) -> dict[str, str]:
        return {"message": self.message, "code": self.code}

    def http_body(self) -> dict[str, str]:
        return self.to_proto()


class ProtocolError(HranaError):
    """The client broke the protocol; sqld answers 400 over HTTP and closes a WebSocket."""

    http_status = 400

    def __init__(self, message: str, code: str, close_code: int = WS_CLOSE_POLICY) -> None:
        super().__init__(message, code)
        self.close_code = close_code


def json_error(detail: str) -> ProtocolError:
    return ProtocolError(
        f"Cannot deserialize client message from JSON: {detail}",
        "JSON_DESERIALIZE",
        WS_CLOSE_INVALID,
    )


def not_supported(what: str, min_version: int) -> ProtocolError:
    return ProtocolError(
        f"{what} is only supported in protocol version hrana{min_version} and higher",
        "NOT_SUPPORTED",
    )


_STMT_STATUS_BY_CODE = {
    "SQL_PARSE_ERROR": 400,
    "SQL_NO_STATEMENT": 400,
    "SQL_MANY_STATEMENTS": 400,
    "ARGS_INVALID": 400,
    "SQL_INPUT_ERROR": 400,
    "ARGS_BOTH_POSITIONAL_AND_NAMED": 501,
}


class StmtError(HranaError):
    """A statement failed; over HTTP v1 the status depends on why, as in sqld."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code)
        self.http_status = _STMT_STATUS_BY_CODE.get(code, 500)


def no_statement() -> StmtError:
    return StmtError("SQL string does not contain any statement", "SQL_NO_STATEMENT")


def many_statements() -> StmtError:
    return StmtError("SQL string contains more than one statement", "SQL_MANY_STATEMENTS")


def args_invalid(detail: str) -> StmtError:
    return StmtError(f"Arguments do not match SQL parameters: {detail}", "ARGS_INVALID")


def args_both_positional_and_named() -> StmtError:
    return StmtError(
        "Specifying both positional and named arguments is not supported",
        "ARGS_BOTH_POSITIONAL_AND_NAMED",
    )


def is_parse_error(exc: BaseException) -> bool:
    return isinstance(exc, apsw.SQLError) and any(m in str(exc) for m in _PARSE_ERROR_MARKERS)


def stmt_error_from_sqlite(exc: BaseException, sqld_parses: bool = True) -> StmtError:
    """The sqld error for an exception raised while preparing, binding or stepping a statement.

    `sqld_parses`: sqld's own parser sees the SQL first (not so for describe), so a syntax
    error is its SQL_PARSE_ERROR rather than SQLite's SQL_INPUT_ERROR.
    """
    message = str(exc)
    if isinstance(exc, apsw.BindingsError | KeyError | TypeError | OverflowError):
        detail = f"missing value for parameter {message}" if isinstance(exc, KeyError) else message
        return args_invalid(detail)
    if sqld_parses and is_parse_error(exc):
        return StmtError(f"SQL string could not be parsed: {message}", "SQL_PARSE_ERROR")
    if isinstance(exc, apsw.SQLError) and getattr(exc, "error_offset", -1) >= 0:
        return StmtError(
            f"SQL input error: {message} (at offset {exc.error_offset})", "SQL_INPUT_ERROR"
        )
    if isinstance(exc, apsw.Error):
        result = getattr(exc, "result", apsw.SQLITE_ERROR)
        return StmtError(f"SQLite error: {message}", _SQLITE_CODES.get(result, "SQLITE_UNKNOWN"))
    return StmtError(f"SQLite error: {message}", "SQLITE_UNKNOWN")


class StreamExpired(HranaError):
    """An HTTP stream was idle for longer than the expiry; sqld answers 400 with this JSON."""

    http_status = 400

    def __init__(self) -> None:
        super().__init__("The stream has expired due to inactivity", "STREAM_EXPIRED")


class ServerError(HranaError):
    """Errors sqld answers outside the Hrana shape, as JSON `{"error": "<text>"}`."""

    def __init__(self, message: str, code: str, status: int, text: str | None = None) -> None:
        super().__init__(message, code)
        self.http_status = status
        self._text = message if text is None else text

    def http_body(self) -> dict[str, str]:
        return {"error": self._text}


def unauthorized(message: str) -> ServerError:
    return ServerError(message, "UNAUTHORIZED", 401, f"Unauthorized: `{message}`")


def cursor_failed(error: HranaError) -> ServerError:
    """sqld fails a whole /v3/cursor request with 500 when a step cannot be parsed."""
    return ServerError(error.message, error.code, 500, f"Internal Error: `{error.message}`")


def overloaded() -> ServerError:
    return ServerError("Too many concurrent requests", "TOO_MANY_REQUESTS", 429)


def body_too_large(limit: int) -> ServerError:
    return ServerError(
        f"Request body is larger than the limit of {limit} bytes", "REQUEST_TOO_LARGE", 413
    )
