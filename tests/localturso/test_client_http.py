"""libsql-client over http:// (v1/execute, v1/batch) against a real localturso process."""

from __future__ import annotations

import libsql_client
import pytest

from harness.stack import LocalTurso

pytestmark = pytest.mark.integration

VALUES = [
    None,
    0,
    2**63 - 1,
    -(2**63),
    3.25,
    -1e-300,
    "",
    "héllo ✓ 𝄞 \u0000 end",
    b"",
    b"\x00\xff" * 100,
]


async def test_execute_returns_columns_rows_and_rowid(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.http_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        inserted = await client.execute(f"INSERT INTO {table} (name) VALUES (?)", ["ada"])
        assert inserted.rows_affected == 1
        assert inserted.last_insert_rowid == 1
        result = await client.execute(f"SELECT id, name FROM {table} WHERE name = :n", {"n": "ada"})
        assert result.columns == ("id", "name")
        assert [tuple(row) for row in result.rows] == [(1, "ada")]


@pytest.mark.parametrize("value", VALUES, ids=repr)
async def test_every_value_type_round_trips(server: LocalTurso, value: object) -> None:
    async with libsql_client.create_client(server.http_url) as client:
        result = await client.execute("SELECT ?", [value])
        returned = result.rows[0][0]
        assert returned == value
        assert type(returned) is type(value)


async def test_batch_is_atomic(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.http_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
        results = await client.batch([f"INSERT INTO {table} VALUES (1)", f"SELECT * FROM {table}"])
        assert [tuple(r) for r in results[1].rows] == [(1,)]
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.batch(
                [f"INSERT INTO {table} VALUES (2)", f"INSERT INTO {table} VALUES (1)"]
            )
        assert caught.value.code == "SQLITE_CONSTRAINT"
        count = await client.execute(f"SELECT count(*) FROM {table}")
        assert count.rows[0][0] == 1


async def test_constraint_error_surfaces_with_sqld_code(server: LocalTurso, table: str) -> None:
    async with libsql_client.create_client(server.http_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.execute(f"INSERT INTO {table} (v) VALUES (NULL)")
        assert caught.value.code == "SQLITE_CONSTRAINT"
        assert "NOT NULL constraint failed" in str(caught.value)


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELEC 1", "SQL_PARSE_ERROR"),
        ("SELECT 1; SELECT 2", "SQL_MANY_STATEMENTS"),
        ("SELECT * FROM no_such_table", "SQLITE_UNKNOWN"),
        ("SELECT ?, ?", "ARGS_INVALID"),
    ],
)
async def test_statement_errors(server: LocalTurso, sql: str, code: str) -> None:
    async with libsql_client.create_client(server.http_url) as client:
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.execute(sql, [1])
        assert caught.value.code == code


async def test_open_transaction_is_not_left_behind(server: LocalTurso, table: str) -> None:
    """A stateless request that leaves BEGIN open is rolled back, as sqld drops its stream."""
    async with libsql_client.create_client(server.http_url) as client:
        await client.execute(f"CREATE TABLE {table} (id INTEGER)")
        for _ in range(5):
            await client.execute("BEGIN")
        await client.execute(f"INSERT INTO {table} VALUES (1)")
        for _ in range(5):
            assert (await client.execute(f"SELECT count(*) FROM {table}")).rows[0][0] == 1
