"""Stream requests of Hrana over HTTP (v2/v3 pipeline, v3 cursor), run on the stream's thread."""

from __future__ import annotations

from typing import Any

from localturso.engine import SqlConnection
from localturso.errors import (
    HranaError,
    ProtocolError,
    StmtError,
    cursor_failed,
    json_error,
    not_supported,
)
from localturso.protocol import (
    HRANA3,
    decode_batch,
    decode_sql,
    decode_stmt,
    expect_int32,
    expect_object,
    request_type,
)
from localturso.streams import HttpStream, baton_stream_closed

STREAM_REQUEST_TYPES = ", ".join(
    f"`{kind}`"
    for kind in (
        "close",
        "execute",
        "batch",
        "sequence",
        "describe",
        "store_sql",
        "close_sql",
        "get_autocommit",
    )
)
# sqld's limits on SQL texts stored per stream.
MAX_STORED_SQLS = 50
MAX_STORED_SQL_BYTES = 5 * 1000


def _open(stream: HttpStream) -> None:
    if stream.closed:
        raise baton_stream_closed()


def _store_sql(stream: HttpStream, request: dict[str, Any]) -> dict[str, Any]:
    sql_id = expect_int32(request.get("sql_id"), "store_sql.sql_id")
    sql = request.get("sql")
    if type(sql) is not str:
        raise ProtocolError("store_sql.sql must be a string", "JSON_DESERIALIZE")
    if sql_id in stream.sqls:
        raise ProtocolError(f"SQL text {sql_id} already exists", "SQL_EXISTS")
    if len(stream.sqls) >= MAX_STORED_SQLS:
        raise StmtError(
            f"The server already stores {len(stream.sqls)} SQL texts, it cannot store more",
            "SQL_STORE_TOO_MANY",
        )
    size = len(sql.encode())
    if size > MAX_STORED_SQL_BYTES:
        raise StmtError(
            f"The statement is too large to be stored: {size} B/{MAX_STORED_SQL_BYTES} B",
            "SQL_STORE_TOO_LARGE",
        )
    stream.sqls[sql_id] = sql
    return {"type": "store_sql"}


def handle_request(
    connection: SqlConnection, stream: HttpStream, request: Any, version: int
) -> dict[str, Any]:
    """One stream request; StmtError means a per-request error, ProtocolError fails the pipeline."""
    kind = request_type(request, "request")
    request = expect_object(request, "request")
    if kind == "execute":
        _open(stream)
        stmt = decode_stmt(request.get("stmt"), stream.sqls, version)
        return {"type": "execute", "result": connection.execute(stmt)}
    if kind == "batch":
        _open(stream)
        steps = decode_batch(request.get("batch"), stream.sqls, version)
        return {"type": "batch", "result": connection.batch(steps)}
    if kind == "sequence":
        _open(stream)
        connection.sequence(decode_sql(request, stream.sqls, version, "sequence"))
        return {"type": "sequence"}
    if kind == "describe":
        _open(stream)
        sql = decode_sql(request, stream.sqls, version, "describe")
        return {"type": "describe", "result": connection.describe(sql)}
    if kind == "store_sql":
        return _store_sql(stream, request)
    if kind == "close_sql":
        stream.sqls.pop(expect_int32(request.get("sql_id"), "close_sql.sql_id"), None)
        return {"type": "close_sql"}
    if kind == "get_autocommit":
        if version < HRANA3:
            raise not_supported("The `get_autocommit` request", HRANA3)
        _open(stream)
        return {"type": "get_autocommit", "is_autocommit": connection.is_autocommit}
    if kind == "close":
        stream.closed = True
        return {"type": "close"}
    raise json_error(f"unknown variant `{kind}`, expected one of {STREAM_REQUEST_TYPES}")


def run_pipeline(
    connection: SqlConnection, stream: HttpStream, requests: list[Any], version: int
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for request in requests:
        try:
            response = handle_request(connection, stream, request, version)
        except StmtError as exc:
            results.append({"type": "error", "error": exc.to_proto()})
        else:
            results.append({"type": "ok", "response": response})
    return results


def run_cursor(
    connection: SqlConnection, stream: HttpStream, batch: Any, version: int
) -> list[dict[str, Any]]:
    _open(stream)
    try:
        steps = decode_batch(batch, stream.sqls, version)
        return connection.cursor_entries(steps)
    except ProtocolError:
        raise
    except HranaError as exc:
        raise cursor_failed(exc) from None
