"""Real clients see the same on both servers: libsql-client (HTTP, WebSocket, its DB-API
module) and the libsql SDK in remote mode."""

from __future__ import annotations

import asyncio
from typing import Any

import libsql
import libsql_client
import libsql_client.dbapi2
import pytest

from harness.stack import DatabaseServer
from tests.localturso.conformance.conftest import Pair

pytestmark = pytest.mark.integration

VALUES = [None, 0, -(2**63), 2**63 - 1, 1.5, "", "ünï€ 😀", b"", b"\x00\xff"]


def described(result: libsql_client.ResultSet) -> dict[str, Any]:
    return {
        "columns": result.columns,
        "rows": [tuple(row) for row in result.rows],
        "rows_affected": result.rows_affected,
        "last_insert_rowid": result.last_insert_rowid,
    }


async def client_session(url: str, token: str, table: str) -> list[Any]:
    """Statements, a batch, a committed and a rolled-back transaction, and errors."""
    seen: list[Any] = []
    async with libsql_client.create_client(url, auth_token=token) as client:
        seen.append(described(await client.execute(f"CREATE TABLE {table} (a, b TEXT)")))
        for value in VALUES:
            result = await client.execute(f"INSERT INTO {table} (a) VALUES (?)", [value])
            seen.append(described(result))
        seen.append(described(await client.execute(f"SELECT a, typeof(a) FROM {table}")))
        batch = await client.batch(
            [f"INSERT INTO {table} VALUES (1, 'x')", f"UPDATE {table} SET b = 'y' WHERE a = 1"]
        )
        seen.append([described(r) for r in batch])
        if url.startswith("ws"):  # the client's HTTP mode has no interactive transactions
            for finish in ("commit", "rollback"):
                tx = client.transaction()
                await tx.execute(f"INSERT INTO {table} VALUES (?, ?)", [9, finish])
                await getattr(tx, finish)()
                tx.close()
            seen.append(described(await client.execute(f"SELECT b FROM {table} WHERE a = 9")))
        for bad in ("SELEC 1", "SELECT * FROM nope", f"INSERT INTO {table} VALUES (1, 2, 3)"):
            with pytest.raises(libsql_client.LibsqlError) as caught:
                await client.execute(bad)
            seen.append(caught.value.code)
    return seen


@pytest.mark.parametrize("scheme", ["http", "ws"])
def test_libsql_client(pair: Pair, table: str, scheme: str) -> None:
    def run(server: DatabaseServer) -> list[Any]:
        url = server.http_url if scheme == "http" else server.ws_url
        return asyncio.run(client_session(url, pair.auth.token, f"{table}_{server.kind}"))

    real, local = (run(server) for server in pair.both)
    assert _untabled(local, "localturso") == _untabled(real, "sqld")


def _untabled(seen: Any, kind: str) -> Any:
    """The table names differ per server; everything else must not."""
    return repr(seen).replace(f"_{kind}", "")


def dbapi_session(connection: Any, table: str) -> list[Any]:
    cursor = connection.cursor()
    cursor.execute(f"CREATE TABLE {table} (a INTEGER PRIMARY KEY, b)")
    cursor.executemany(f"INSERT INTO {table} (b) VALUES (?)", [(v,) for v in VALUES])
    connection.commit()
    cursor.execute(f"SELECT a, b FROM {table} ORDER BY a")
    seen: list[Any] = [cursor.fetchall(), [d[0] for d in cursor.description]]
    cursor.execute(f"UPDATE {table} SET b = 'u' WHERE a > 5")
    seen += [cursor.rowcount]
    connection.rollback()
    cursor.execute(f"SELECT count(*) FROM {table} WHERE b = 'u'")
    seen += [cursor.fetchall()]
    cursor.execute(f"INSERT INTO {table} (b) VALUES ('last')")
    seen += [cursor.lastrowid]
    connection.commit()
    return seen


def test_libsql_client_dbapi2(pair: Pair, table: str) -> None:
    results = []
    for server in pair.both:
        connection = libsql_client.dbapi2.connect(server.ws_url, auth_token=pair.auth.token)
        try:
            results.append(dbapi_session(connection, f"{table}_{server.kind}"))
        finally:
            connection.close()
    assert results[1] == results[0]


def test_libsql_sdk_remote(pair: Pair, table: str) -> None:
    results = []
    for server in pair.both:
        connection = libsql.connect(server.http_url, auth_token=pair.auth.token)
        results.append(dbapi_session(connection, f"{table}_{server.kind}"))
    assert results[1] == results[0]
