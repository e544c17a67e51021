"""The database calls through the real libsql-client, its HTTP exchange answered in-process.

The last benchmark goes over a real loopback socket instead, to an aiohttp server in this
process: it includes aiohttp's client machinery and the transport's session hooks (its
figure includes that little server's CPU too).

libsql-client's HTTP client builds each Hrana request and parses each answer as it does
against a server; only its `_send` (the aiohttp exchange) is replaced by a fake sqld that
answers at once. So these measure what the repository, the pipeline, the transport and
libsql-client spend per call, JSON included (the client's side of it: `json.dumps` of the
request, `json.loads` of the answer, as aiohttp does them), and a change to the statements a
call sends shows here. Each round is BURST calls.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import libsql_client
import orjson
import pytest
import uvloop
from aiohttp import web

from microbench.micro.conftest import BURST, CREATED_AT
from reference_app.db.repository import PostsRepository
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Transport
from reference_app.domain import CreatePost, PostDraft
from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy

# What sqld declares for the posts table's columns.
DECLTYPES = {
    "id": "INTEGER",
    "title": "TEXT",
    "content": "TEXT",
    "created_at": "TEXT",
    "version": "INTEGER",
    "idempotency_key": "TEXT",
    "request_fingerprint": "TEXT",
}
INSERTED = ("title", "content", "idempotency_key", "request_fingerprint")


def _text(value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"type": "integer", "value": str(value)}
    return {"type": "text", "value": value}


def _result(columns: list[str], rows: list[dict[str, Any]], written: int) -> dict[str, Any]:
    return {
        "cols": [{"name": name, "decltype": DECLTYPES[name]} for name in columns],
        "rows": [[_text(row[name]) for name in columns] for row in rows],
        "affected_row_count": written,
        "last_insert_rowid": str(rows[-1]["id"]) if written and rows else None,
        "replication_index": None,
        "rows_read": len(rows),
        "rows_written": written,
        "query_duration_ms": 0.05,
    }


def _selected(sql: str) -> list[str]:
    """The column names a SELECT or RETURNING clause lists (the app names each one)."""
    clause = sql.split("RETURNING", 1)[1] if "RETURNING" in sql else sql.split("FROM", 1)[0]
    return [name.strip() for name in clause.removeprefix("SELECT").split(",")]


class FakeSqld:
    """Answers the app's statements as sqld would: point reads, keyed creates (inserted rows
    returned, or read back by key in the same batch), and the BEGIN/COMMIT around a batch."""

    def __init__(self) -> None:
        self._last_id = 0

    async def send(self, _method: str, path: str, body: dict[str, Any]) -> Any:
        request = orjson.loads(json.dumps(body))  # the client's encoding, as aiohttp does it
        if path == "v1/execute":
            answer: dict[str, Any] = {"result": self._execute(request["stmt"], {})}
        else:
            stored: dict[str, dict[str, Any]] = {}
            steps = request["batch"]["steps"]
            answer = {
                "result": {
                    "step_results": [self._execute(step["stmt"], stored) for step in steps],
                    "step_errors": [None] * len(steps),
                }
            }
        return json.loads(orjson.dumps(answer).decode())  # as aiohttp's `response.json()`

    def _execute(self, stmt: dict[str, Any], stored: dict[str, dict[str, Any]]) -> Any:
        sql = stmt["sql"]
        args = [arg["value"] for arg in stmt.get("args", [])]
        if sql == "ROLLBACK":
            return None  # its condition (the commit failed) is false
        if sql.startswith("INSERT"):
            self._last_id += 1
            inserted = dict(zip(INSERTED, args, strict=True))
            row = {"id": self._last_id, "created_at": CREATED_AT, "version": 1, **inserted}
            stored[row["idempotency_key"]] = row
            returned = _selected(sql) if "RETURNING" in sql else []
            return _result(returned, [row] if returned else [], 1)
        if sql.startswith("SELECT") and "idempotency_key IN" in sql:
            return _result(_selected(sql), [stored[key] for key in args], 0)
        if sql.startswith("SELECT"):
            post_id = int(args[0])
            row = {"id": post_id, "title": f"t {post_id}", "content": "c" * 200, "version": 1}
            return _result(_selected(sql), [{**row, "created_at": CREATED_AT}], 0)
        return _result([], [], 0)  # BEGIN, COMMIT


Call = Callable[[PostsRepository, int], Awaitable[object]]


@pytest.fixture
def run_calls() -> Iterator[Callable[[Any, Call], None]]:
    """`run_calls(benchmark, call)`: BURST calls per round, through a hardened pipeline."""
    loop = uvloop.new_event_loop()
    clients: list[Any] = []

    async def open_repository() -> PostsRepository:
        client = libsql_client.create_client("http://fake.invalid")
        client._send = FakeSqld().send  # type: ignore[attr-defined]
        clients.append(client)
        pipeline = Pipeline(
            retry=RetryPolicy(),
            breaker=CircuitBreaker(failure_threshold=5, cooldown_s=1.0),
            limiter=ConcurrencyLimiter(32),
            attempt_timeout_s=0.5,
        )
        transport = Transport(client, round_trips=RoundTripCounter(), raw_errors=False)
        return PostsRepository(transport, pipeline)

    def run(benchmark: Any, call: Call) -> None:
        repository = loop.run_until_complete(open_repository())

        async def burst() -> None:
            with deadline_scope(Deadline.after(60.0)):
                for n in range(BURST):
                    await call(repository, n)

        benchmark(lambda: loop.run_until_complete(burst()))

    yield run
    for client in clients:
        loop.run_until_complete(client.close())
    loop.close()


def _create(n: int) -> CreatePost:
    return CreatePost(PostDraft(f"bench {n}", "written by a micro-benchmark"), f"key-{n}")


def test_point_read(benchmark, run_calls) -> None:
    run_calls(benchmark, lambda repository, n: repository.get_post(n + 1))


def test_create_one_post(benchmark, run_calls) -> None:
    """An unbatched POST /posts's database call."""
    run_calls(benchmark, lambda repository, n: repository.create_posts([_create(n)]))


def test_create_sixteen_posts(benchmark, run_calls) -> None:
    """A batched flush of 16 creates (per round: BURST flushes)."""
    run_calls(
        benchmark,
        lambda repository, n: repository.create_posts([_create(16 * n + i) for i in range(16)]),
    )


async def _answer_point_read(request: web.Request) -> web.Response:
    stmt = (await request.json())["stmt"]
    answer = {"result": FakeSqld()._execute(stmt, {})}
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


def test_point_read_over_loopback(benchmark) -> None:
    """Transport.open's client (with its session hooks) over a real socket to a tiny server."""
    loop = uvloop.new_event_loop()

    async def start() -> tuple[web.AppRunner, Transport]:
        server = web.Application()
        server.router.add_post("/v1/execute", _answer_point_read)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        transport = Transport.open(f"http://127.0.0.1:{port}", None, round_trips=RoundTripCounter())
        return runner, transport

    runner, transport = loop.run_until_complete(start())
    repository = PostsRepository(transport, Pipeline())

    async def burst() -> None:
        for n in range(BURST):
            await repository.get_post(n + 1)

    try:
        benchmark(lambda: loop.run_until_complete(burst()))
    finally:
        loop.run_until_complete(transport.close())
        loop.run_until_complete(runner.cleanup())
        loop.close()
