"""Acknowledged writes survive kill -9; SIGTERM shuts down cleanly; the ready line is printed."""

from __future__ import annotations

from pathlib import Path

import libsql_client
import pytest

from harness.stack import local_turso_process

pytestmark = pytest.mark.integration

ROWS = 200


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path, log_dir: Path) -> None:
    db = tmp_path / "durable.db"
    first = local_turso_process(db, log_dir)
    first.process.start()
    try:
        async with libsql_client.create_client(first.http_url) as client:
            await client.execute("CREATE TABLE acked (id INTEGER PRIMARY KEY, v TEXT)")
            for i in range(ROWS):
                await client.execute("INSERT INTO acked (v) VALUES (?)", [f"row-{i}"])
        async with libsql_client.create_client(first.ws_url) as client:
            tx = client.transaction()
            await tx.execute("INSERT INTO acked (v) VALUES ('ws-committed')")
            await tx.commit()
            pending = client.transaction()
            await pending.execute("INSERT INTO acked (v) VALUES ('never-committed')")
            first.process.kill()
    finally:
        first.process.stop()

    second = local_turso_process(db, log_dir)
    second.process.start()
    try:
        async with libsql_client.create_client(second.http_url) as client:
            result = await client.execute("SELECT count(*), max(v) FROM acked")
            assert result.rows[0][0] == ROWS + 1
            never = await client.execute("SELECT count(*) FROM acked WHERE v = 'never-committed'")
            assert never.rows[0][0] == 0
    finally:
        second.process.stop()


def test_sigterm_shuts_down_cleanly_and_prints_url(tmp_path: Path, log_dir: Path) -> None:
    server = local_turso_process(tmp_path / "clean.db", log_dir)
    server.process.start()
    assert server.process.stop() == 0
    log_text = server.process.log_path.read_text()
    assert f"localturso listening on {server.http_url}" in log_text
    assert "database closed" in log_text
    assert "Traceback" not in log_text
