"""The app in front of a database that stops or freezes (a real localturso process)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import LocalTurso, local_turso
from reference_app.settings import AppMode, Settings
from tests.reference_app.conftest import StartApp

pytestmark = pytest.mark.integration

DEADLINE_MS = 400
RETRY_ATTEMPTS = 2
BREAKER_THRESHOLD = 3  # more than one request's attempts, so the first one sees the fault


@pytest.fixture
def turso(tmp_path: Path, log_dir: Path) -> Iterator[LocalTurso]:
    with local_turso(tmp_path / "faults.db", log_dir) as server:
        yield server


def settings(turso: LocalTurso, mode: AppMode = AppMode.HARDENED) -> Settings:
    return Settings(
        mode=mode,
        database_url=turso.http_url,
        request_deadline_ms=DEADLINE_MS,
        db_attempt_timeout_ms=150,
        retry_max_attempts=RETRY_ATTEMPTS,
        breaker_failure_threshold=BREAKER_THRESHOLD,
        cache_enabled=False,
    )


async def test_a_stopped_database_is_503_with_retry_after_then_the_breaker_opens(
    turso: LocalTurso, start_app: StartApp
) -> None:
    app = await start_app(settings(turso))
    assert (await app.client.get("/readyz")).status_code == 200
    turso.process.stop()

    responses = [await app.client.get("/posts/1") for _ in range(3)]

    assert [r.status_code for r in responses] == [503, 503, 503]
    assert all(r.headers["retry-after"].isdigit() for r in responses)
    codes = [r.json()["error"]["code"] for r in responses]
    assert codes[0] == "database_unavailable"
    assert codes[-1] == "circuit_open"
    ready = await app.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "not_ready"
    assert (await app.client.get("/healthz")).status_code == 200


async def test_naive_mode_turns_a_stopped_database_into_a_plain_500(
    turso: LocalTurso, start_app: StartApp
) -> None:
    app = await start_app(settings(turso, AppMode.NAIVE))
    turso.process.stop()

    response = await app.client.get("/posts/1")

    assert response.status_code == 500
    assert not response.headers["content-type"].startswith("application/json")


async def test_a_frozen_database_is_504_within_the_deadline(
    turso: LocalTurso, start_app: StartApp
) -> None:
    app = await start_app(settings(turso))
    await app.client.get("/posts/1")  # the client's connection is open before the freeze
    pid = turso.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = await app.client.get("/posts/1")
        elapsed_s = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)

    assert response.status_code == 504
    assert response.json()["error"]["code"] in {"database_timeout", "deadline_exceeded"}
    assert elapsed_s < DEADLINE_MS / 1000 * 1.25
