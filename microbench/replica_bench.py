"""Embedded-replica reads against remote reads from the real sqld, under each network profile.

Run: `SQLD_BIN=/path/to/sqld .venv/bin/python -m microbench.replica_bench [--json PATH]`.
sqld runs as a child process behind Toxiproxy (the profile's toxics on that link); the
replica is a local SQLite file kept by `libsql_experimental` (the current `libsql` SDK
cannot sync from sqld 0.24: its sync asks for a db export sqld answers 404). Per profile:
point reads over HTTP with libsql-client, point reads from the replica, one `sync()` after
a write, and staleness: from a remote write's acknowledgement until a replica that syncs
every SYNC_INTERVAL_S reads it. The local server has no replication protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import libsql_client
import libsql_experimental

from harness.network import PROFILES, NetworkProfile
from harness.processes import free_port
from harness.settings import HarnessSettings
from harness.stack import LOOPBACK, sqld, toxiproxy
from harness.stats import LatencySummary, format_table, summarize
from harness.toxiproxy import ToxiproxyApi

SEED_ROWS = 1000
SYNC_INTERVAL_S = 0.1
POLL_S = 0.001


def execute(url: str, sql: str, args: list[Any] | None = None) -> None:
    """One statement on its own stream, closed after (an open stream holds a connection)."""
    stmt = {"sql": sql, "args": [{"type": "integer", "value": str(a)} for a in args or []]}
    body = {"requests": [{"type": "execute", "stmt": stmt}, {"type": "close"}]}
    response = httpx.post(f"{url}/v2/pipeline", json=body, timeout=10.0)
    response.raise_for_status()
    if response.json()["results"][0]["type"] != "ok":
        raise RuntimeError(f"{sql}: {response.text}")


def seed(url: str) -> None:
    execute(url, "CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    values = ", ".join(f"({i}, {i})" for i in range(1, SEED_ROWS + 1))
    execute(url, f"INSERT INTO kv (id, v) VALUES {values}")


def timed(calls: int, call: Callable[[int], object]) -> LatencySummary:
    latencies = []
    started = time.perf_counter()
    for sequence in range(calls):
        began = time.perf_counter()
        call(sequence)
        latencies.append(time.perf_counter() - began)
    return summarize(latencies, 0, time.perf_counter() - started)


async def remote_reads(url: str, reads: int) -> LatencySummary:
    latencies = []
    async with libsql_client.create_client(url) as client:
        await client.execute("SELECT 1")  # connection set-up is not measured
        started = time.perf_counter()
        for sequence in range(reads):
            began = time.perf_counter()
            await client.execute("SELECT v FROM kv WHERE id = ?", [sequence % SEED_ROWS + 1])
            latencies.append(time.perf_counter() - began)
    return summarize(latencies, 0, time.perf_counter() - started)


def staleness_s(replica: Any, url: str, row_id: int, phase: random.Random) -> float:
    """A remote write acknowledged, then a replica syncing every SYNC_INTERVAL_S polls for it."""
    execute(url, "INSERT INTO kv (id, v) VALUES (?, ?)", [row_id, row_id])
    acked = time.perf_counter()
    # A periodic sync's next tick comes anywhere within one interval of the write.
    next_sync = acked + phase.uniform(0, SYNC_INTERVAL_S)
    while True:
        now = time.perf_counter()
        if now >= next_sync:
            replica.sync()
            next_sync = now + SYNC_INTERVAL_S
        if replica.execute("SELECT 1 FROM kv WHERE id = ?", (row_id,)).fetchall():
            return time.perf_counter() - acked
        time.sleep(POLL_S)


def measure(url: str, replica_path: Path, reads: int, trials: int) -> dict[str, LatencySummary]:
    replica = libsql_experimental.connect(str(replica_path), sync_url=url)
    replica.sync()
    base = SEED_ROWS * 1000 + int(time.time() * 1000) % 1_000_000 * 10

    def write_then_sync(sequence: int) -> None:
        execute(url, "INSERT INTO kv (id, v) VALUES (?, ?)", [base + sequence, 0])
        began = time.perf_counter()
        replica.sync()
        sync_times.append(time.perf_counter() - began)

    sync_times: list[float] = []
    for sequence in range(trials):
        write_then_sync(sequence)
    phase = random.Random(trials)
    stale = [staleness_s(replica, url, base + trials + i, phase) for i in range(trials)]
    return {
        "remote read": asyncio.run(remote_reads(url, reads)),
        "replica read": timed(
            reads * 10,
            lambda i: replica.execute(
                "SELECT v FROM kv WHERE id = ?", (i % SEED_ROWS + 1,)
            ).fetchall(),
        ),
        "replica sync after a write": summarize(sync_times, 0, sum(sync_times)),
        f"staleness, sync every {SYNC_INTERVAL_S * 1000:g} ms": summarize(stale, 0, sum(stale)),
    }


def run_profile(
    api: ToxiproxyApi, proxy_url: str, profile: NetworkProfile, tmp: Path, reads: int, trials: int
) -> dict[str, LatencySummary]:
    for toxic in profile.db_link:
        api.add_toxic("turso", toxic)
    try:
        return measure(proxy_url, tmp / f"replica-{profile.name}.db", reads, trials)
    finally:
        for toxic in profile.db_link:
            api.remove_toxic("turso", toxic.key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=300, help="remote reads per profile")
    parser.add_argument("--trials", type=int, default=20, help="syncs and staleness samples")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    settings = HarnessSettings()
    if settings.sqld_bin is None or not settings.sqld_bin.exists():
        print("replica_bench: needs the real sqld: set SQLD_BIN", file=sys.stderr)
        return 2
    rows: dict[str, LatencySummary] = {}
    with tempfile.TemporaryDirectory(prefix="replica-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        with (
            sqld(settings.sqld_bin, tmp / "sqld", tmp / "logs") as server,
            toxiproxy(tmp / "logs", settings) as api,
        ):
            url = server.http_url
            seed(url)
            listen = f"{LOOPBACK}:{free_port(LOOPBACK)}"
            api.create_proxy("turso", listen, url.removeprefix("http://"))
            for profile in PROFILES.values():
                figures = run_profile(
                    api, f"http://{listen}", profile, tmp, args.reads, args.trials
                )
                rows |= {f"{profile.name}: {case}": summary for case, summary in figures.items()}
                print(f"{profile.name}: done", file=sys.stderr, flush=True)
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({k: v.as_dict() for k, v in rows.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
