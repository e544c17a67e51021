"""The app in front of a database that stops or freezes (a real localturso process)."""

from __future__ import annotations

import asyncio
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


# Faults of the one long-lived WebSocket a libsql:// URL opens (localturso's --ws-* flags).


async def test_a_websocket_gone_half_open_is_replaced_within_the_deadline(
    tmp_path: Path, log_dir: Path, start_app: StartApp
) -> None:
    # Every socket goes silent 0.5 s after its upgrade: no answer, no close, no reset.
    args = ["--ws-silent-after-s", "0.5"]
    with local_turso(tmp_path / "silent.db", log_dir, extra_args=args) as server:
        app = await start_app(settings(server).model_copy(update={"database_url": server.ws_url}))
        await asyncio.sleep(0.6)  # the app's socket is half-open now
        answered = []
        for _ in range(3):
            started = time.monotonic()
            response = await app.client.get("/posts/1")
            answered.append((response.status_code, time.monotonic() - started))

    # The first attempt times out, the retry goes out on a fresh socket; later ones reuse it.
    assert [status for status, _ in answered] == [404, 404, 404]
    assert all(elapsed_s < DEADLINE_MS / 1000 for _, elapsed_s in answered)


async def test_a_refused_websocket_upgrade_is_503_with_the_servers_retry_after_at_once(
    tmp_path: Path, log_dir: Path, start_app: StartApp
) -> None:
    # The server closes each socket after 0.5 s, then refuses upgrades: 503, Retry-After: 2.
    args = ["--ws-close-after-s", "0.5", "--ws-refuse-after-close-s", "5", "--retry-after-s", "2"]
    with local_turso(tmp_path / "refusing.db", log_dir, extra_args=args) as server:
        app = await start_app(settings(server).model_copy(update={"database_url": server.ws_url}))
        await asyncio.sleep(0.6)  # the server has closed the app's socket
        connects_before = app.app.state.round_trips.connects
        started = time.monotonic()
        response = await app.client.get("/posts/1")
        elapsed_s = time.monotonic() - started
        upgrades = app.app.state.round_trips.connects - connects_before

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 2
    assert response.json()["error"]["code"] == "database_unavailable"
    # Answered at once, after a single upgrade: no retry sooner than the server asked.
    assert upgrades == 1
    assert elapsed_s < DEADLINE_MS / 1000
