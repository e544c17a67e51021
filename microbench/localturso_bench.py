"""Point reads and single-row inserts against localturso over HTTP and WebSocket, c=1 and c=32;
with SQLD_BIN set, against sqld too, case by case in the same run.

Run: `.venv/bin/python -m microbench.localturso_bench [--duration-s 3] [--transport WS]
[--json PATH]`.
Each server runs as a child process (harness.stack) on a temporary database, checking an
EdDSA JWT on every request as Turso does; this process is the load generator, driving the
real libsql-client. Alternating the servers case by case spreads the machine's noise over
both; the server's own CPU time per request is the figure least moved by that noise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import libsql_client
import psutil

from harness.auth import JwtAuth
from harness.cli import OneLineParser, run
from harness.settings import HarnessSettings
from harness.stack import DatabaseServer, local_turso, sqld
from harness.stats import LatencySummary, format_table, summaries_as_dict
from microbench.driver import Operation, closed_loop

SEED_ROWS = 1000
CONCURRENCY = (1, 32)
TRANSPORTS = ("HTTP", "WS")
MAX_REQUESTS = 200_000

ClientOp = Callable[[libsql_client.Client, int], Awaitable[object]]


async def point_read(client: libsql_client.Client, sequence: int) -> object:
    return await client.execute("SELECT v FROM kv WHERE id = ?", [sequence % SEED_ROWS + 1])


async def insert(client: libsql_client.Client, sequence: int) -> object:
    return await client.execute("INSERT INTO events (payload) VALUES (?)", [f"event-{sequence}"])


async def seed(url: str, token: str | None) -> None:
    async with libsql_client.create_client(url, auth_token=token) as client:
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


async def run_case(
    url: str, token: str | None, op: ClientOp, clients: int, duration_s: float
) -> LatencySummary:
    opened = [libsql_client.create_client(url, auth_token=token) for _ in range(clients)]
    try:
        # One request each first, so connection set-up is not measured.
        await asyncio.gather(*(point_read(client, 0) for client in opened))
        operations = [_bind(op, client) for client in opened]
        return await closed_loop(operations, duration_s=duration_s, max_requests=MAX_REQUESTS)
    finally:
        await asyncio.gather(*(client.close() for client in opened))


def cpu_s(server: DatabaseServer) -> float:
    times = psutil.Process(server.process.pid).cpu_times()
    return times.user + times.system


async def run_all(
    servers: dict[str, DatabaseServer], duration_s: float, transports: tuple[str, ...]
) -> tuple[dict[str, LatencySummary], dict[str, float]]:
    """Every case on every server in turn; also each case's server CPU µs per request."""
    for server in servers.values():
        await seed(server.http_url, server.auth_token)
    rows: dict[str, LatencySummary] = {}
    cpu_us: dict[str, float] = {}
    for transport in transports:
        for name, op in (("point read", point_read), ("insert", insert)):
            for clients in CONCURRENCY:
                for kind, server in servers.items():
                    url = server.http_url if transport == "HTTP" else server.ws_url
                    case = f"{name} {transport} c={clients}" + (
                        f" {kind}" if len(servers) > 1 else ""
                    )
                    before = cpu_s(server)
                    rows[case] = await run_case(url, server.auth_token, op, clients, duration_s)
                    cpu_us[case] = 1e6 * (cpu_s(server) - before) / max(rows[case].requests, 1)
                    print(f"{case}: {rows[case].rps:.0f} req/s", file=sys.stderr, flush=True)
    return rows, cpu_us


def format_side_by_side(rows: dict[str, LatencySummary], cpu_us: dict[str, float]) -> str:
    """localturso against sqld per case: throughput and server CPU per request."""
    header = f"{'case':<22}  {'local/sqld req/s':>16}  {'CPU µs/req local':>16}  {'sqld':>8}"
    lines = [header, "-" * len(header)]
    for case in rows:
        if not case.endswith(" localturso"):
            continue
        base = case.removesuffix(" localturso")
        other = f"{base} sqld"
        ratio = rows[case].rps / rows[other].rps if rows[other].rps else float("nan")
        lines.append(f"{base:<22}  {ratio:>15.2f}x  {cpu_us[case]:>16.0f}  {cpu_us[other]:>8.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bench-localturso", description=__doc__)
    parser.add_argument("--duration-s", type=float, default=3.0, help="measured seconds per case")
    parser.add_argument(
        "--transport", choices=TRANSPORTS, help="measure only this transport (default: both)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    sqld_bin = HarnessSettings().sqld_bin
    auth = JwtAuth.generate()
    with (
        tempfile.TemporaryDirectory(prefix="localturso-bench-") as tmp,
        contextlib.ExitStack() as running,
    ):
        tmp_path = Path(tmp)
        logs = tmp_path / "logs"
        servers: dict[str, DatabaseServer] = {
            "localturso": running.enter_context(
                local_turso(tmp_path / "bench.db", logs, jwt_auth=auth)
            )
        }
        if sqld_bin:
            servers["sqld"] = running.enter_context(
                sqld(sqld_bin, tmp_path / "sqld-data", logs, auth=auth)
            )
        else:
            print("SQLD_BIN not set: measuring the local server only", file=sys.stderr)
        transports = (args.transport,) if args.transport else TRANSPORTS
        rows, cpu_us = asyncio.run(run_all(servers, args.duration_s, transports))
    print(format_table(rows))
    if sqld_bin:
        print()
        print(format_side_by_side(rows, cpu_us))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        body = {"cases": summaries_as_dict(rows), "server_cpu_us_per_request": cpu_us}
        args.json.write_text(json.dumps(body, indent=2))
    return 0


if __name__ == "__main__":
    run("bench-localturso", main)
