"""The posts dependency: one client for the process (hardened), one per request (naive), and
every per-request client closed once its request is answered, whatever the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reference_app.db.transport import Transport
from reference_app.settings import AppMode
from tests.reference_app.conftest import StartApp, functional_settings


class Clients:
    """Counts the transports (libsql-client clients) the app opens and closes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = 0
        self.closed = 0
        real_open, real_close = Transport.open.__func__, Transport.close  # type: ignore[attr-defined]

        def counting_open(cls: type[Transport], *args: Any, **kwargs: Any) -> Transport:
            self.opened += 1
            return real_open(cls, *args, **kwargs)

        async def counting_close(transport: Transport) -> None:
            self.closed += 1
            await real_close(transport)

        monkeypatch.setattr(Transport, "open", classmethod(counting_open))
        monkeypatch.setattr(Transport, "close", counting_close)


POST = {"title": "t", "content": "c"}
# SQLite's length() stops at a NUL, so the schema's CHECK refuses this title: a database
# error, which the naive mode lets through as a plain 500.
REFUSED = {"title": "\u0000", "content": "c"}


async def test_naive_mode_closes_each_requests_client_once_it_is_answered(
    tmp_path: Path, start_app: StartApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = Clients(monkeypatch)
    app = await start_app(
        functional_settings(mode=AppMode.NAIVE, database_url=f"file:{tmp_path / 'a.db'}")
    )
    at_start = clients.opened  # the schema's, closed at once

    statuses = [
        (await app.client.post("/posts", json=POST)).status_code,
        (await app.client.get("/posts/999")).status_code,
        (await app.client.post("/posts", json=REFUSED)).status_code,
        (await app.client.get("/healthz")).status_code,
    ]

    assert statuses == [201, 404, 500, 200]
    assert clients.opened - at_start == 3  # one per request that reads or writes posts
    assert clients.closed == clients.opened


async def test_hardened_mode_serves_every_request_with_the_process_client(
    tmp_path: Path, start_app: StartApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = Clients(monkeypatch)
    app = await start_app(functional_settings(database_url=f"file:{tmp_path / 'a.db'}"))

    statuses = [
        (await app.client.post("/posts", json=POST)).status_code,
        (await app.client.get("/posts/999")).status_code,
    ]

    assert statuses == [201, 404]
    assert (clients.opened, clients.closed) == (1, 0)
