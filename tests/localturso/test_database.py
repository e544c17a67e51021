"""Short reads run inline on the loop (stateless, or on an idle stream); the rest on a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from localturso.database import Database
from localturso.engine import SqlConnection
from localturso.errors import StmtError
from localturso.protocol import Stmt

# About a million VM steps: far past the inline budget.
LONG_READ = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
    "SELECT count(*) FROM n"
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "db.sqlite"), busy_timeout_ms=1000, max_connections=4)
    await db.execute(Stmt("CREATE TABLE t (v TEXT)", None))
    await db.execute(Stmt("INSERT INTO t VALUES ('a')", None))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def empty(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "empty.sqlite"), busy_timeout_ms=1000, max_connections=4)
    try:
        yield db
    finally:
        await db.close()


def workers_started(db: Database) -> int:
    return len(db._idle) + db._in_use


async def test_a_point_read_needs_no_worker_thread(database: Database, empty: Database) -> None:
    started = workers_started(database)

    result = await database.execute(Stmt("SELECT v FROM t WHERE rowid = ?", [1]))
    await empty.execute(Stmt("SELECT 1", None))

    assert result["rows"] == [[{"type": "text", "value": "a"}]]
    assert workers_started(database) == started
    assert workers_started(empty) == 0


async def test_a_write_runs_on_a_worker_and_the_next_read_sees_it(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "db.sqlite"), busy_timeout_ms=1000, max_connections=4)
    try:
        await db.execute(Stmt("CREATE TABLE t (v TEXT)", None))
        assert workers_started(db) == 1
        inserted = await db.execute(Stmt("INSERT INTO t VALUES (?)", ["b"]))
        read = await db.execute(Stmt("SELECT count(*) FROM t", None))
    finally:
        await db.close()

    assert inserted["affected_row_count"] == 1
    assert read["rows"] == [[{"type": "integer", "value": "1"}]]


async def test_a_long_read_is_handed_to_a_worker_and_still_answered(empty: Database) -> None:
    result = await empty.execute(Stmt(LONG_READ, None))

    assert result["rows"] == [[{"type": "integer", "value": "200000"}]]
    assert workers_started(empty) == 1, "the long read ran on a pooled worker"


async def test_errors_are_the_workers_own(database: Database) -> None:
    with pytest.raises(StmtError) as parse:
        await database.execute(Stmt("SELEC v FROM t", None))
    with pytest.raises(StmtError) as missing:
        await database.execute(Stmt("SELECT nope FROM t", None))

    assert parse.value.code == "SQL_PARSE_ERROR"
    assert missing.value.code == "SQL_INPUT_ERROR"


async def test_an_inline_read_sees_a_schema_changed_on_a_worker(database: Database) -> None:
    await database.execute(Stmt("SELECT * FROM t", None))  # the inline connection's schema
    await database.execute(Stmt("ALTER TABLE t ADD COLUMN w TEXT", None))

    result = await database.execute(Stmt("SELECT * FROM t", None))

    assert [col["name"] for col in result["cols"]] == ["v", "w"]


async def test_a_stream_read_runs_at_once_and_sees_the_streams_own_transaction(
    database: Database,
) -> None:
    worker = database.acquire()
    await worker.submit(SqlConnection.execute, Stmt("BEGIN", None))
    await worker.submit(SqlConnection.execute, Stmt("INSERT INTO t VALUES ('b')", None))

    own = worker.try_read(Stmt("SELECT count(*) FROM t", None))
    other = await database.execute(Stmt("SELECT count(*) FROM t", None))

    assert own is not None, "nothing was queued, so the read ran on the loop"
    assert own["rows"] == [[{"type": "integer", "value": "2"}]]
    assert other["rows"] == [[{"type": "integer", "value": "1"}]]
    database.release(worker)


async def test_a_stream_read_waits_behind_the_streams_queued_write(database: Database) -> None:
    worker = database.acquire()
    await worker.submit(SqlConnection.execute, Stmt("SELECT 1", None))
    write = worker.submit(SqlConnection.execute, Stmt("INSERT INTO t VALUES ('b')", None))

    early = worker.try_read(Stmt("SELECT count(*) FROM t", None))
    await write
    late = worker.try_read(Stmt("SELECT count(*) FROM t", None))

    assert early is None, "a read must not overtake a job queued on its stream"
    assert late is not None
    assert late["rows"] == [[{"type": "integer", "value": "2"}]]
    database.release(worker)


async def test_a_long_stream_read_is_handed_back_and_the_transaction_survives(
    database: Database,
) -> None:
    worker = database.acquire()
    await worker.submit(SqlConnection.execute, Stmt("BEGIN", None))
    await worker.submit(SqlConnection.execute, Stmt("INSERT INTO t VALUES ('b')", None))

    handed_back = worker.try_read(Stmt(LONG_READ, None))
    long = await worker.submit(SqlConnection.execute, Stmt(LONG_READ, None))
    after = worker.try_read(Stmt("SELECT count(*) FROM t", None))
    autocommit = await worker.submit(lambda connection: connection.is_autocommit)

    assert handed_back is None
    assert long["rows"] == [[{"type": "integer", "value": "200000"}]]
    assert after is not None
    assert after["rows"] == [[{"type": "integer", "value": "2"}]]
    assert autocommit is False, "the interrupted read left the transaction open"
    database.release(worker)


async def test_transaction_statements_are_not_run_on_the_loop(database: Database) -> None:
    worker = database.acquire()
    await worker.submit(SqlConnection.execute, Stmt("SELECT 1", None))

    assert worker.try_read(Stmt("BEGIN", None)) is None
    assert worker.try_read(Stmt("COMMIT", None)) is None
    database.release(worker)
