"""Repeated short Locust trials on one live stack: what the gate and its quality check run."""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.cpu import cpu_in_window
from harness.hdr import AGGREGATED, endpoint_summaries, side_exact
from harness.network import PROFILES, apply_profile
from harness.settings import HarnessSettings
from harness.stack import Stack, TlsFiles
from loadtests.ids import IdSpace
from loadtests.route_blocks import DEFAULT_BLOCK_S, DEFAULT_CYCLES, RouteBlocks
from stackbench.provenance import provenance
from stackbench.runner import LoadConfig, LocustRun, bench_stack, run_locust
from stackbench.seeding import seed
from stackbench.summary import cpu_s_in_window, trial_figures, with_cpu

GATE_MODE = "hardened"
GATE_PROFILE = PROFILES["edge"]
# Every route in turn (loadtests/route_blocks.py), 8 users without think time: busy enough
# for ~250 requests per route and side per trial, idle enough that neither side's queue
# decides its latency (20 users saturated 2 cores and doubled the trial-to-trial spread).
GATE_LOAD = LoadConfig(
    workload="gate",
    users=8,
    spawn_rate=100.0,  # all at once: the first block starts LEAD_S after the test starts
    think_ms=0.0,
    seed_posts=5000,  # uniform ("cold") reads then mostly miss the read cache
    commented_posts=200,
    route_block_s=(DEFAULT_BLOCK_S,),
    route_cycles=DEFAULT_CYCLES,
)
# Counters read often enough that two samples fall in each gap between route blocks.
GATE_CPU_SAMPLE_S = 0.05


def gate_load(block_s: Sequence[float], cycles: int) -> LoadConfig:
    """GATE_LOAD with these blocks, and a run time that covers them."""
    blocks = RouteBlocks(0.0, tuple(block_s), cycles)
    return replace(
        GATE_LOAD,
        route_block_s=tuple(block_s),
        route_cycles=cycles,
        duration_s=math.ceil(blocks.duration_s) + 1,
    )


# One round, a second per route: enough to warm both stacks and to size the trials' blocks.
WARMUP_LOAD = gate_load((DEFAULT_BLOCK_S,), cycles=1)


# The processes whose code a change touches; Toxiproxy and Locust are the harness's.
JUDGED_PROCESSES = ("app", "database")


class TrialError(RuntimeError):
    """A trial gave no figures (Locust wrote nothing) or the two stacks do not match."""


@dataclass
class GateSession:
    """A live, seeded stack under the gate's profile; each `trial` is one Locust run."""

    live: Stack
    ids: IdSpace
    out_dir: Path
    provenance: dict[str, Any]

    def trial(self, label: str, load: LoadConfig) -> dict[str, dict[str, float]]:
        pids = judged_pids(self.live, "")
        out = self.out_dir / label
        url = self.live.api_url
        run = run_locust(load, url, self.ids, out, pids, cpu_sample_s=GATE_CPU_SAMPLE_S)
        if not run.exact:
            raise TrialError(f"trial {label}: Locust wrote no results (exit {run.exit_code})")
        return side_figures(run, run.exact, "", load)

    def paired_trial(
        self, other: GateSession, label: str, load: LoadConfig, swap: bool = False
    ) -> dict[str, dict[str, dict[str, float]]]:
        """One Locust run whose users alternate requests between this stack (A) and `other`
        (B); each side's figures, measured in the same seconds.

        `swap` gives `other` the load generator's first place (--host) and this stack the
        second (--ab-host), so alternating it cancels any edge either place has.
        """
        if self.ids != other.ids:
            raise TrialError(f"the two stacks were seeded differently: {self.ids} {other.ids}")
        first, second = (other, self) if swap else (self, other)
        out = self.out_dir.parent / "trials" / label
        pids = {**judged_pids(first.live, "A "), **judged_pids(second.live, "B ")}
        run = run_locust(
            load,
            first.live.api_url,
            self.ids,
            out,
            pids,
            ab_host=second.live.api_url,
            cpu_sample_s=GATE_CPU_SAMPLE_S,
        )
        if not run.exact:
            raise TrialError(f"trial {label}: Locust wrote no results (exit {run.exit_code})")
        figures = {
            place: side_figures(run, side_exact(run.exact, place), f"{place} ", load)
            for place in "AB"
        }
        return stack_sides(figures, swap)


def judged_pids(live: Stack, prefix: str) -> dict[str, int]:
    """The app's and database's pids, named `prefix` + process (the database only when this
    harness started it: a server elsewhere is not the change's to judge)."""
    return {f"{prefix}{name}": pid for name, pid in live.pids().items() if name in JUDGED_PROCESSES}


def side_figures(
    run: LocustRun, exact: dict[str, Any], prefix: str, load: LoadConfig
) -> dict[str, dict[str, float]]:
    """One side's figures per route and aggregated, CPU per request included on each."""
    figures = with_cpu(trial_figures(endpoint_summaries(exact)), window_cpu_s(run, prefix))
    for route, cpu_s in route_cpu_s(run, prefix, load).items():
        if route in figures:
            figures[route] = with_cpu({AGGREGATED: figures[route]}, cpu_s)[AGGREGATED]
    return figures


def route_cpu_s(run: LocustRun, prefix: str, load: LoadConfig) -> dict[str, dict[str, float]]:
    """CPU seconds of the judged processes named `prefix` + process in each route's blocks
    (every route has the machine's cores to itself in its blocks), keyed by metric name."""
    if load.workload != GATE_LOAD.workload or "started_s" not in run.exact:
        return {}
    blocks = RouteBlocks(float(run.exact["started_s"]), load.route_block_s, load.route_cycles)
    by_route: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for block in blocks:
        window = cpu_in_window(run.cpu_samples, *block.cpu_window)
        for name in JUDGED_PROCESSES:
            if f"{prefix}{name}" in window:
                by_route[block.route][f"{name}_cpu_us"] += window[f"{prefix}{name}"]
    return by_route


def window_cpu_s(run: LocustRun, prefix: str) -> dict[str, float]:
    """CPU seconds of the processes named `prefix` + process over Locust's measured window,
    keyed by the gate's metric names (app_cpu_us, database_cpu_us); empty if unknown."""
    window = cpu_s_in_window(run.exact, run.cpu_samples)
    return {
        f"{name}_cpu_us": window[f"{prefix}{name}"]
        for name in JUDGED_PROCESSES
        if f"{prefix}{name}" in window
    }


def stack_sides(by_place: dict[str, Any], swapped: bool) -> dict[str, Any]:
    """Figures by load-generator place ("A" = --host) to figures by stack (A = baseline)."""
    return {"A": by_place["B"], "B": by_place["A"]} if swapped else dict(by_place)


@contextlib.contextmanager
def gate_session(
    settings: HarnessSettings,
    out_dir: Path | None = None,
    *,
    app_code: Path | None = None,
    server_code: Path | None = None,
) -> Iterator[GateSession]:
    """Start and seed the gate's stack; everything stops on exit.

    `app_code` / `server_code`: run the app / local server from another checkout.
    """
    out_dir = out_dir or settings.results_dir / "gate"
    tls = TlsFiles.for_local_server(settings)
    with bench_stack(
        out_dir / "logs", GATE_MODE, settings, tls, app_code=app_code, server_code=server_code
    ) as live:
        print(f"gate: database {live.database.describe()}")
        ids = seed(live, GATE_LOAD.seed_posts, GATE_LOAD.commented_posts)
        with apply_profile(live, GATE_PROFILE) as notes:
            for note in notes:
                print(f"gate: {note}")
            yield GateSession(live, ids, out_dir, provenance())
