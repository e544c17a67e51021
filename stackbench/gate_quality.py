"""How good is the gate? Detection of a +20% p95 regression and false alarms, idle and noisy.

Run: `make bench-quality` (long: RUNS x 2 x conditions whole gate runs). Each run is a real
`python -m stackbench.gate --base HEAD` (baseline worktree and working tree, both stacks, trials
interleaved). Half the runs inject +20% of the candidate's p95 into the candidate only (a
latency toxic on its `api` link): a FAIL is a detection. The other half change nothing: a
FAIL is a false alarm. Runs alternate injected / unchanged, so drift hits both alike.
Conditions: `idle` (nothing added by this script; other work on the machine is not under
its control, so the load average is printed) and `noisy` (a bounded busy loop pinned to one
core, started here and always stopped).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from harness.cli import run
from harness.hdr import AGGREGATED
from harness.settings import PROJECT_ROOT, HarnessSettings
from stackbench.cli import OneLineParser, positive_int
from stackbench.comparable import machine_load
from stackbench.gate import EXIT_FAIL, MIN_TRIALS, NOTHING_JUDGED

REGRESSION = 0.20
CONDITIONS = ("idle", "noisy")
GATE_RUN_TIMEOUT_S = 900
GATE_STOP_S = 120
HOG_LIMIT_S = 4 * 3600  # the busy loop ends by itself even if this script is killed -9
# A busy loop with its own deadline: it cannot outlive a crashed parent by more than that.
HOG_CODE = (
    "import sys,time\nend=time.monotonic()+float(sys.argv[1])\nwhile time.monotonic()<end: pass"
)


@dataclass
class Tally:
    runs: int = 0
    flagged: int = 0
    errors: int = 0  # gate runs that neither passed nor failed (exit 2): counted, not hidden
    unjudged: int = 0  # FAILs because too few requests to judge anything (in `flagged` too)
    loads: list[float] = field(default_factory=list)
    p95_changes: list[float] = field(default_factory=list)  # Aggregated p95 estimate per run
    cpu_changes: list[float] = field(default_factory=list)  # the candidate app's CPU, per run

    @property
    def rate(self) -> float:
        return self.flagged / self.runs if self.runs else float("nan")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m stackbench.gate_quality", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=positive_int, default=20, help="gate runs per cell")
    parser.add_argument("--trials", type=positive_int, default=8, help="per side, per gate run")
    parser.add_argument("--trial-s", type=positive_int, default=6)
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="idle,noisy")
    args = parser.parse_args(argv)
    args.conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    if unknown := set(args.conditions) - set(CONDITIONS):
        parser.error(f"unknown condition(s) {sorted(unknown)}; known: {', '.join(CONDITIONS)}")
    if args.trials < MIN_TRIALS:
        parser.error(f"--trials {args.trials}: at least {MIN_TRIALS}")
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


def aggregated_change(out: Path, metric: str) -> float:
    """The gate's Hodges-Lehmann estimate of an Aggregated figure's change in that run."""
    try:
        comparisons = json.loads((out / "gate.json").read_text())["comparisons"]
    except (OSError, ValueError, KeyError):
        return float("nan")
    return next(
        (
            c["effect"]["estimate"]
            for c in comparisons
            if c["endpoint"] == AGGREGATED and c["metric"] == metric
        ),
        float("nan"),
    )


def gate_run(args: argparse.Namespace, out: Path, inject: bool) -> int:
    argv = [sys.executable, "-m", "stackbench.gate", "--base", "HEAD", "--trials", str(args.trials)]
    argv += ["--trial-s", str(args.trial_s), "--out", str(out), "--stages", "latency"]
    if inject:
        argv += ["--inject-p95", str(REGRESSION)]
    with (out.parent / f"{out.name}.log").open("w") as log:
        gate = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
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


def measure(args: argparse.Namespace, condition: str, out_dir: Path) -> dict[str, Tally]:
    tallies = {"detection": Tally(), "false alarm": Tally()}
    with noisy_neighbour(condition == "noisy"):
        for n in range(2 * args.runs):
            inject = n % 2 == 0
            cell = tallies["detection" if inject else "false alarm"]
            load = machine_load()
            started = time.perf_counter()
            out = out_dir / f"{condition}-{n:03d}"
            code = gate_run(args, out, inject)
            cell.p95_changes.append(aggregated_change(out, "p95_ms"))
            cell.cpu_changes.append(aggregated_change(out, "app_cpu_us"))
            cell.runs += code in (0, EXIT_FAIL)
            cell.flagged += code == EXIT_FAIL
            cell.errors += code not in (0, EXIT_FAIL)
            unjudged = (
                code == EXIT_FAIL and NOTHING_JUDGED in (out.parent / f"{out.name}.log").read_text()
            )
            cell.unjudged += unjudged
            cell.loads.append(load)
            outcome = {0: "PASS", EXIT_FAIL: "FAIL"}.get(code, f"error {code}")
            outcome += " (nothing judged)" if unjudged else ""
            print(
                f"quality: {condition:<5} run {n + 1:>3}/{2 * args.runs}"
                f" {'injected +20% p95' if inject else 'unchanged        '} -> {outcome:<8}"
                f" p95 {100 * cell.p95_changes[-1]:+5.1f}%"
                f"  app cpu {100 * cell.cpu_changes[-1]:+5.1f}%  load/CPU {load:.2f}"
                f"  ({time.perf_counter() - started:.0f}s)",
                flush=True,
            )
    return tallies


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
    per_side = f"{args.trials} trials x {args.trial_s}s per side"
    print(f"\ngate quality: {args.runs} runs per cell, {per_side}")
    print(
        f"{'condition':<10} {'detection (goal >= 95%)':>24} {'false alarms (goal <= 5%)':>26}"
        f"  {'load/CPU':>9}  errors"
    )
    ok = True
    for condition, t in results.items():
        det, fa = t["detection"], t["false alarm"]
        loads = det.loads + fa.loads
        print(
            f"{condition:<10} {100 * det.rate:>10.0f}% ({det.flagged:>2}/{det.runs:<2})"
            f"        {100 * fa.rate:>10.0f}% ({fa.flagged:>2}/{fa.runs:<2})         "
            f"  {min(loads):.2f}-{max(loads):.2f}  {det.errors + fa.errors}"
        )
        for name, cell in t.items():
            for figure, changes in (("p95", cell.p95_changes), ("app CPU", cell.cpu_changes)):
                listed = " ".join(f"{100 * c:+.0f}%" for c in sorted(changes))
                print(f"  {name} runs, Aggregated {figure} change: {listed}")
        if det.unjudged + fa.unjudged:
            print(
                f"  of the FAILs, {det.unjudged} detection and {fa.unjudged} false-alarm runs"
                " judged nothing (too few requests): the gate refused, it did not measure"
            )
        ok = ok and det.rate >= 0.95 and fa.rate <= 0.05 and not (det.errors + fa.errors)
    print(f"quality run took {time.perf_counter() - started:.0f}s; logs in {out_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    run("bench-quality", main)
