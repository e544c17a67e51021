"""Repeated short Locust trials on one live stack: what the gate and its quality check run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.hdr import AGGREGATED, endpoint_summaries, side_exact
from harness.network import API_LINK, PROFILES, apply_profile
from harness.settings import HarnessSettings
from harness.stack import Stack, TlsFiles
from harness.toxiproxy import Toxic
from loadtests.ids import IdSpace
from stackbench.provenance import provenance
from stackbench.runner import LoadConfig, LocustRun, bench_stack, run_locust
from stackbench.seeding import seed
from stackbench.summary import cpu_s_in_window, trial_figures, with_cpu

GATE_MODE = "hardened"
GATE_PROFILE = PROFILES["edge"]
# Short scans are one database round trip each (no read cache), so latency is unimodal
# and its percentiles steady from trial to trial; the 5% inserts exercise writes.
GATE_LOAD = LoadConfig(
    workload="ycsb-e", users=10, spawn_rate=10.0, duration_s=6, think_ms=20.0, seed_posts=1000
)
WARMUP_LOAD = LoadConfig(**{**vars(GATE_LOAD), "duration_s": 3})


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
    warmup_rps: float = 0.0  # requests per second the warm-up managed on this stack alone

    def trial(self, label: str, load: LoadConfig = GATE_LOAD) -> dict[str, dict[str, float]]:
        pids = judged_pids(self.live, "")
        run = run_locust(load, self.live.api_url, self.ids, self.out_dir / label, pids)
        if not run.exact:
            raise TrialError(f"trial {label}: Locust wrote no results (exit {run.exit_code})")
        return with_cpu(trial_figures(endpoint_summaries(run.exact)), window_cpu_s(run, ""))

    def paired_trial(
        self, other: GateSession, label: str, load: LoadConfig = GATE_LOAD, swap: bool = False
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
        run = run_locust(load, first.live.api_url, self.ids, out, pids, ab_host=second.live.api_url)
        if not run.exact:
            raise TrialError(f"trial {label}: Locust wrote no results (exit {run.exit_code})")
        figures = {
            place: with_cpu(
                trial_figures(endpoint_summaries(side_exact(run.exact, place))),
                window_cpu_s(run, f"{place} "),
            )
            for place in "AB"
        }
        return stack_sides(figures, swap)

    @contextlib.contextmanager
    def extra_latency(self, latency_ms: float) -> Iterator[None]:
        """Every response from the app delayed by `latency_ms`: a synthetic regression."""
        toxic = Toxic("latency", "downstream", {"latency": round(latency_ms)}, name="regression")
        with self.live.toxiproxy.toxics(self.live.proxies[API_LINK], toxic):
            yield


def judged_pids(live: Stack, prefix: str) -> dict[str, int]:
    """The app's and database's pids, named `prefix` + process (the database only when this
    harness started it: a server elsewhere is not the change's to judge)."""
    return {f"{prefix}{name}": pid for name, pid in live.pids().items() if name in JUDGED_PROCESSES}


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
    """Start, seed and warm up the gate's stack; everything stops on exit.

    `app_code` / `server_code`: run the app / local server from another checkout.
    """
    out_dir = out_dir or settings.results_dir / "gate"
    tls = TlsFiles.for_local_server(settings)
    with bench_stack(
        out_dir / "logs", GATE_MODE, settings, tls, app_code=app_code, server_code=server_code
    ) as live:
        print(f"gate: database {live.database.describe()}")
        ids = seed(live, GATE_LOAD.seed_posts, 0)
        with apply_profile(live, GATE_PROFILE) as notes:
            for note in notes:
                print(f"gate: {note}")
            session = GateSession(live, ids, out_dir, provenance())
            warmup = session.trial("warmup", WARMUP_LOAD)
            session.warmup_rps = warmup[AGGREGATED]["requests"] / WARMUP_LOAD.duration_s
            yield session
