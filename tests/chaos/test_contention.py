"""The lock holder really takes SQLite's write lock, and always gives it back."""

from __future__ import annotations

from pathlib import Path

import libsql_client
import pytest

from chaos.contention import LockHolder, contending
from harness.stack import local_turso

pytestmark = pytest.mark.integration

HOLDER = LockHolder(hold_ms=300, pause_ms=100)


async def test_writers_meet_busy_while_the_holder_runs_and_not_after(
    tmp_path: Path, log_dir: Path
) -> None:
    args = ["--busy-timeout-ms", "20"]
    with local_turso(tmp_path / "db.sqlite", log_dir, extra_args=args) as server:
        async with libsql_client.create_client(server.http_url) as client:
            await client.execute("CREATE TABLE t (v)")
            async with contending(server.http_url, None, HOLDER) as stats:
                busy = await first_busy(client, attempts=200)
            await client.execute("INSERT INTO t VALUES (1)")  # the lock was given back

    assert busy == "SQLITE_BUSY"
    assert stats.held >= 1


async def first_busy(client: libsql_client.Client, attempts: int) -> str | None:
    """The error code of the first insert refused for the lock (200 tries, ~20 ms each)."""
    for sequence in range(attempts):
        try:
            await client.execute("INSERT INTO t VALUES (?)", [sequence])
        except libsql_client.LibsqlError as error:
            return error.code
    return None
