"""Where a point read's client-side CPU goes: aiohttp, libsql-client, our transport, policies.

Run: `.venv/bin/python -m microbench.client_cost [--requests 4000] [--rounds 3]` (uvloop).
One local Turso server; this process makes the same point read in four ways, each layer
adding one thing, 16 at a time, in alternating rounds; the figure is this process's own CPU
(time.process_time) per call, so the server's work is not in it:

1. raw aiohttp: POST /v1/execute with a prebuilt body, read the bytes;
2. libsql-client: `client.execute(sql, args)` (builds the Hrana request, parses the result);
3. Transport.execute: + error sorting, Result conversion, round-trip count and metrics hook;
4. Pipeline + Transport: + deadline, retry, breaker, limiter and attempt timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import libsql_client
import orjson
import uvloop

from harness.stack import local_turso
from reference_app.db.roundtrips import RoundTripCounter
from reference_app.db.transport import Transport
from reference_app.resilience.breaker import CircuitBreaker
from reference_app.resilience.deadline import Deadline, deadline_scope
from reference_app.resilience.limiter import ConcurrencyLimiter
from reference_app.resilience.pipeline import Pipeline
from reference_app.resilience.retry import RetryPolicy

ROWS = 1000
CLIENTS = 16
SQL = "SELECT id, title, content, created_at FROM posts WHERE id = ?"

Call = Callable[[int], Awaitable[object]]


async def seed(url: str) -> None:
    async with libsql_client.create_client(url) as client:
        await client.batch(
            [
                "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, content TEXT,"
                " created_at TEXT)",
                *[
                    (
                        "INSERT INTO posts (title, content, created_at) VALUES (?, ?, ?)",
                        [f"title {i}", "c" * 200, "2026-11-27T00:00:00Z"],
                    )
                    for i in range(ROWS)
                ],
            ]
        )


def pipeline() -> Pipeline:
    return Pipeline(
        retry=RetryPolicy(),
        breaker=CircuitBreaker(failure_threshold=5, cooldown_s=1.0),
        limiter=ConcurrencyLimiter(32),
        attempt_timeout_s=0.5,
    )


async def cpu_per_call(call: Call, requests: int) -> float:
    """This process's CPU µs per call, `CLIENTS` calls in flight at a time."""
    issued = 0

    async def client() -> None:
        nonlocal issued
        while issued < requests:
            issued += 1
            await call(issued % ROWS + 1)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return 1e6 * (time.process_time() - started) / requests


async def measure(url: str, requests: int, rounds: int) -> dict[str, list[float]]:
    session = aiohttp.ClientSession()
    library = libsql_client.create_client(url)
    transport = Transport(
        libsql_client.create_client(url), round_trips=RoundTripCounter(), raw_errors=False
    )
    policies = pipeline()

    async def raw(post_id: int) -> object:
        body = orjson.dumps(
            {"stmt": {"sql": SQL, "args": [{"type": "integer", "value": str(post_id)}]}}
        )
        async with session.post(f"{url}/v1/execute", data=body) as response:
            return await response.read()

    async def via_library(post_id: int) -> object:
        return await library.execute(SQL, [post_id])

    async def via_transport(post_id: int) -> object:
        return await transport.execute((SQL, (post_id,)))

    async def via_pipeline(post_id: int) -> object:
        with deadline_scope(Deadline.after(2.0)):
            return await policies.run(lambda: transport.execute((SQL, (post_id,))), idempotent=True)

    layers = {
        "raw aiohttp": raw,
        "libsql-client": via_library,
        "Transport.execute": via_transport,
        "Pipeline + Transport": via_pipeline,
    }
    figures: dict[str, list[float]] = {name: [] for name in layers}
    try:
        for call in layers.values():
            await cpu_per_call(call, 200)  # warm-up
        for _ in range(rounds):
            for name, call in layers.items():
                figures[name].append(await cpu_per_call(call, requests))
    finally:
        await session.close()
        await library.close()
        await transport.close()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000, help="calls per layer per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="client-cost-") as tmp,
        local_turso(Path(tmp) / "cost.db", Path(tmp)) as server,
        # The loop uvicorn runs the app on.
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(seed(server.http_url))
        figures = runner.run(measure(server.http_url, args.requests, args.rounds))
    print(f"client CPU µs per point read over http (c={CLIENTS}, median of {args.rounds} rounds)")
    previous = 0.0
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"  {name:<22} {median:>6.0f}   (+{median - previous:.0f} for this layer)")
        previous = median


if __name__ == "__main__":
    main()
