"""Coordinated omission, shown: one 4 s stall, measured by a closed and an open model.

Run: `.venv/bin/python -m bench.coordinated_omission`. Both models offer about the same
load (closed: USERS users with THINK_MS between requests; open: the same rate on a fixed
schedule) while a latency toxic holds every response on the `api` link for STALL_S.
Closed-model users each wait out the stall once, so only a handful of slow samples
exist and p99 barely moves; the open model keeps sending on schedule and times each
request from when it was due, so everything queued behind the stall counts.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from bench.profiles import PROFILES
from bench.runner import LoadConfig, bench_stack, network, run_locust
from bench.seeding import seed
from bench.summary import endpoint_summaries
from harness.settings import HarnessSettings
from harness.stack import Stack, TlsFiles
from harness.toxiproxy import Toxic
from loadtests.ids import IdSpace

RUN_S = 20
STALL_AT_S = 8.0  # after Locust's start-up and spawn
STALL_S = 4.0
USERS = 5
THINK_MS = 100.0
RATE = USERS * 1000 / THINK_MS  # what the closed users offer when nothing stalls
STALL = Toxic("latency", "downstream", {"latency": round(STALL_S * 1000)}, name="stall")
CLOSED = LoadConfig(
    workload="readers", users=USERS, spawn_rate=USERS, duration_s=RUN_S, think_ms=THINK_MS
)
OPEN = LoadConfig(
    workload="open-readers", users=1, spawn_rate=1, duration_s=RUN_S, arrival_rate=RATE
)
ENDPOINTS = {"closed": "GET /posts/{id}", "open": "GET /posts/{id} (open model)"}


def stalled_run(live: Stack, ids: IdSpace, load: LoadConfig, out_dir: Path) -> float:
    """p99 (ms) of one Locust run with the stall injected at STALL_AT_S."""
    api = live.toxiproxy

    def stall() -> None:
        with api.toxics(live.proxies["api"], STALL):
            threading.Event().wait(STALL_S)

    timer = threading.Timer(STALL_AT_S, stall)
    timer.start()
    try:
        run = run_locust(load, live.api_url, ids, out_dir)
    finally:
        timer.cancel()
        timer.join()
    name = ENDPOINTS["open" if load is OPEN else "closed"]
    return endpoint_summaries(run.exact)[name].p99_ms


def main() -> int:
    settings = HarnessSettings()
    out_dir = settings.results_dir / "coordinated-omission"
    with bench_stack(
        out_dir / "logs", "hardened", settings, TlsFiles.from_settings(settings)
    ) as live:
        ids = seed(live, 1000, 0)
        with network(live, PROFILES["local"]):
            closed = stalled_run(live, ids, CLOSED, out_dir / "closed")
            opened = stalled_run(live, ids, OPEN, out_dir / "open")
    print(f"{STALL_S:.0f} s stall in a {RUN_S} s run at ~{RATE:.0f} req/s")
    print(f"closed-model p99: {closed:8.1f} ms   (the stall is hidden)")
    print(f"open-model   p99: {opened:8.1f} ms   (the stall shows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
