"""An in-process app on a fake libsql-client, driven through ASGI on uvloop, for microbench.

The fake answers at once, so a benchmark measures the app's own CPU per request: uvicorn's
ASGI interface onward (routing, validation, middleware, resilience, transport, serialising),
without the network or the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
import pytest
import uvloop
from fastapi import FastAPI
from libsql_client import ResultSet, Row

from reference_app.db.transport import Transport
from reference_app.main import create_app
from reference_app.settings import Settings

POST_COLUMNS = ("id", "title", "content", "created_at", "version")
CREATED_AT = "2026-11-27T00:00:00.000Z"
# Requests per benchmark round: per-request figures are the round's time / BURST.
BURST = 100


def _rows(columns: tuple[str, ...], values: list[tuple[Any, ...]]) -> ResultSet:
    index = {name: i for i, name in enumerate(columns)}
    return ResultSet(columns, [Row(index, v) for v in values], 0, None)


class FakeClient:
    """Answers the app's point read and creates as the database would, at once."""

    def __init__(self) -> None:
        self._last_id = 0

    async def execute(self, sql: str, args: Sequence[Any]) -> ResultSet:
        if sql.startswith("INSERT"):
            return self._created(args)
        post_id = args[0]
        return _rows(POST_COLUMNS, [(post_id, f"title {post_id}", "c" * 200, CREATED_AT, 1)])

    async def batch(self, stmts: Sequence[tuple[str, Sequence[Any]]]) -> list[ResultSet]:
        """The schema at startup, or several creates: their inserts, then their rows by key."""
        inserts = [args for sql, args in stmts if sql.startswith("INSERT")]
        if not inserts:
            return [ResultSet((), [], 0, None) for _ in stmts]
        stored = []
        for title, content, key, fingerprint in inserts:
            self._last_id += 1
            stored.append((self._last_id, title, content, CREATED_AT, 1, key, fingerprint))
        columns = (*POST_COLUMNS, "idempotency_key", "request_fingerprint")
        return [ResultSet((), [], 1, None) for _ in inserts] + [_rows(columns, stored)]

    def _created(self, args: Sequence[Any]) -> ResultSet:
        """A lone create's INSERT ... RETURNING."""
        title, content, _key, fingerprint = args
        self._last_id += 1
        return _rows(
            (*POST_COLUMNS, "request_fingerprint"),
            [(self._last_id, title, content, CREATED_AT, 1, fingerprint)],
        )

    async def close(self) -> None:
        pass


class AsgiDriver:
    """Calls the ASGI app directly, as uvicorn would, on one uvloop loop."""

    def __init__(self, app: FastAPI, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)
        return status

    def burst(self, method: str, path: str, body: bytes = b"", expect: int = 200) -> None:
        """BURST requests back to back; fails loudly if any is answered otherwise."""

        async def run() -> None:
            for _ in range(BURST):
                status = await self.request(method, path, body)
                if status != expect:
                    raise AssertionError(f"{method} {path} answered {status}")

        self.loop.run_until_complete(run())


def post_body(n: int = 0) -> bytes:
    return orjson.dumps({"title": f"bench {n}", "content": "written by a micro-benchmark"})


@pytest.fixture
def make_driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AsgiDriver]]:
    """`make_driver(**settings)`: a hardened app (every policy on unless switched off here)."""
    monkeypatch.setattr(Transport, "open", classmethod(_fake_transport))
    opened: list[tuple[asyncio.AbstractEventLoop, Any]] = []

    def make(**settings: Any) -> AsgiDriver:
        app = create_app(Settings(database_url="http://fake.invalid", **settings))
        loop = uvloop.new_event_loop()
        lifespan = app.router.lifespan_context(app)
        loop.run_until_complete(lifespan.__aenter__())
        opened.append((loop, lifespan))
        return AsgiDriver(app, loop)

    yield make
    for loop, lifespan in opened:
        loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()


def _fake_transport(
    cls: type[Transport],
    *_args: Any,
    round_trips: Any,
    raw_errors: bool = False,
    token_file: Any = None,
) -> Transport:
    return cls(FakeClient(), round_trips=round_trips, raw_errors=raw_errors)  # type: ignore[arg-type]
