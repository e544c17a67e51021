"""libsql-client over ws:// (hrana2): streams, batches, interactive transactions, sequence."""

from __future__ import annotations

import asyncio

import aiohttp
import libsql_client
import pytest
from libsql_client.hrana.conn import HranaConn

from harness.stack import LocalTurso

pytestmark = pytest.mark.integration


async def test_execute_and_every_value_type(server: LocalTurso, table: str) -> None:
    values = [None, -(2**63), 2**63 - 1, 0.5, "ünïcode ✓", b"\x00\x01\xfe"]
    async with libsql_client.create_client(server.ws_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v)")
        for value in values:
            await client.execute(f"INSERT INTO {table} (v) VALUES (?)", [value])
        rows = (await client.execute(f"SELECT v FROM {table} ORDER BY id")).rows
        assert [row[0] for row in rows] == values
        assert [type(row[0]) for row in rows] == [type(v) for v in values]


async def test_batch_is_atomic(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.ws_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.batch(
                [f"INSERT INTO {table} VALUES (1)", f"INSERT INTO {table} VALUES (1)"]
            )
        assert caught.value.code == "SQLITE_CONSTRAINT"
        assert (await client.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 0


async def test_transaction_commit_and_rollback(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.ws_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)")
        tx = client.transaction()
        await tx.execute(f"INSERT INTO {table} (v) VALUES ('rolled back')")
        inside = await tx.execute(f"SELECT count(*) FROM {table}")
        assert inside.rows[0][0] == 1
        await tx.rollback()
        tx = client.transaction()
        await tx.execute(f"INSERT INTO {table} (v) VALUES ('kept')")
        await tx.commit()
        rows = (await client.execute(f"SELECT v FROM {table}")).rows
        assert [row[0] for row in rows] == ["kept"]


async def test_readers_do_not_wait_for_an_open_write_transaction(
    server: LocalTurso, table: str
) -> None:
    async with (
        libsql_client.create_client(server.ws_url) as writer,
        libsql_client.create_client(server.http_url) as reader,
    ):
        await writer.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        tx = writer.transaction()
        await tx.execute(f"INSERT INTO {table} VALUES (1)")
        # WAL: the reader sees the last commit at once instead of waiting on the writer.
        result = await asyncio.wait_for(reader.execute(f"SELECT count(*) FROM {table}"), 2.0)
        assert result.rows[0][0] == 0
        await tx.commit()
        assert (await reader.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 1


async def test_constraint_error_in_transaction(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.ws_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        tx = client.transaction()
        await tx.execute(f"INSERT INTO {table} VALUES (1)")
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await tx.execute(f"INSERT INTO {table} VALUES (1)")
        assert caught.value.code == "SQLITE_CONSTRAINT"
        await tx.rollback()


async def test_sequence_and_stored_sql_over_the_client_connection(
    server: LocalTurso, table: str
) -> None:
    async with aiohttp.ClientSession() as session:
        conn = HranaConn(session, server.ws_url)
        try:
            await conn.wait_connected()
            stream = conn.open_stream()
            await stream.sequence(
                f"CREATE TABLE {table} (v TEXT); INSERT INTO {table} VALUES ('a;b');"
                f" INSERT INTO {table} VALUES ('c')"
            )
            sql_id = conn.store_sql(f"SELECT v FROM {table} ORDER BY rowid")
            result = await stream.execute({"sql_id": sql_id, "want_rows": True})
            assert [row[0]["value"] for row in result["rows"]] == ["a;b", "c"]
            with pytest.raises(libsql_client.LibsqlError) as caught:
                await stream.sequence("INSERT INTO nowhere VALUES (1)")
            assert caught.value.code == "SQLITE_UNKNOWN"
            conn.close_sql(sql_id)
            stream.close()
        finally:
            await conn.close()


async def test_many_concurrent_clients(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.ws_url) as setup:
        await setup.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, c INTEGER)")

    async def client_work(index: int) -> None:
        async with libsql_client.create_client(server.ws_url) as client:
            for step in range(10):
                await client.execute(f"INSERT INTO {table} (c) VALUES (?)", [index * 100 + step])

    await asyncio.gather(*(client_work(i) for i in range(16)))
    async with libsql_client.create_client(server.http_url) as check:
        assert (await check.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 160


async def test_hrana3_cursor_and_autocommit_over_websocket(server: LocalTurso) -> None:
    batch = {
        "steps": [{"stmt": {"sql": "SELECT 1 UNION ALL SELECT 2"}}, {"stmt": {"sql": "BEGIN"}}]
    }
    requests = [
        {"type": "open_stream", "stream_id": 1},
        {"type": "open_cursor", "stream_id": 1, "cursor_id": 5, "batch": batch},
        {"type": "fetch_cursor", "cursor_id": 5, "max_count": 3},
        {"type": "fetch_cursor", "cursor_id": 5, "max_count": 100},
        {"type": "close_cursor", "cursor_id": 5},
        {"type": "get_autocommit", "stream_id": 1},
        {"type": "close_stream", "stream_id": 1},
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url, protocols=["hrana3", "hrana2"]) as ws,
    ):
        assert ws.protocol == "hrana3"
        await ws.send_json({"type": "hello", "jwt": None})
        for request_id, request in enumerate(requests):
            await ws.send_json({"type": "request", "request_id": request_id, "request": request})
        replies = [await ws.receive_json(timeout=5) for _ in range(len(requests) + 1)]
    responses = [reply["response"] for reply in replies[1:]]
    first, rest = responses[2], responses[3]
    assert [e["type"] for e in first["entries"]] == ["step_begin", "row", "row"]
    assert first["done"] is False
    assert [e["type"] for e in rest["entries"]] == [
        "step_end",
        "step_begin",
        "step_end",
        "replication_index",
    ]
    assert rest["done"] is True
    assert responses[5] == {"type": "get_autocommit", "is_autocommit": False}
