"""Fixtures for the reference app: a shared local Turso and in-process apps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from harness.stack import LocalTurso, local_turso
from reference_app.main import create_app
from reference_app.settings import Settings

# file: needs no server; http and ws run against a real localturso process.
BACKENDS = [
    "file",
    pytest.param("http", marks=pytest.mark.integration),
    pytest.param("ws", marks=pytest.mark.integration),
]


@pytest.fixture(scope="session")
def shared_turso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    """One localturso process for every test that only needs a working database."""
    root = tmp_path_factory.mktemp("shared-turso")
    with local_turso(root / "shared.db", root) as server:
        yield server


def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database URL for `backend`: a fresh file, or the shared server over http or ws."""
    if backend == "file":
        return f"file:{tmp_path / 'app.db'}"
    server: LocalTurso = request.getfixturevalue("shared_turso")
    return server.http_url if backend == "http" else server.ws_url


# Functional tests check answers, not deadlines (tests/reference_app/api/test_faults.py
# does): budgets that a CPU hog on every core cannot exhaust (2 s once did).
UNHURRIED: dict[str, int] = {
    "request_deadline_ms": 30_000,
    "db_attempt_timeout_ms": 10_000,
    "readiness_timeout_ms": 10_000,
}


def functional_settings(**fields: object) -> Settings:
    """App settings for a functional test: the defaults, with unhurried time budgets, and
    told the app runs alone (it does, in the test's process), so it keeps its read cache."""
    return Settings(**{**UNHURRIED, "workers": 1, **fields})  # type: ignore[arg-type]


@dataclass
class InProcessApp:
    """An app with its lifespan entered, and a client that calls it without a socket."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def round_trips(self) -> int:
        return int(self.app.state.round_trips.total)


StartApp = Callable[[Settings], Awaitable[InProcessApp]]


@pytest.fixture
async def start_app() -> AsyncIterator[StartApp]:
    """Start in-process apps; every one is shut down (lifespan exited) after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(settings: Settings) -> InProcessApp:
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            # As a real server does: an unhandled error is a 500 response, not a test crash.
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = httpx.AsyncClient(transport=transport, base_url="http://app")
            await stack.enter_async_context(client)
            return InProcessApp(app, client)

        yield start
