"""The reference app, hardened vs naive and batched vs unbatched, each on its own local Turso,
with the app's own counts per case (cache hit rate, connects and round trips per request).

Run: `.venv/bin/python -m microbench.app_bench [--duration-s 3] [--scheme http] [--json PATH]`.
Every configuration runs as a uvicorn process with a localturso process behind it (both from
harness.stack), one configuration at a time so they never share the two cores; this process
drives them with aiohttp over keep-alive connections.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from harness.app_counters import AppCounters, read_counters
from harness.cli import OneLineParser, run
from harness.cpu import CpuSampler, per_request
from harness.stack import local_turso, reference_app
from harness.stats import LatencySummary, format_table, summaries_as_dict
from microbench.driver import Operation, closed_loop

SEED_POSTS = 1_000
SEED_BATCH = 500
READ_CLIENTS = 16
WRITE_CLIENTS = 16
BATCH_WRITERS = 64
MAX_REQUESTS = 100_000
WARMUP_S = 0.5

Request = Callable[[aiohttp.ClientSession, str, int], Awaitable[None]]


async def get_post(session: aiohttp.ClientSession, url: str, sequence: int) -> None:
    async with session.get(f"{url}/posts/{sequence % SEED_POSTS + 1}") as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET answered {response.status}")


async def create_post(session: aiohttp.ClientSession, url: str, sequence: int) -> None:
    body = {"title": f"bench {sequence}", "content": "written by microbench.app_bench"}
    async with session.post(f"{url}/posts", json=body) as response:
        await response.read()
        if response.status != 201:
            raise RuntimeError(f"POST answered {response.status}")


@dataclass(frozen=True)
class Case:
    name: str
    request: Request
    clients: int


@dataclass(frozen=True)
class Config:
    """One app configuration and the cases measured on it."""

    name: str
    env: dict[str, str]
    cases: tuple[Case, ...]


CONFIGS = (
    Config(
        "hardened",
        {},
        (
            Case("GET /posts/{id} hardened c=16", get_post, READ_CLIENTS),
            Case("POST /posts hardened c=16", create_post, WRITE_CLIENTS),
            Case("POST /posts batched c=64", create_post, BATCH_WRITERS),
        ),
    ),
    Config(
        "hardened, cache off",
        {"APP_CACHE_ENABLED": "false"},
        (Case("GET /posts/{id} hardened no cache c=16", get_post, READ_CLIENTS),),
    ),
    Config(
        "naive",
        {"APP_MODE": "naive"},
        (
            Case("GET /posts/{id} naive c=16", get_post, READ_CLIENTS),
            Case("POST /posts naive c=16", create_post, WRITE_CLIENTS),
        ),
    ),
    Config(
        "hardened, batching off",
        {"APP_BATCH_ENABLED": "false"},
        (Case("POST /posts unbatched c=64", create_post, BATCH_WRITERS),),
    ),
)

# Straight over loopback with no proxy: connects cost no network round trip here.
NOT_SIMULATED = (
    "not simulated: network round trips (loopback, no proxy); on a real network each new"
    " connection adds ≈1 RTT (TCP) plus TLS, and each round trip 1 RTT: `make bench"
    " COMPARE=naive` applies a profile and estimates it"
)

RATIOS = (
    ("GET hardened over naive", "GET /posts/{id} hardened c=16", "GET /posts/{id} naive c=16"),
    (
        "GET hardened no cache over naive",
        "GET /posts/{id} hardened no cache c=16",
        "GET /posts/{id} naive c=16",
    ),
    ("POST hardened over naive", "POST /posts hardened c=16", "POST /posts naive c=16"),
    ("POST batched over unbatched c=64", "POST /posts batched c=64", "POST /posts unbatched c=64"),
)


async def seed(session: aiohttp.ClientSession, url: str) -> None:
    for start in range(0, SEED_POSTS, SEED_BATCH):
        posts = [
            {"title": f"seed {i}", "content": "seed"} for i in range(start, start + SEED_BATCH)
        ]
        async with session.post(f"{url}/posts/batch", json={"posts": posts}) as response:
            response.raise_for_status()


CpuTable = dict[str, dict[str, float]]


async def measure(
    url: str, case: Case, duration_s: float, sampler: CpuSampler
) -> tuple[LatencySummary, CpuTable, AppCounters]:
    """A warm-up, then the measured window with every process's CPU and the app's own
    counters (cache, round trips, connects) read at both ends."""
    connector = aiohttp.TCPConnector(limit=case.clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        def client(_index: int) -> Operation:
            async def run(sequence: int) -> None:
                await case.request(session, url, sequence)

            return run

        operations = [client(i) for i in range(case.clients)]
        await closed_loop(operations, duration_s=WARMUP_S, max_requests=MAX_REQUESTS, warmup_s=0)
        counted_before = await asyncio.to_thread(read_counters, url)
        before = sampler.sample()
        summary = await closed_loop(
            operations, duration_s=duration_s, max_requests=MAX_REQUESTS, warmup_s=0
        )
        after = sampler.sample()
        counts = await asyncio.to_thread(read_counters, url) - counted_before
    used = {name: after.cpu_s[name] - before.cpu_s[name] for name in after.cpu_s}
    return summary, per_request(used, summary.requests), counts


Counts = dict[str, AppCounters]


async def run_config(
    url: str, config: Config, duration_s: float, sampler: CpuSampler
) -> tuple[dict[str, LatencySummary], dict[str, CpuTable], Counts]:
    async with aiohttp.ClientSession() as session:
        await seed(session, url)
    rows: dict[str, LatencySummary] = {}
    cpu: dict[str, CpuTable] = {}
    counts: Counts = {}
    for case in config.cases:
        rows[case.name], cpu[case.name], counts[case.name] = await measure(
            url, case, duration_s, sampler
        )
        print(f"{case.name}: {rows[case.name].rps:.0f} req/s", file=sys.stderr, flush=True)
    return rows, cpu, counts


def run_all(
    root: Path, scheme: str, duration_s: float
) -> tuple[dict[str, LatencySummary], dict[str, CpuTable], Counts]:
    rows: dict[str, LatencySummary] = {}
    cpu: dict[str, CpuTable] = {}
    counts: Counts = {}
    for index, config in enumerate(CONFIGS):
        logs = root / "logs"
        with local_turso(root / f"bench-{index}.db", logs) as turso:
            db_url = turso.http_url if scheme == "http" else turso.ws_url
            env = {"TURSO_DATABASE_URL": db_url, **config.env}
            with reference_app(logs, env=env) as app:
                pids = {"app": app.process.pid, "database": turso.process.pid}
                sampler = CpuSampler(pids, alone={"load generator": os.getpid()})
                config_rows, config_cpu, config_counts = asyncio.run(
                    run_config(app.url, config, duration_s, sampler)
                )
                rows |= config_rows
                cpu |= config_cpu
                counts |= config_counts
    return rows, cpu, counts


def format_counts(counts: Counts) -> str:
    """Where each case's speed comes from: the app's own counts per request."""
    width = max([len("case"), *(len(name) for name in counts)])
    lines = [
        f"{'case':<{width}}  {'cache hits':>10}  {'connects/req':>12}  {'round trips/req':>15}"
    ]
    for name, c in counts.items():
        hits = "n/a" if math.isnan(c.cache_hit_rate) else f"{100 * c.cache_hit_rate:.0f}%"
        lines.append(
            f"{name:<{width}}  {hits:>10}  {c.connects_per_request:>12.2f}"
            f"  {c.round_trips_per_request:>15.2f}"
        )
    return "\n".join(lines)


def format_cpu(cpu: dict[str, CpuTable]) -> str:
    """CPU µs per request by process, one row per case."""
    names = ("app", "database", "load generator")
    width = max([len("CPU µs/request"), *(len(case) for case in cpu)])
    lines = [f"{'CPU µs/request':<{width}}" + "".join(f"  {n:>14}" for n in names)]
    for case, table in cpu.items():
        lines.append(
            f"{case:<{width}}" + "".join(f"  {table[n]['us_per_request']:>14.0f}" for n in names)
        )
    return "\n".join(lines)


def format_ratios(rows: dict[str, LatencySummary]) -> str:
    """How many times better the first case is: > 1 means better (req/s: first ÷ second,
    latency: second ÷ first)."""
    lines = [f"{'x better (> 1: the first is)':<32}  {'req/s':>7}  {'p50':>7}  {'p99':>7}"]
    for label, top, bottom in RATIOS:
        a, b = rows[top], rows[bottom]
        lines.append(
            f"{label:<32}  {a.rps / b.rps:>6.2f}x  {b.p50_ms / a.p50_ms:>6.2f}x  "
            f"{b.p99_ms / a.p99_ms:>6.2f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bench-app", description=__doc__)
    parser.add_argument("--duration-s", type=float, default=3.0, help="measured seconds per case")
    parser.add_argument("--scheme", choices=("http", "ws"), default="http", help="app → database")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="app-bench-") as tmp:
        rows, cpu, counts = run_all(Path(tmp), args.scheme, args.duration_s)
    print(format_table(rows))
    print()
    print(format_cpu(cpu))
    print()
    print(format_counts(counts))
    print()
    print(format_ratios(rows))
    print(f"\n{NOT_SIMULATED}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = summaries_as_dict(rows)
        for case, table in cpu.items():
            figures[case] = {**figures[case], "cpu_per_request": table}
        for case, c in counts.items():
            figures[case] |= {f"app_{k}": v for k, v in c.as_dict().items()}
        args.json.write_text(json.dumps(figures, indent=2))

    return 0


if __name__ == "__main__":
    run("bench-app", main)
