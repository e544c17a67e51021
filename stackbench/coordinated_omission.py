"""Coordinated omission, shown: one stall, measured by a closed and an open model.

Run: `.venv/bin/python -m stackbench.coordinated_omission`. Both models offer about the same
load (closed: USERS users with THINK_MS between requests; open: the same rate on a fixed
schedule) while a latency toxic holds every response on the `api` link for STALL_S,
starting STALL_AT_S after the app has seen the run's first requests. Closed-model users
each wait out the stall once, so only a handful of slow samples exist and p99 barely
moves; the open model keeps sending on schedule and times each request from when it was
due, so everything queued behind the stall counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.app_counters import read_counters
from harness.cli import run
from harness.hdr import endpoint_summaries
from harness.network import PROFILES, apply_profile
from harness.settings import HarnessSettings
from harness.stack import Stack, TlsFiles
from harness.toxiproxy import Toxic
from loadtests.ids import IdSpace
from stackbench.cli import OneLineParser, positive_int
from stackbench.runner import LoadConfig, bench_stack, run_locust
from stackbench.seeding import seed

ENDPOINTS = {"closed": "GET /posts/{id}", "open": "GET /posts/{id} (open model)"}
TRAFFIC_STARTED = 20  # requests the app must have served before the stall's clock starts
POLL_S = 0.05


@dataclass(frozen=True)
class Experiment:
    run_s: int = 20
    stall_at_s: float = 8.0
    stall_s: float = 4.0
    users: int = 5
    think_ms: float = 100.0

    @property
    def rate(self) -> float:
        """What the closed users offer when nothing stalls, in requests per second."""
        return self.users * 1000 / self.think_ms

    def loads(self) -> dict[str, LoadConfig]:
        closed = LoadConfig(
            workload="readers",
            users=self.users,
            spawn_rate=self.users,
            duration_s=self.run_s,
            think_ms=self.think_ms,
        )
        open_ = LoadConfig(
            workload="open-readers",
            users=1,
            spawn_rate=1,
            duration_s=self.run_s,
            arrival_rate=self.rate,
        )
        return {"closed": closed, "open": open_}


def served(app_url: str) -> float:
    """Requests the app has answered so far, not counting this polling of its /metrics."""
    return read_counters(app_url).requests


def _stall_when_traffic_flows(live: Stack, experiment: Experiment, done: threading.Event) -> None:
    """Wait for the run's own requests at the app, then STALL_AT_S, then hold responses."""
    before = served(live.app.url)
    while not done.is_set() and served(live.app.url) < before + TRAFFIC_STARTED:
        done.wait(POLL_S)
    if done.wait(experiment.stall_at_s):
        return
    stall = Toxic("latency", "downstream", {"latency": round(experiment.stall_s * 1000)})
    with live.toxiproxy.toxics(live.proxies["api"], stall):
        done.wait(experiment.stall_s)


def stalled_run(
    live: Stack, ids: IdSpace, experiment: Experiment, model: str, out_dir: Path
) -> float:
    """p99 (ms) of one Locust run of `model` with the stall injected."""
    done = threading.Event()
    staller = threading.Thread(target=_stall_when_traffic_flows, args=(live, experiment, done))
    staller.start()
    try:
        run = run_locust(experiment.loads()[model], live.api_url, ids, out_dir / model)
    finally:
        done.set()
        staller.join()
    if not run.exact:
        raise RuntimeError(f"{model} run: Locust wrote no results (exit {run.exit_code})")
    return endpoint_summaries(run.exact)[ENDPOINTS[model]].p99_ms


def measure(settings: HarnessSettings, experiment: Experiment, out_dir: Path) -> dict[str, float]:
    """Closed and open p99 on one fresh stack (local profile, TLS)."""
    tls = TlsFiles.from_settings(settings)
    with bench_stack(out_dir / "logs", "hardened", settings, tls) as live:
        ids = seed(live, 1000, 0)
        with apply_profile(live, PROFILES["local"]):
            return {
                model: stalled_run(live, ids, experiment, model, out_dir)
                for model in ("closed", "open")
            }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m stackbench.coordinated_omission", description=__doc__)
    default = Experiment()
    parser.add_argument("--run-s", type=positive_int, default=default.run_s)
    parser.add_argument("--stall-at-s", type=float, default=default.stall_at_s)
    parser.add_argument("--stall-s", type=float, default=default.stall_s)
    parser.add_argument("--users", type=positive_int, default=default.users)
    parser.add_argument("--think-ms", type=float, default=default.think_ms)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--out", type=Path, default=None, help="default results/coordinated-…")
    args = parser.parse_args(argv)
    if args.stall_at_s < 0 or args.stall_s <= 0 or args.think_ms <= 0:
        parser.error("--stall-at-s >= 0, --stall-s > 0 and --think-ms > 0 please")
    if args.stall_at_s + args.stall_s >= args.run_s:
        parser.error("the stall must end before the run does: stall-at-s + stall-s < run-s")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = HarnessSettings()
    experiment = Experiment(args.run_s, args.stall_at_s, args.stall_s, args.users, args.think_ms)
    out_dir = args.out or settings.results_dir / "coordinated-omission"
    started = time.perf_counter()
    p99 = measure(settings, experiment, out_dir)
    print(
        f"{experiment.stall_s:g} s stall in a {experiment.run_s} s run at ~{experiment.rate:.0f}"
        f" req/s ({time.perf_counter() - started:.0f}s)"
    )
    print(f"closed-model p99: {p99['closed']:8.1f} ms   (the stall is hidden)")
    print(f"open-model   p99: {p99['open']:8.1f} ms   (the stall shows)")
    if args.json:
        args.json.write_text(json.dumps({"stall_ms": experiment.stall_s * 1000, "p99_ms": p99}))
    return 0


if __name__ == "__main__":
    run("coordinated-omission", main)
