"""The reference app under network profiles: Toxiproxy latency on the app -> database link.

Run: `.venv/bin/python -m microbench.app_profiles [--duration-s 5] [--json PATH] [--no-tls]`
(`make bench-app-profiles`). One stack per app configuration (local Turso over TLS, Toxiproxy,
the app under uvicorn), driven straight at the app (the profile's toxics are on the database
link only, and the `api` proxy would add its own CPU to every request) by closed-loop aiohttp
clients with no think time, or for writes also open-loop (microbench.driver); each case
applies its profile's toxics (harness.network) for its duration only. Before each case the
app -> database round trip is measured through the proxy itself (GET /health, keep-alive),
and CPU per request comes from each process's own counters. It ends with the three goals:
batched / unbatched writes at cross-region, hardened / naive reads at edge, and the
light-load p50 against 1.15 x RTT + 2 ms.

With closed-loop writers the write ratio has a ceiling: unbatched, at most
APP_DB_MAX_CONCURRENCY (32) writes are in flight per round trip; batched, at most every writer
(64): 64 / 32 = 2x, whatever the CPU. So the write goal is judged in the open model: writes
arrive at a fixed rate whether or not earlier ones were answered (as requests reach a real
service), and each app acknowledges what it can; the closed-loop ratio is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from harness.cpu import CpuSampler, per_request
from harness.network import PROFILES, NetworkProfile, apply_profile
from harness.settings import HarnessSettings
from harness.stack import Stack, TlsFiles, stack
from harness.stats import LatencySummary
from microbench.app_bench import SEED_POSTS, Request, create_post, get_post, seed
from microbench.driver import closed_loop, open_loop
from reference_app.settings import DEFAULT_DB_MAX_CONCURRENCY, DEFAULT_REQUEST_DEADLINE_MS

MAX_REQUESTS = 200_000
WARMUP_S = 1.0
RTT_PROBES = 40
RTT_FACTOR, RTT_SLACK_MS = 1.15, 2.0
WRITE_RATIO_GOAL, READ_RATIO_GOAL = 5.0, 3.0
# Offered writes per second in the open model: above 5x what 32 database slots can carry
# unbatched on a ~92 ms round trip (~350/s), so only batching can acknowledge them all.
OPEN_WRITE_RATE_PER_S = 2000.0
OPEN_MAX_IN_FLIGHT = 512  # the generator's own bound on sockets; beyond it a write is shed
OPEN_DRAIN_S = 1.5 * DEFAULT_REQUEST_DEADLINE_MS / 1000  # every answer is due by then


@dataclass(frozen=True)
class Case:
    """`clients` closed-loop clients, or with `rate_per_s` requests arriving at that rate."""

    name: str
    profile: str
    request: Request
    clients: int = 0
    rate_per_s: float = 0.0


OPEN_BATCHED = f"POST batched cross-region {OPEN_WRITE_RATE_PER_S:.0f}/s open"
OPEN_UNBATCHED = f"POST unbatched cross-region {OPEN_WRITE_RATE_PER_S:.0f}/s open"


@dataclass(frozen=True)
class Config:
    name: str
    env: dict[str, str]
    cases: tuple[Case, ...]


CONFIGS = (
    Config(
        "hardened, cache off",
        {"APP_CACHE_ENABLED": "false"},
        (
            # Light load is ~100-150 req/s in both profiles: 2 readers at edge, 10 cross-region.
            Case("GET hardened no cache edge c=2", "edge", get_post, 2),
            Case("GET hardened no cache cross-region c=10", "cross-region", get_post, 10),
            Case("GET hardened no cache edge c=32", "edge", get_post, 32),
        ),
    ),
    Config("naive", {"APP_MODE": "naive"}, (Case("GET naive edge c=32", "edge", get_post, 32),)),
    Config(
        "hardened",
        {},
        (
            Case("POST batched cross-region c=64", "cross-region", create_post, 64),
            Case(OPEN_BATCHED, "cross-region", create_post, rate_per_s=OPEN_WRITE_RATE_PER_S),
        ),
    ),
    Config(
        "hardened, batching off",
        {"APP_BATCH_ENABLED": "false"},
        (
            Case("POST unbatched cross-region c=64", "cross-region", create_post, 64),
            Case(OPEN_UNBATCHED, "cross-region", create_post, rate_per_s=OPEN_WRITE_RATE_PER_S),
        ),
    ),
)


@dataclass
class Row:
    summary: LatencySummary
    rtt_ms: float
    cpu: dict[str, dict[str, float]]


async def round_trip_ms(db_url: str, context: ssl.SSLContext | None) -> float:
    """p50 of GET /health through the database proxy: the round trip the profile makes."""
    samples = []
    async with aiohttp.ClientSession() as session:
        for _ in range(RTT_PROBES):
            started = time.perf_counter()
            async with session.get(f"{db_url}/health", ssl=context or True) as response:
                await response.read()
            samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


async def drive(url: str, case: Case, duration_s: float) -> LatencySummary:
    limit = OPEN_MAX_IN_FLIGHT if case.rate_per_s else case.clients
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)) as session:

        async def run(sequence: int) -> None:
            await case.request(session, url, sequence)

        if case.rate_per_s:
            return await open_loop(
                run,
                rate_per_s=case.rate_per_s,
                duration_s=duration_s,
                max_in_flight=OPEN_MAX_IN_FLIGHT,
                drain_s=OPEN_DRAIN_S,
            )
        return await closed_loop(
            [run] * case.clients, duration_s=duration_s, max_requests=MAX_REQUESTS, warmup_s=0
        )


def run_case(
    live: Stack, case: Case, duration_s: float, tls: TlsFiles | None, sampler: CpuSampler
) -> Row:
    profile: NetworkProfile = PROFILES[case.profile]
    db_url = live.app.env["TURSO_DATABASE_URL"]
    with apply_profile(live, profile):
        rtt_ms = asyncio.run(round_trip_ms(db_url, tls.client_context() if tls else None))
        asyncio.run(drive(live.app.url, case, WARMUP_S))
        before = sampler.sample()
        summary = asyncio.run(drive(live.app.url, case, duration_s))
        after = sampler.sample()
    used = {name: after.cpu_s[name] - before.cpu_s[name] for name in after.cpu_s}
    # Open-model writes shed by the generator never reached the app: per acknowledged write.
    served = summary.requests - summary.errors if case.rate_per_s else summary.requests
    return Row(summary, rtt_ms, per_request(used, served))


def run_all(root: Path, duration_s: float, tls: TlsFiles | None) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    settings = HarnessSettings()
    for index, config in enumerate(CONFIGS):
        with stack(
            root / "logs",
            db=root / f"profiles-{index}.db",
            app_env=config.env,
            settings=settings,
            tls=tls,
        ) as live:
            asyncio.run(_seed(live.app.url))
            sampler = CpuSampler(live.pids(), alone={"load generator": os.getpid()})
            for case in config.cases:
                rows[case.name] = run_case(live, case, duration_s, tls, sampler)
                print(f"{case.name}: {rows[case.name].summary.rps:.0f} req/s", file=sys.stderr)
    return rows


async def _seed(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        await seed(session, url)


PROCESSES = ("app", "database", "toxiproxy", "load generator")


def format_rows(rows: dict[str, Row]) -> str:
    width = max(len(name) for name in rows)
    head = f"{'case':<{width}}  {'req/s':>6}  {'p50':>6}  {'p99':>6}  {'RTT':>6}  err"
    head += "".join(f"  {p.split()[0]:>9}" for p in PROCESSES)
    lines = [head, "-" * len(head)]
    for name, row in rows.items():
        s = row.summary
        line = f"{name:<{width}}  {s.rps:>6.0f}  {s.p50_ms:>6.1f}  {s.p99_ms:>6.1f}"
        line += f"  {row.rtt_ms:>6.1f}  {s.errors:>3}"
        line += "".join(
            f"  {row.cpu[p]['us_per_request']:>9.0f}" for p in PROCESSES if p in row.cpu
        )
        lines.append(line)
    lines.append("(ms; RTT = p50 of GET /health through the database proxy under the profile;")
    lines.append(" CPU in µs per request from each process's own counters: app, database,")
    lines.append(" toxiproxy, load generator; open-model rows per acknowledged write)")
    return "\n".join(lines)


def goals(rows: dict[str, Row]) -> list[dict[str, Any]]:
    """Each goal with its measured figure, its target and whether it was met."""

    def ratio(top: str, bottom: str) -> float:
        return rows[top].summary.rps / rows[bottom].summary.rps

    checks = [
        (
            f"writes: batched / unbatched acknowledged req/s, cross-region, writes arriving at"
            f" {OPEN_WRITE_RATE_PER_S:.0f}/s (open model)",
            ratio(OPEN_BATCHED, OPEN_UNBATCHED),
            WRITE_RATIO_GOAL,
        ),
        (
            "reads: hardened (cache off) / naive req/s, edge, 32 readers",
            ratio("GET hardened no cache edge c=32", "GET naive edge c=32"),
            READ_RATIO_GOAL,
        ),
    ]
    out = [{"goal": g, "value": v, "target": f">= {t:g}x", "met": v >= t} for g, v, t in checks]
    writers = next(c.clients for cfg in CONFIGS for c in cfg.cases if c.name.startswith("POST"))
    ceiling = writers / DEFAULT_DB_MAX_CONCURRENCY
    closed = ratio("POST batched cross-region c=64", "POST unbatched cross-region c=64")
    out.append(
        {
            "goal": f"(not judged) writes: batched / unbatched req/s, {writers} closed-loop"
            " writers",
            "value": closed,
            "target": f"closed-loop ceiling {writers}/{DEFAULT_DB_MAX_CONCURRENCY} ="
            f" {ceiling:.2f}x whatever the CPU",
            "met": None,
        }
    )
    for case in ("GET hardened no cache edge c=2", "GET hardened no cache cross-region c=10"):
        row = rows[case]
        bound = RTT_FACTOR * row.rtt_ms + RTT_SLACK_MS
        out.append(
            {
                "goal": f"light load p50 <= 1.15 x RTT + 2 ms: {case}",
                "value": row.summary.p50_ms,
                "target": f"<= {bound:.1f} ms (RTT {row.rtt_ms:.1f})",
                "met": row.summary.p50_ms <= bound,
            }
        )
    return out


def format_goals(checks: list[dict[str, Any]]) -> str:
    lines = []
    for check in checks:
        verdict = {True: "met", False: "NOT met", None: "information"}[check["met"]]
        lines.append(f"{check['goal']}: {check['value']:.2f} ({check['target']}) {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=float, default=5.0, help="measured seconds per case")
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP to the local server")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    tls = None if args.no_tls else TlsFiles.for_local_server(HarnessSettings())
    with tempfile.TemporaryDirectory(prefix="app-profiles-") as tmp:
        rows = run_all(Path(tmp), args.duration_s, tls)
    checks = goals(rows)
    print(format_rows(rows))
    print()
    print(format_goals(checks))
    print(f"({SEED_POSTS} posts seeded; TLS to the database: {tls is not None})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            name: {**row.summary.as_dict(), "rtt_ms": row.rtt_ms, "cpu_per_request": row.cpu}
            for name, row in rows.items()
        }
        args.json.write_text(json.dumps({"cases": figures, "goals": checks}, indent=2))


if __name__ == "__main__":
    main()
