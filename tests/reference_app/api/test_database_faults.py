"""A fault of the database or of the path to it is a 503 with its own code, never a 500.

Real servers where the fault can be made: a token the local server rejects (http and ws), a
database file that cannot be written. A client that raises the fault for the kinds that
cannot (a full disk, an I/O error, a garbled message, a closed client, an unknown code).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from libsql_client import Client, LibsqlError, create_client

from harness.auth import JwtAuth
from harness.stack import LocalTurso, local_turso, local_turso_process
from reference_app.db import transport
from reference_app.db.repository import SCHEMA
from reference_app.settings import Settings
from tests.reference_app.conftest import InProcessApp, StartApp, functional_settings

NEW_POST = {"title": "t", "content": "c"}


class FaultyClient:
    """A real file: client that raises `fault` on every call once one is set."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.fault: BaseException | None = None
        self.calls = 0

    async def execute(self, *args: Any) -> Any:
        return await self._call(self._client.execute(*args))

    async def batch(self, *args: Any) -> Any:
        return await self._call(self._client.batch(*args))

    async def _call(self, pending: Any) -> Any:
        if self.fault is None:
            return await pending
        pending.close()
        self.calls += 1
        raise self.fault

    async def close(self) -> None:
        await self._client.close()


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> list[FaultyClient]:
    """Every client the app opens, wrapped."""
    made: list[FaultyClient] = []

    def create(url: str, **kwargs: Any) -> FaultyClient:
        made.append(FaultyClient(create_client(url, **kwargs)))
        return made[-1]

    monkeypatch.setattr(transport, "create_client", create)
    return made


def metric(text: str, kind: str) -> float:
    line = f'app_db_errors_total{{kind="{kind}"}} '
    return sum(float(row.removeprefix(line)) for row in text.splitlines() if row.startswith(line))


async def answers(app: InProcessApp) -> list[httpx.Response]:
    return [await app.client.get("/posts/1"), await app.client.post("/posts", json=NEW_POST)]


@pytest.mark.parametrize(
    ("fault", "code", "kind", "retried"),
    [
        (LibsqlError("database or disk is full", "SQLITE_FULL"), "database_full", "full", False),
        (
            LibsqlError("disk I/O error", "SQLITE_IOERR_WRITE"),
            "database_io_error",
            "io_error",
            True,
        ),
        (LibsqlError("readonly", "SQLITE_READONLY"), "database_read_only", "read_only", False),
        (
            LibsqlError("Received unexpected message type", "HRANA_PROTO_ERROR"),
            "database_protocol_error",
            "protocol_error",
            True,
        ),
        (
            LibsqlError("The client is closed", "CLIENT_CLOSED"),
            "database_client_closed",
            "client_closed",
            False,
        ),
        (
            LibsqlError("The JWT is invalid", "AUTH_JWT_INVALID"),
            "database_auth_rejected",
            "auth_rejected",
            False,
        ),
        (LibsqlError("never seen", "NEW_CODE"), "database_error_unknown", "unknown", False),
    ],
)
async def test_each_database_fault_is_a_503_with_its_code_counted_and_retried_only_if_it_helps(
    fault: LibsqlError,
    code: str,
    kind: str,
    retried: bool,
    faulty: list[FaultyClient],
    start_app: StartApp,
    tmp_path: Path,
) -> None:
    app = await start_app(
        functional_settings(
            database_url=f"file:{tmp_path / 'app.db'}",
            cache_enabled=False,
            retry_max_attempts=3,
            retry_base_delay_ms=1,
            breaker_failure_threshold=100,
        )
    )
    [client] = faulty
    client.fault = fault

    responses = await answers(app)

    assert [r.status_code for r in responses] == [503, 503]
    assert [r.json()["error"]["code"] for r in responses] == [code, code]
    assert all(r.headers["retry-after"].isdigit() for r in responses)
    # Both calls are idempotent (a create is keyed): 3 attempts each if retrying may help.
    assert client.calls == (6 if retried else 2)
    assert metric((await app.client.get("/metrics")).text, kind) == client.calls


async def test_the_breaker_counts_a_database_fault_as_a_failure(
    faulty: list[FaultyClient], start_app: StartApp, tmp_path: Path
) -> None:
    app = await start_app(
        functional_settings(
            database_url=f"file:{tmp_path / 'app.db'}",
            cache_enabled=False,
            breaker_failure_threshold=2,
            breaker_cooldown_ms=60_000,
        )
    )
    [client] = faulty
    client.fault = LibsqlError("database or disk is full", "SQLITE_FULL")

    codes = [(await app.client.get("/posts/1")).json()["error"]["code"] for _ in range(3)]

    assert codes == ["database_full", "database_full", "circuit_open"]


async def test_our_own_bad_sql_stays_a_500(
    faulty: list[FaultyClient], start_app: StartApp, tmp_path: Path
) -> None:
    app = await start_app(functional_settings(database_url=f"file:{tmp_path / 'app.db'}"))
    [client] = faulty
    client.fault = LibsqlError("no such column: titel", "SQLITE_UNKNOWN")

    response = await app.client.get("/posts/1")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "database_error"


async def test_a_bug_of_ours_is_a_logged_500_not_retried_nor_a_database_fault(
    faulty: list[FaultyClient],
    start_app: StartApp,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = await start_app(
        functional_settings(
            database_url=f"file:{tmp_path / 'app.db'}",
            cache_enabled=False,
            retry_max_attempts=3,
            retry_base_delay_ms=1,
            breaker_failure_threshold=2,
            breaker_cooldown_ms=60_000,
        )
    )
    [client] = faulty
    # What libsql-client raises for an argument of a type it cannot send (a list).
    client.fault = TypeError("memoryview: a bytes-like object is required, not 'list'")

    with caplog.at_level(logging.ERROR):
        broken = [await app.client.get("/posts/1") for _ in range(3)]
    client.fault = None
    healthy = await app.client.get("/posts/1")

    assert [r.status_code for r in broken] == [500] * 3
    assert [r.json()["error"] for r in broken] == [
        {"code": "internal_error", "message": "unexpected server error"}
    ] * 3
    assert client.calls == 3  # never retried
    assert healthy.status_code == 404  # the breaker did not open
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(logged) == 3
    assert "TypeError: memoryview" in caplog.text  # the traceback, with the cause
    assert metric((await app.client.get("/metrics")).text, "app_bug") == 3


# Real servers from here on.


@pytest.fixture
def read_only_db(tmp_path: Path) -> Iterator[Path]:
    """A database file with the app's schema that not even root may write (chattr +i; chmod
    would not stop root); skips where the file system or the container does not allow it."""
    db = tmp_path / "read-only.db"
    connection = sqlite3.connect(db)
    with connection:
        connection.execute("PRAGMA journal_mode=WAL")  # as the local server leaves it
        for sql, args in SCHEMA:
            connection.execute(sql, args)
    connection.close()
    done = subprocess.run(["chattr", "+i", str(db)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i not allowed here: {done.stderr.decode().strip()}")
    yield db
    subprocess.run(["chattr", "-i", str(db)], check=True)


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_read_only_database_is_a_503_and_reads_still_work(
    scheme: str, read_only_db: Path, start_app: StartApp, log_dir: Path
) -> None:
    with local_turso(read_only_db, log_dir) as server:
        app = await start_app(
            functional_settings(
                database_url=server.url(scheme), cache_enabled=False, batch_enabled=False
            )
        )
        created = await app.client.post("/posts", json=NEW_POST)
        read = await app.client.get("/posts/1")

    assert created.status_code == 503
    assert created.json()["error"]["code"] == "database_read_only"
    assert read.status_code == 404


def restart_with_key(server: LocalTurso, key: JwtAuth, log_dir: Path) -> LocalTurso:
    """The same server (data, port) back with another key pair: its old tokens are refused."""
    server.process.stop()
    again = local_turso_process(server.db, log_dir, port=server.port, jwt_auth=key)
    again.process.start()
    return again


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_token_the_server_no_longer_accepts_is_a_503_not_a_500(
    scheme: str, start_app: StartApp, tmp_path: Path, log_dir: Path
) -> None:
    old_key, new_key = JwtAuth.generate(), JwtAuth.generate()
    server = local_turso_process(tmp_path / "rotated.db", log_dir, jwt_auth=old_key)
    server.process.start()
    try:
        app = await start_app(
            functional_settings(
                database_url=server.url(scheme), auth_token=old_key.token, cache_enabled=False
            )
        )
        server = restart_with_key(server, new_key, log_dir)
        rejected = await answers(app)
    finally:
        server.process.stop()

    assert [r.status_code for r in rejected] == [503, 503]
    assert [r.json()["error"]["code"] for r in rejected] == ["database_auth_rejected"] * 2


@pytest.mark.integration
@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_rotated_token_is_a_503_until_the_token_file_has_the_new_one(
    scheme: str, start_app: StartApp, tmp_path: Path, log_dir: Path
) -> None:
    old_key, new_key = JwtAuth.generate(), JwtAuth.generate()
    token_file = tmp_path / "token"
    token_file.write_text(old_key.token + "\n")
    server = local_turso_process(tmp_path / "rotated.db", log_dir, jwt_auth=old_key)
    server.process.start()
    try:
        app = await start_app(
            Settings(
                database_url=server.url(scheme),
                auth_token_file=token_file,
                cache_enabled=False,
                breaker_failure_threshold=3,
                breaker_cooldown_ms=100,
            )
        )
        assert (await app.client.get("/posts/1")).status_code == 404
        server = restart_with_key(server, new_key, log_dir)

        rejected = await answers(app)
        not_ready = await app.client.get("/readyz")
        token_file.write_text(new_key.token)
        recovered = await poll_until_answered(app, limit=50)
        ready = await app.client.get("/readyz")
        scrape = (await app.client.get("/metrics")).text
    finally:
        server.process.stop()

    assert [r.status_code for r in rejected] == [503, 503]
    assert [r.json()["error"]["code"] for r in rejected] == ["database_auth_rejected"] * 2
    assert not_ready.status_code == 503
    assert recovered == 404
    assert ready.status_code == 200
    assert metric(scrape, "auth_rejected") >= 3


async def poll_until_answered(app: InProcessApp, *, limit: int) -> int:
    """GET /posts/1 until it is not a 503, at most `limit` times 0.1 s apart; its status."""
    for _ in range(limit):
        response = await app.client.get("/posts/1")
        if response.status_code != 503:
            return response.status_code
        await asyncio.sleep(0.1)
    return 503
