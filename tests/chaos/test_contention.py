"""The lock holders really take SQLite's write lock, and always give it back."""

from __future__ import annotations

import time
from pathlib import Path

import libsql_client
import pytest

from chaos.contention import LockHolder, contending
from harness.stack import local_turso

pytestmark = pytest.mark.integration

HOLD_MS = 300


async def test_a_holder_on_the_file_makes_writers_meet_busy_and_gives_the_lock_back(
    tmp_path: Path, log_dir: Path
) -> None:
    holder = LockHolder(hold_ms=HOLD_MS, pause_ms=100, kind="file")
    args = ["--busy-timeout-ms", "20"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        async with libsql_client.create_client(server.http_url) as client:
            await client.execute("CREATE TABLE t (v)")
            async with contending(server.http_url, None, holder, server.db) as stats:
                busy = await first_error(client, attempts=200)
            await client.execute("INSERT INTO t VALUES (1)")  # the lock was given back

    assert busy == "SQLITE_BUSY"
    assert stats.held >= 1


async def test_a_holder_over_hrana_makes_writers_wait(tmp_path: Path, log_dir: Path) -> None:
    holder = LockHolder(hold_ms=HOLD_MS, pause_ms=100)
    with local_turso(tmp_path / "db.sqlite", log_dir) as server:
        async with libsql_client.create_client(server.http_url) as client:
            await client.execute("CREATE TABLE t (v)")
            async with contending(server.http_url, None, holder) as stats:
                slowest_s = await slowest_insert_s(client, inserts=20)

    assert stats.held >= 1
    assert slowest_s >= HOLD_MS / 1000 / 3  # some insert waited for a held lock


async def first_error(client: libsql_client.Client, attempts: int) -> str | None:
    """The error code of the first insert refused for the lock (200 tries, ~20 ms each)."""
    for sequence in range(attempts):
        try:
            await client.execute("INSERT INTO t VALUES (?)", [sequence])
        except libsql_client.LibsqlError as error:
            return error.code
    return None


async def slowest_insert_s(client: libsql_client.Client, inserts: int) -> float:
    slowest = 0.0
    for sequence in range(inserts):
        started = time.perf_counter()
        await client.execute("INSERT INTO t VALUES (?)", [sequence])
        slowest = max(slowest, time.perf_counter() - started)
    return slowest
