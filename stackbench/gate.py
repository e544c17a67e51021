"""`make gate`: does the working tree make the app slower or less reliable than a baseline commit?

Both builds run on this machine in this invocation: the baseline commit (BASE, default the
merge base with main; HEAD when that is HEAD itself) in a temporary git worktree, the
candidate from the working tree, each on its own stack (hardened app, `edge` profile,
TLS) started by this harness. After a warm-up per side, each trial is one Locust run
whose users alternate their requests between the two stacks, A B B A ..., so whatever
else the machine does at that moment (a noisy neighbour, drift) lands on both sides
alike, and trial i of A and of B form a pair. Statistics and rule: stackbench/gate_stats.py.

`BASE=file` compares the working tree with the trials in results/baseline.json instead,
only when that file was recorded under the same conditions (stackbench/comparable.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.cli import debugging, make_names, run
from harness.hdr import AGGREGATED
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.settings import (
    PROJECT_ROOT,
    TRANSPORT_HELP,
    TRANSPORTS,
    HarnessSettings,
    new_run_id,
    settings_for,
)
from loadtests.route_blocks import (
    DEFAULT_BLOCK_S,
    DEFAULT_CYCLES,
    GAP_S,
    LEAD_S,
    ROUTES,
    RouteBlocks,
)
from reports import write_index, write_run_report
from reports.runs import GATE_RECORD
from stackbench.ab import (
    BASELINE,
    CANDIDATE,
    GitError,
    baseline_worktree,
    describe,
    is_commit,
    resolve_base,
    serves_tls,
)
from stackbench.cli import SETUP_ERRORS, OneLineParser, one_line, positive_int
from stackbench.comparable import differences, machine_load
from stackbench.gate_resilience import (
    ROUNDS,
    SCHEDULE_SEED,
    as_record,
    compare_sides,
    fault_schedule,
    format_rows,
    run_rounds,
)
from stackbench.gate_stats import (
    METRICS,
    MIN_REQUESTS,
    Comparison,
    Status,
    Trial,
    compare,
    format_comparisons,
    judged_latency,
    verdict,
)
from stackbench.provenance import provenance
from stackbench.runner import LoadConfig
from stackbench.summary import write_json
from stackbench.trials import (
    GATE_LOAD,
    GATE_PROFILE,
    WARMUP_LOAD,
    GateSession,
    TrialError,
    gate_load,
    gate_session,
)

TRIALS_PER_SIDE = 8
# Aimed at per route, side and trial: twice MIN_REQUESTS, because on a shared machine the
# pace in the trials strays up to ±40% from the warm-up's.
TARGET_REQUESTS = 2 * MIN_REQUESTS
MAX_TRIAL_S = 40  # a slow machine gets longer blocks, up to this per trial
MIN_ACTIVE_S = 0.1
# Their gaps and shortest blocks alone must fit in MAX_TRIAL_S.
MAX_CYCLES = int((MAX_TRIAL_S - LEAD_S) // (len(ROUTES) * (GAP_S + MIN_ACTIVE_S)))
MIN_TRIALS = 6  # fewer paired trials cannot give an exact 95% interval
FILE_BASE = "file"
EXIT_FAIL, EXIT_ERROR, EXIT_NOT_COMPARABLE = 1, 2, 3
NOTHING_JUDGED = "no endpoint had"  # how a FAIL for want of requests begins its reason
LATENCY, RESILIENCE = "latency", "resilience"
STAGES = (LATENCY, RESILIENCE)


def at_least_min_trials(text: str) -> int:
    value = positive_int(text)
    if value < MIN_TRIALS:
        raise argparse.ArgumentTypeError(f"{value}: at least {MIN_TRIALS} trials per side")
    return value


def stages(text: str) -> tuple[str, ...]:
    """A comma-separated choice of STAGES, run in STAGES' order whatever the order given."""
    asked = {name.strip() for name in text.split(",") if name.strip()}
    if not asked or asked - set(STAGES):
        raise argparse.ArgumentTypeError(f"{text!r}: give some of {','.join(STAGES)}")
    return tuple(stage for stage in STAGES if stage in asked)


def cycles(text: str) -> int:
    """Rounds per trial: each round has a gap per route, and a trial lasts MAX_TRIAL_S at most."""
    value = positive_int(text)
    if value > MAX_CYCLES:
        raise argparse.ArgumentTypeError(f"{value}: at most {MAX_CYCLES} rounds per trial")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="gate",
        description=__doc__.splitlines()[0],
        make_variables=make_names("--base", "--trials", "--cycles", "--transport", "--stages"),
    )
    parser.add_argument(
        "--base", default="", help="baseline commit; default the merge base with main; 'file'"
    )
    parser.add_argument("--baseline", type=Path, default=None, help="default results/baseline.json")
    parser.add_argument("--write-baseline", action="store_true", help="record the file, no verdict")
    parser.add_argument("--trials", type=at_least_min_trials, default=TRIALS_PER_SIDE)
    parser.add_argument(
        "--cycles",
        type=cycles,
        default=DEFAULT_CYCLES,
        help="rounds through every route per trial (blocks sized from the warm-up)",
    )
    parser.add_argument("--transport", choices=TRANSPORTS, default=None, help=TRANSPORT_HELP)
    parser.add_argument(
        "--stages",
        type=stages,
        default=STAGES,
        help=f"A/B stages to run; default {','.join(STAGES)}",
    )
    parser.add_argument("--out", type=Path, default=None, help="default results/gate")
    args = parser.parse_args(argv)
    if args.base not in ("", FILE_BASE) and not is_commit(args.base):
        parser.error(f"--base: {args.base!r} is not a commit of this repository")
    if (args.write_baseline or args.base == FILE_BASE) and LATENCY not in args.stages:
        parser.error("--stages: resilience alone needs a baseline commit in --base")
    return args


def _figures(trial: Trial) -> str:
    row = trial.get(AGGREGATED, {})
    p50, p95 = row.get("p50_ms", float("nan")), row.get("p95_ms", float("nan"))
    requests = int(row.get("requests", 0))
    error_pct = 100 * int(row.get("errors", 0)) / requests if requests else float("nan")
    app_cpu = row.get("app_cpu_us", float("nan"))
    return (
        f"{requests:>5} reqs p50 {p50:6.2f} p95 {p95:6.2f} ms err {error_pct:4.2f}%"
        f" app {app_cpu:4.0f} µs"
    )


def _progress(n: int, total: int, sides: Mapping[str, Trial], took_s: float) -> None:
    figures = "  |  ".join(f"{side}: {_figures(trial)}" for side, trial in sides.items())
    print(f"gate: trial {n:>2}/{total}  {figures}  ({took_s:.1f}s)", flush=True)


def block_lengths(warmup: Sequence[Trial], cycles: int) -> tuple[float, ...]:
    """Seconds per route block such that, at the warm-up's pace (the slower side's), every
    route gets TARGET_REQUESTS per side in `cycles` rounds: slow
    routes get longer blocks. Scaled down to fit MAX_TRIAL_S (a route may then go unjudged,
    and the verdict table says so)."""
    active_s = WARMUP_LOAD.route_block_s[0] - GAP_S
    wanted = TARGET_REQUESTS / cycles
    lengths = []
    for route in ROUTES:
        per_s = min(int(side.get(route, {}).get("requests", 0)) for side in warmup) / active_s
        lengths.append(GAP_S + (wanted / per_s if per_s > 0 else DEFAULT_BLOCK_S))
    if RouteBlocks(0.0, lengths, cycles).duration_s > MAX_TRIAL_S:
        gaps_s = cycles * len(ROUTES) * GAP_S
        scale = (MAX_TRIAL_S - LEAD_S - gaps_s) / (cycles * sum(lengths) - gaps_s)
        lengths = [GAP_S + max((length - GAP_S) * scale, MIN_ACTIVE_S) for length in lengths]
    return tuple(round(length, 3) for length in lengths)


def sized_load(warmup: Sequence[Trial], cycles: int) -> LoadConfig:
    load = gate_load(block_lengths(warmup, cycles), cycles)
    blocks = ", ".join(
        f"{route} {s:.1f}" for route, s in zip(ROUTES, load.route_block_s, strict=True)
    )
    print(f"gate: trials of {load.duration_s} s, {cycles} rounds of route blocks (s): {blocks}")
    return load


def run_paired(
    sessions: Mapping[str, GateSession], trials: int, load: LoadConfig
) -> dict[str, list[Trial]]:
    """`trials` Locust runs, each alternating every user's requests A B B A ... between
    the two stacks, so both sides are measured in the same seconds."""
    paired: dict[str, list[Trial]] = {BASELINE: [], CANDIDATE: []}
    for n in range(1, trials + 1):
        started = time.perf_counter()
        # Every other trial the stacks swap places in the load generator (see paired_trial).
        sides = sessions[BASELINE].paired_trial(
            sessions[CANDIDATE], f"trial-{n}", load, swap=n % 2 == 0
        )
        for side, trial in sides.items():
            paired[side].append(trial)
        _progress(n, trials, sides, time.perf_counter() - started)
    return paired


def ab_gate(args: argparse.Namespace, settings: HarnessSettings, out_dir: Path) -> dict[str, Any]:
    """Baseline commit against working tree; returns the record with both sides' trials."""
    commit = resolve_base(args.base)
    print(f"gate: A = baseline {describe(commit)}")
    print("gate: B = candidate: the working tree")
    print(f"gate: both apps reach their database over {settings.transport}")
    stage_records: dict[str, Any] = {}
    with baseline_worktree(commit) as base_dir, contextlib.ExitStack() as stacks:
        server_code = base_dir
        if not settings.turso_database_url and not serves_tls(base_dir):
            print("gate: the baseline's local Turso server has no TLS; both sides use this one's")
            server_code = PROJECT_ROOT
        print("gate: starting, seeding and warming up both stacks")
        sessions = {
            BASELINE: stacks.enter_context(
                gate_session(settings, out_dir / "A", app_code=base_dir, server_code=server_code)
            ),
            CANDIDATE: stacks.enter_context(gate_session(settings, out_dir / "B")),
        }
        if LATENCY in args.stages:
            warmup = sessions[BASELINE].paired_trial(sessions[CANDIDATE], "warmup", WARMUP_LOAD)
            load = sized_load(list(warmup.values()), args.cycles)
            stage_records["load"] = asdict(load)
            stage_records["trials"] = run_paired(sessions, args.trials, load)
        if RESILIENCE in args.stages:
            stage_records[RESILIENCE] = resilience_stage(sessions, out_dir.name)
    return {
        "mode": "a/b",
        "baseline_commit": commit,
        "transport": settings.transport,
        "database": sessions[CANDIDATE].live.database.as_dict(),
        **stage_records,
        **sessions[CANDIDATE].provenance,
    }


def resilience_stage(sessions: Mapping[str, GateSession], run_id: str) -> dict[str, Any]:
    """Both live stacks through the same seeded faults at once (stackbench/gate_resilience.py);
    the stage's record, its verdict table included."""
    print(f"gate: resilience: {ROUNDS} rounds of a fault schedule on both database links at once")
    started = time.perf_counter()
    by_side = run_rounds({side: session.live for side, session in sessions.items()}, run_id)
    rows = compare_sides(by_side[BASELINE], by_side[CANDIDATE], fault_schedule(SCHEDULE_SEED))
    record = as_record(rows, by_side, SCHEDULE_SEED)
    record["table"] = format_rows(rows, ROUNDS, SCHEDULE_SEED)
    record["wall_s"] = round(time.perf_counter() - started, 1)
    print(f"gate: resilience stage took {record['wall_s']:.0f}s")
    return record


def with_resilience(record: dict[str, Any], elapsed_s: float) -> dict[str, Any]:
    """The resilience stage's table, and the gate's outcome with its rows counted in."""
    stage = record[RESILIENCE]
    print(stage["table"])
    failing = [f"resilience {row['metric']}" for row in stage["rows"] if row["status"] != "ok"]
    print(f"gate: {RESILIENCE}: {'FAIL (' + ', '.join(failing) + ')' if failing else 'PASS'}")
    latency_failing = [] if record.get("passed", True) else [f"latency {record['verdict']}"]
    passed = not (failing or latency_failing)
    outcome = "PASS" if passed else f"FAIL ({', '.join([*latency_failing, *failing])})"
    print(f"gate: {outcome} ({elapsed_s:.0f}s)")
    table = "\n\n".join(t for t in (record.get("verdict_table"), stage["table"]) if t)
    return {"passed": passed, "verdict": outcome, "verdict_table": table}


def conditions() -> dict[str, Any]:
    """What a stored baseline must match: machine, versions, and the load right now."""
    return {**provenance(), "load_per_cpu": machine_load()}


def single_side(
    args: argparse.Namespace, settings: HarnessSettings, out_dir: Path
) -> tuple[list[Trial], LoadConfig]:
    """The working tree alone (for BASE=file and `make baseline`)."""
    with gate_session(settings, out_dir / "B") as session:
        load = sized_load([session.trial("warmup", WARMUP_LOAD)], args.cycles)
        trials = []
        for n in range(1, args.trials + 1):
            started = time.perf_counter()
            trials.append(session.trial(f"trial-{n}", load))
            _progress(n, args.trials, {"this tree": trials[-1]}, time.perf_counter() - started)
    return trials, load


def _not_comparable(path: Path, reasons: Sequence[str]) -> int:
    print(f"gate: NOT COMPARABLE with {path}; no verdict:")
    for reason in reasons:
        print(f"  - {reason}")
    print("gate: run `make gate` (a baseline commit, here and now) or `make baseline` here")
    return EXIT_NOT_COMPARABLE


def report(
    comparisons: Sequence[Comparison], elapsed_s: float, paired: bool, stage: str = ""
) -> dict[str, Any]:
    """Print the verdict table and the outcome (`stage`'s, when another stage follows);
    return them for the run's record."""
    table = format_comparisons(comparisons, paired)
    print(table)
    passed = verdict(comparisons)
    failing = sorted({f"{c.endpoint} {c.metric}" for c in comparisons if c.fails})
    if not judged_latency(comparisons):
        failing.append(f"{NOTHING_JUDGED} {MIN_REQUESTS} requests per trial: longer trials?")
    outcome = "PASS" if passed else f"FAIL ({', '.join(failing)})"
    if unjudged := sorted(
        {c.endpoint for c in comparisons if c.metric in METRICS and c.status == Status.NOT_JUDGED}
    ):
        # Never silent: the gate promises every route, and these it could not judge.
        outcome += f"; not judged, under {MIN_REQUESTS} requests a trial: {', '.join(unjudged)}"
    print(f"gate: {stage}{outcome} ({elapsed_s:.0f}s)")
    return {"passed": passed, "verdict": outcome, "verdict_table": table}


def keep(out_dir: Path, record: dict[str, Any], settings: HarnessSettings) -> int:
    """The run's record and report in results/gate/<run-id>/, listed in the index."""
    write_json(out_dir / GATE_RECORD, {"run_id": out_dir.name, **record})
    print(f"gate: report {write_run_report(out_dir)}")
    write_index(settings.results_dir)
    return 0 if record["passed"] else EXIT_FAIL


def file_gate(args: argparse.Namespace, settings: HarnessSettings, out_dir: Path) -> int:
    """Against results/baseline.json, judged only when it was recorded under these
    conditions (checked before the trials, and the load again after them)."""
    path = args.baseline or settings.results_dir / "baseline.json"
    if not args.write_baseline and not path.exists():
        print(f"gate: no baseline at {path}; run `make baseline`", file=sys.stderr)
        return EXIT_ERROR
    started = time.perf_counter()
    before = conditions()  # before our own stack adds to the load
    if args.write_baseline:
        trials, load = single_side(args, settings, out_dir)
        profile = {"name": GATE_PROFILE.name}
        body = {"load": asdict(load), "profile": profile, "transport": settings.transport}
        write_json(path, {**before, **body, "trials": trials})
        print(f"gate: baseline of {len(trials)} trials written to {path}")
        return 0
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        print(f"gate: cannot read the baseline {path}: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    if not isinstance(stored, dict) or not isinstance(stored.get("load", {}), dict):
        print(f"gate: {path} is not a baseline `make baseline` wrote", file=sys.stderr)
        return EXIT_ERROR
    reasons = differences(stored, {**before, "transport": settings.transport})
    if (workload := stored.get("load", {}).get("workload")) != GATE_LOAD.workload:
        reasons.append(f"workload: baseline {workload}, now {GATE_LOAD.workload}")
    if reasons:
        return _not_comparable(path, reasons)
    trials, _ = single_side(args, settings, out_dir)
    if reasons := differences(stored, conditions()):
        return _not_comparable(path, [f"after the trials: {r}" for r in reasons])
    comparisons = compare(stored["trials"], trials, expected=ROUTES)
    result = report(comparisons, time.perf_counter() - started, False)
    compared = {
        "A (baseline)": f"{path.name}, recorded at {stored.get('git_commit', 'unknown')}",
        "B (candidate)": f"the working tree at {provenance()['git_commit']}",
    }
    trials_by_side = {BASELINE: stored["trials"], CANDIDATE: trials}
    record = {**result, "compared": compared, "trials": trials_by_side}
    return keep(out_dir, {**record, "transport": settings.transport}, settings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        try:
            return _run(args)
        except KeyboardInterrupt:
            # The stack is stopped by now; too few trials to judge or to keep as a baseline.
            print("gate: interrupted; stack stopped; nothing judged or written", file=sys.stderr)
            return INTERRUPTED_EXIT_CODE
        except Exception as error:
            # Exit 1 means FAIL: a crash must not read as a regression (nor, in
            # bench-quality, as a false alarm).
            if debugging():
                raise
            print(f"gate: error, no verdict: {one_line(error)}", file=sys.stderr)
            return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    settings = settings_for(args.transport)
    out_dir = args.out or settings.results_dir / "gate" / new_run_id()
    try:
        if args.write_baseline or args.base == FILE_BASE:
            if RESILIENCE in args.stages:
                print("gate: latency only: the resilience stage needs a baseline commit to run")
            return file_gate(args, settings, out_dir)
        started = time.perf_counter()
        record = ab_gate(args, settings, out_dir)
        if LATENCY in args.stages:
            sides = record["trials"]
            comparisons = compare(sides[BASELINE], sides[CANDIDATE], paired=True, expected=ROUTES)
            record["comparisons"] = [asdict(c) for c in comparisons]
            stage = f"{LATENCY}: " if RESILIENCE in args.stages else ""
            record |= report(comparisons, time.perf_counter() - started, True, stage)
        if RESILIENCE in args.stages:
            record |= with_resilience(record, time.perf_counter() - started)
        record["compared"] = {
            "A (baseline)": describe(record["baseline_commit"]),
            "B (candidate)": f"the working tree at {record.get('git_commit', 'unknown')}",
        }
        return keep(out_dir, record, settings)
    except (GitError, TrialError, *SETUP_ERRORS) as error:
        print(f"gate: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    run("gate", main)
