"""How good is the gate? Detection of a regression on each route, of more CPU on the create
path, and false alarms, idle and noisy; and the smallest change each route can show.

Run: `make bench-quality` (long: RUNS x 3 x conditions whole gate runs). Each run is a real
`python -m stackbench.gate --base HEAD` in a throwaway copy of this repository
(stackbench.throwaway), whose working tree is the candidate. Runs cycle through three
cells, so drift hits all alike: unchanged (a FAIL is a false alarm); +20% of one route's p95
(a constant delay coded into the candidate's app, stackbench.injection, the route rotating
through all of them; a FAIL in that route's row is a detection); +25% of the app's CPU per
request on POST /posts alone (a detection is a FAIL in its `app cpu` row). Sizes come from
the last unchanged run's baseline figures. Conditions: `idle` (nothing added by this
script; other work on the machine is not under its control, so the load average is
printed) and `noisy` (a bounded busy loop pinned to one core, started here and always
stopped). The minimum detectable effect per route is read from the unchanged runs: the
smallest shift that, added to their candidates' per-trial figures, the gate's own rule
flags in 95% of them.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from harness.cli import make_names, run
from harness.hdr import AGGREGATED
from harness.settings import HarnessSettings
from loadtests.route_blocks import ROUTES
from stackbench.cli import OneLineParser, positive_int
from stackbench.comparable import machine_load
from stackbench.gate import EXIT_FAIL, at_least_min_trials, cycles
from stackbench.gate_stats import METRICS, Status, compare_latency
from stackbench.injection import TARGETS, Injection, inject, restore
from stackbench.throwaway import throwaway_repository

REGRESSION = 0.20  # of a route's p95, as a constant delay
CPU_REGRESSION = 0.25  # of the app's CPU per POST /posts request
CPU_TARGET = "POST /posts"
POWER = 0.95
CONDITIONS = ("idle", "noisy")
UNCHANGED, ROUTE, CPU = "unchanged", "route +20% p95", "create +25% CPU"
CELLS = (UNCHANGED, ROUTE, CPU)
GATE_RUN_TIMEOUT_S = 900
GATE_STOP_S = 120
HOG_LIMIT_S = 8 * 3600  # the busy loop ends by itself even if this script is killed -9
# A busy loop with its own deadline: it cannot outlive a crashed parent by more than that.
HOG_CODE = (
    "import sys,time\nend=time.monotonic()+float(sys.argv[1])\nwhile time.monotonic()<end: pass"
)


@dataclass
class Tally:
    runs: int = 0
    flagged: int = 0  # FAILs in the right row (unchanged: any FAIL)
    elsewhere: int = 0  # FAILs only in other rows (a detection run that blamed another route)
    errors: int = 0  # gate runs that neither passed nor failed (exit 2): counted, not hidden
    loads: list[float] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.runs if self.runs else float("nan")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="bench-quality",
        description=__doc__.splitlines()[0],
        make_variables=make_names("--runs", "--trials", "--cycles", "--conditions"),
    )
    parser.add_argument("--runs", type=positive_int, default=20, help="gate runs per cell")
    parser.add_argument(
        "--trials", type=at_least_min_trials, default=8, help="per side, per gate run"
    )
    parser.add_argument("--cycles", type=cycles, default=2, help="rounds through the routes")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="idle,noisy")
    args = parser.parse_args(argv)
    args.conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    if unknown := set(args.conditions) - set(CONDITIONS):
        parser.error(
            f"--conditions: unknown {', '.join(sorted(unknown))}; known: {', '.join(CONDITIONS)}"
        )
    return args


@contextlib.contextmanager
def noisy_neighbour(active: bool) -> Iterator[None]:
    """A CPU hog on one core for the block (none when not `active`), always stopped."""
    if not active:
        yield
        return
    hog = subprocess.Popen(
        [sys.executable, "-c", HOG_CODE, str(HOG_LIMIT_S)], stdin=subprocess.DEVNULL
    )
    try:
        os.sched_setaffinity(hog.pid, {sorted(os.sched_getaffinity(0))[0]})
        yield
    finally:
        hog.kill()
        hog.wait()


def read_record(out: Path) -> dict[str, Any]:
    """The gate run's gate.json; empty when it left none (an error)."""
    try:
        return json.loads((out / "gate.json").read_text())
    except (OSError, ValueError):
        return {}


def regressed_rows(record: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (c["endpoint"], c["metric"])
        for c in record.get("comparisons", [])
        if c["status"] in (Status.REGRESSED, Status.MISSING, Status.NO_DATA)
    }


def baseline_median(record: Mapping[str, Any], endpoint: str, metric: str) -> float:
    """The baseline's median over trials of one figure, as the gate reported it."""
    return next(
        (
            float(c["baseline"])
            for c in record.get("comparisons", [])
            if c["endpoint"] == endpoint and c["metric"] == metric
        ),
        math.nan,
    )


def sized(cell: str, target: str, calibration: Mapping[str, Any]) -> Injection | None:
    """The cell's regression, sized from the last unchanged run's baseline figures."""
    if cell == ROUTE:
        p95s = [baseline_median(calibration, row, "p95_ms") for row in TARGETS[target].rows]
        if any(math.isnan(p95) for p95 in p95s):
            return None  # not measured in that run: nothing to size it from
        return Injection(target, delay_ms=REGRESSION * min(p95s))
    if cell == CPU:
        cpu_us = baseline_median(calibration, CPU_TARGET, "app_cpu_us")
        return None if math.isnan(cpu_us) else Injection(CPU_TARGET, cpu_us=CPU_REGRESSION * cpu_us)
    return None


def expected_rows(injection: Injection | None) -> set[tuple[str, str]]:
    """Where a detection must show: the route's latency rows, or its app CPU row."""
    if injection is None:
        return set()
    rows = TARGETS[injection.target].rows
    if injection.cpu_us:
        return {(row, "app_cpu_us") for row in rows}
    return {(row, metric) for row in rows for metric in METRICS}


def gate_run(args: argparse.Namespace, tree: Path, out: Path) -> int:
    argv = [sys.executable, "-m", "stackbench.gate", "--base", "HEAD", "--trials", str(args.trials)]
    argv += ["--cycles", str(args.cycles), "--out", str(out), "--stages", "latency"]
    with (out.parent / f"{out.name}.log").open("w") as log:
        gate = subprocess.Popen(argv, cwd=tree, stdout=log, stderr=subprocess.STDOUT)
        try:
            return gate.wait(GATE_RUN_TIMEOUT_S)
        finally:
            # Interrupted or timed out: SIGTERM lets the gate stop its stacks and remove
            # its worktree; SIGKILL only if it does not manage in time.
            if gate.poll() is None:
                gate.terminate()
                try:
                    gate.wait(GATE_STOP_S)
                except subprocess.TimeoutExpired:
                    gate.kill()
                    gate.wait()


def schedule(runs: int) -> Iterator[tuple[str, str]]:
    """(cell, route) for every run: the cells in turn, the route rotating through TARGETS."""
    routes = itertools.cycle(TARGETS)
    for _ in range(runs):
        for cell in CELLS:
            yield cell, next(routes) if cell == ROUTE else CPU_TARGET


def score(tally: Tally, code: int, record: Mapping[str, Any], injection: Injection | None) -> str:
    tally.runs += code in (0, EXIT_FAIL)
    tally.errors += code not in (0, EXIT_FAIL)
    if code not in (0, EXIT_FAIL):
        return f"error {code}"
    if code == 0:
        return "PASS"
    regressed = regressed_rows(record)
    listed = ", ".join(f"{e} {m}" for e, m in sorted(regressed))
    if injection is None:
        tally.flagged += 1
        return f"FAIL ({listed})"
    # A detection fails in the injected route's row and nowhere but that route and the
    # Aggregated row (which the route is part of): a FAIL that also blames an untouched
    # route is a false alarm riding along, not a detection.
    allowed = {*TARGETS[injection.target].rows, AGGREGATED}
    if regressed & expected_rows(injection) and {e for e, _ in regressed} <= allowed:
        tally.flagged += 1
        return f"FAIL ({listed})"
    tally.elsewhere += 1
    return f"FAIL elsewhere ({listed})"


def measure(
    args: argparse.Namespace, condition: str, out_dir: Path
) -> tuple[dict[str, Tally], list[dict[str, Any]]]:
    tallies = {cell: Tally() for cell in CELLS}
    unchanged_records: list[dict[str, Any]] = []
    calibration: dict[str, Any] = {}
    with noisy_neighbour(condition == "noisy"), throwaway_repository() as tree:
        for n, (cell, target) in enumerate(schedule(args.runs)):
            injection = sized(cell, target, calibration) if calibration else None
            if cell != UNCHANGED and injection is None:
                continue  # nothing to size it from yet: the first unchanged run failed
            restore(tree)
            if injection is not None:
                inject(tree, injection)
            load, started = machine_load(), time.perf_counter()
            out = out_dir / f"{condition}-{n:03d}"
            code = gate_run(args, tree, out)
            record = read_record(out)
            outcome = score(tallies[cell], code, record, injection)
            tallies[cell].loads.append(load)
            tallies[cell].outcomes.append(outcome)
            if cell == UNCHANGED and record.get("comparisons"):
                calibration = record
                unchanged_records.append(record)
            what = injection.describe() if injection else "unchanged"
            print(
                f"quality: {condition:<5} run {n + 1:>3}/{3 * args.runs} {what:<42} -> {outcome}"
                f"  load/CPU {load:.2f}  ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )
        restore(tree)
    return tallies, unchanged_records


def _trial_pairs(
    record: Mapping[str, Any],
) -> tuple[Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]:
    trials = record.get("trials", {})
    return trials.get("A", []), trials.get("B", [])


def flagged_with_shift(record: Mapping[str, Any], endpoint: str, metric: str, shift: float) -> bool:
    """Whether the gate's rule flags `endpoint`'s `metric` once the candidate's per-trial
    figures of this (unchanged) run are `shift` higher."""
    base, cand = _trial_pairs(record)
    shifted = [
        {**t, endpoint: {**t[endpoint], metric: t[endpoint][metric] * (1 + shift)}}
        if endpoint in t and metric in t[endpoint]
        else t
        for t in cand
    ]
    comparison = compare_latency(endpoint, metric, base, shifted, paired=True)
    return comparison.status is Status.REGRESSED


def minimum_detectable_effect(
    records: Sequence[Mapping[str, Any]], endpoint: str, metric: str, power: float = POWER
) -> float:
    """The smallest shift (in whole percent, up to +300%) that the rule flags in `power`
    of the unchanged runs; NaN when none is that large or there are no runs."""
    if not records:
        return math.nan
    for percent in range(0, 301):
        shift = percent / 100
        flagged = sum(flagged_with_shift(r, endpoint, metric, shift) for r in records)
        if flagged >= power * len(records):
            return shift
    return math.nan


def format_mde(records: Sequence[Mapping[str, Any]]) -> str:
    metrics = (*METRICS, "app_cpu_us")
    lines = [
        f"minimum detectable effect ({POWER:.0%} power, from {len(records)} unchanged runs):",
        f"{'route':<28} {'p50':>6} {'p95':>6} {'app cpu':>8}",
    ]
    for route in ("Aggregated", *ROUTES):
        cells = [minimum_detectable_effect(records, route, m) for m in metrics]
        text = ["n/a" if math.isnan(c) else f"+{100 * c:.0f}%" for c in cells]
        lines.append(f"{route:<28} {text[0]:>6} {text[1]:>6} {text[2]:>8}")
    return "\n".join(lines)


def _stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C: the busy loop and the running gate are stopped."""

    def handler(signum: int, _frame: object) -> NoReturn:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    _stop_on_sigterm()
    out_dir = HarnessSettings().results_dir / "gate-quality"
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {c: measure(args, c, out_dir) for c in args.conditions}
    print(f"\ngate quality: {args.runs} runs per cell, {args.trials} trials per side")
    print(
        f"{'condition':<10} {'false alarms (<= 5%)':>22} {'route +20% (>= 95%)':>22}"
        f" {'create CPU +25% (>= 95%)':>26}  {'load/CPU':>9}  errors"
    )
    ok = True
    for condition, (tallies, unchanged) in results.items():
        fa, route, cpu = (tallies[c] for c in CELLS)
        loads = [x for t in tallies.values() for x in t.loads] or [math.nan]
        errors = sum(t.errors for t in tallies.values())
        print(
            f"{condition:<10} {_rate(fa):>22} {_rate(route):>22} {_rate(cpu):>26}"
            f"  {min(loads):.2f}-{max(loads):.2f}  {errors}"
        )
        if route.elsewhere + cpu.elsewhere:
            print(f"  FAILs blaming another row: {route.elsewhere} route, {cpu.elsewhere} CPU runs")
        print(format_mde(unchanged))
        ok = ok and fa.rate <= 0.05 and route.rate >= POWER and cpu.rate >= POWER and not errors
    print(f"quality run took {time.perf_counter() - started:.0f}s; logs in {out_dir}")
    return 0 if ok else 1


def _rate(tally: Tally) -> str:
    return f"{100 * tally.rate:.0f}% ({tally.flagged}/{tally.runs})"


if __name__ == "__main__":
    run("bench-quality", main)
