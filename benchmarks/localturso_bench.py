"""Point reads and single-row inserts against localturso over HTTP and WebSocket, c=1 and c=32.

Run: `.venv/bin/python -m benchmarks.localturso_bench [--duration-s 3] [--json PATH]`.
The server runs as a child process (harness.stack) on a temporary database; this process is
the load generator, driving the real libsql-client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import libsql_client

from harness.loadgen import Operation, closed_loop
from harness.stack import LocalTurso, local_turso
from harness.stats import LatencySummary, format_table, summaries_as_dict

SEED_ROWS = 1000
CONCURRENCY = (1, 32)
MAX_REQUESTS = 200_000

ClientOp = Callable[[libsql_client.Client, int], Awaitable[object]]


async def point_read(client: libsql_client.Client, sequence: int) -> object:
    return await client.execute("SELECT v FROM kv WHERE id = ?", [sequence % SEED_ROWS + 1])


async def insert(client: libsql_client.Client, sequence: int) -> object:
    return await client.execute("INSERT INTO events (payload) VALUES (?)", [f"event-{sequence}"])


async def seed(url: str) -> None:
    async with libsql_client.create_client(url) as client:
        await client.batch(
            [
                "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
                "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)",
            ]
        )
        rows = [("INSERT INTO kv (id, v) VALUES (?, ?)", [i, f"value-{i}"]) for i in range(1, 1001)]
        await client.batch(rows)


def _bind(op: ClientOp, client: libsql_client.Client) -> Operation:
    async def run(sequence: int) -> object:
        return await op(client, sequence)

    return run


async def run_case(url: str, op: ClientOp, clients: int, duration_s: float) -> LatencySummary:
    opened = [libsql_client.create_client(url) for _ in range(clients)]
    try:
        # One request each first, so connection set-up is not measured.
        await asyncio.gather(*(point_read(client, 0) for client in opened))
        operations = [_bind(op, client) for client in opened]
        return await closed_loop(operations, duration_s=duration_s, max_requests=MAX_REQUESTS)
    finally:
        await asyncio.gather(*(client.close() for client in opened))


async def run_all(server: LocalTurso, duration_s: float) -> dict[str, LatencySummary]:
    await seed(server.http_url)
    rows: dict[str, LatencySummary] = {}
    for transport, url in (("HTTP", server.http_url), ("WS", server.ws_url)):
        for name, op in (("point read", point_read), ("insert", insert)):
            for clients in CONCURRENCY:
                case = f"{name} {transport} c={clients}"
                rows[case] = await run_case(url, op, clients, duration_s)
                print(f"{case}: {rows[case].rps:.0f} req/s", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=3.0, help="measured seconds per case")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="localturso-bench-") as tmp:
        tmp_path = Path(tmp)
        with local_turso(tmp_path / "bench.db", tmp_path / "logs") as server:
            rows = asyncio.run(run_all(server, args.duration_s))
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summaries_as_dict(rows), indent=2))


if __name__ == "__main__":
    main()
