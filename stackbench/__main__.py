"""`python -m stackbench`: benchmark the app under a network profile and write results/<run-id>/.

Flags mirror the Makefile's variables (WORKLOAD, PROFILE, USERS, SPAWN_RATE, DURATION,
MODE, COMPARE, WORKERS, SHAPE, TRANSPORT).
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.app_counters import read_counters
from harness.cli import make_names, run
from harness.cpu import format_cpu_line
from harness.hdr import AGGREGATED, endpoint_summaries, service_time_summaries
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.network import PROFILES, NetworkProfile, apply_profile, round_trip_ms
from harness.settings import TRANSPORT_HELP, TRANSPORTS, HarnessSettings, new_run_id, settings_for
from harness.stack import TlsFiles
from harness.stats import LatencySummary
from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES
from reports import write_index, write_run_report
from reports.compare import (
    Side,
    advantage,
    advantage_title,
    causes,
    cpu_cause,
    format_advantage,
    headline,
)
from reports.runs import BASELINE
from stackbench.ablation import (
    BY_MODE,
    VARIANTS,
    AblationRow,
    Variant,
    format_ablation,
    not_simulated,
)
from stackbench.cli import (
    SETUP_ERRORS,
    OneLineParser,
    non_negative_int,
    non_negative_number,
    one_line,
    positive_int,
    positive_number,
)
from stackbench.provenance import provenance
from stackbench.runner import LoadConfig, bench_stack, run_locust
from stackbench.seeding import seed
from stackbench.summary import format_summary_table, generator_cpu, window_cpu, write_json

MODES = ("hardened", "naive")
SERVICE_VIEW = "service time (open-model requests again, a separate view: never summed)"
DURATION = re.compile(r"^(\d+)(s|m|h)?$")
UNIT_S = {"s": 1, "m": 60, "h": 3600}
# The flags `make bench` sets from its variables of the same names.
MAKE_VARIABLES = make_names(
    "--workload",
    "--profile",
    "--users",
    "--spawn-rate",
    "--duration",
    "--shape",
    "--mode",
    "--compare",
    "--workers",
    "--transport",
)


def duration_s(text: str) -> int:
    match = DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"duration {text!r}: use e.g. 30s, 2m, 1h")
    return int(match.group(1)) * UNIT_S[match.group(2) or "s"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="bench", description=__doc__, make_variables=MAKE_VARIABLES)
    parser.add_argument("--workload", choices=WORKLOAD_NAMES, default="mixed")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="edge")
    parser.add_argument("--shape", choices=SHAPE_NAMES, default="constant")
    parser.add_argument("--users", type=positive_int, default=20)
    parser.add_argument("--spawn-rate", type=positive_number, default=10.0)
    parser.add_argument("--duration", type=duration_s, default=30, help="30s, 2m, ...")
    parser.add_argument("--mode", choices=MODES, default="hardened")
    parser.add_argument("--compare", choices=("", *MODES), default="", help="a second app mode")
    parser.add_argument("--workers", type=non_negative_int, default=0, help="Locust workers")
    parser.add_argument("--think-ms", type=non_negative_number, default=50.0)
    parser.add_argument(
        "--arrival-rate", type=positive_number, default=50.0, help="open-readers: req/s"
    )
    parser.add_argument("--seed-posts", type=positive_int, default=1000)
    parser.add_argument("--commented-posts", type=non_negative_int, default=200)
    parser.add_argument("--transport", choices=TRANSPORTS, default=None, help=TRANSPORT_HELP)
    parser.add_argument("--no-tls", action="store_true", help="no TLS to the local server")
    parser.add_argument("--out", type=Path, default=None, help="default results/<run-id>")
    args = parser.parse_args(argv)
    if args.compare == args.mode:
        parser.error(f"--compare {args.compare} is the same as --mode")
    if args.commented_posts > args.seed_posts:
        parser.error("--commented-posts cannot exceed --seed-posts")
    return args


def load_config(args: argparse.Namespace) -> LoadConfig:
    return LoadConfig(
        workload=args.workload,
        shape=args.shape,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration_s=args.duration,
        workers=args.workers,
        think_ms=args.think_ms,
        arrival_rate=args.arrival_rate,
        seed_posts=args.seed_posts,
        commented_posts=args.commented_posts,
    )


def bench_mode(
    variant: Variant,
    config: LoadConfig,
    profile: NetworkProfile,
    out_dir: Path,
    settings: HarnessSettings,
    tls: TlsFiles | None,
) -> tuple[dict[str, LatencySummary], dict[str, Any]]:
    """One app variant on a fresh stack; returns its endpoint rows and its summary.json body."""
    mode_dir = out_dir / variant.slug
    with bench_stack(mode_dir / "logs", variant.mode, settings, tls, env=variant.env) as live:
        database = live.database
        print(f"bench: database {database.describe()}")
        ids = seed(live, config.seed_posts, config.commented_posts)
        with apply_profile(live, profile) as notes:
            for note in notes:
                print(f"bench: {note}")
            before = read_counters(live.app.url)
            run = run_locust(config, live.api_url, ids, mode_dir, live.pids())
            counters = read_counters(live.app.url) - before
    if not run.exact:
        raise RuntimeError(
            f"Locust wrote no results (exit {run.exit_code}); see {mode_dir}/locust.log"
        )
    rows = endpoint_summaries(run.exact)
    cpu = window_cpu(run.exact, run.cpu_samples, rows[AGGREGATED].requests)
    service = service_time_summaries(run.exact)
    machine = provenance()
    summary = {
        "mode": variant.mode,
        "variant": variant.name,
        "app_env": dict(variant.env),
        "app_counters": counters.as_dict(),
        "ablation": vars(AblationRow.of(variant.name, rows[AGGREGATED], counters)),
        "db_round_trip_ms": None if notes else round_trip_ms(profile),
        "endpoints": {name: row.as_dict() for name, row in rows.items()},
        "service_time": {name: row.as_dict() for name, row in service.items()},
        "settings": {**vars(config), "tls": database.tls, "transport": database.transport},
        "profile": {"name": profile.name, "description": profile.description, "notes": notes},
        "database": database.as_dict(),
        "app_workers": settings.app_workers,
        "seeded": vars(ids),
        "load_generator": generator_cpu(run.cpu_s, run.wall_s, machine["cpu_count"]),
        # Per process (app, database, toxiproxy, load generator) over Locust's measured window.
        "cpu_per_request": cpu,
        "locust_exit_code": run.exit_code,
        **machine,
    }
    write_json(mode_dir / "summary.json", summary)
    return rows, summary


def comparison(
    summaries: Mapping[str, Any], mode: str, other: str, tls: bool, ablation: Sequence = ()
) -> dict[str, Any]:
    """Which mode is better, by how much and why, oriented from the hardened side."""
    mine, theirs = (mode, other) if mode == "hardened" else (other, mode)
    endpoints = {m: summaries[m]["endpoints"] for m in (mine, theirs)}
    cpu = {m: summaries[m].get("cpu_per_request", {}) for m in (mine, theirs)}
    cpu_line = cpu_cause(mine, theirs, cpu[mine], cpu[theirs], tls)
    return {
        "mine": mine,
        "theirs": theirs,
        "headline": headline(
            Side.of(mine, endpoints[mine][AGGREGATED]),
            Side.of(theirs, endpoints[theirs][AGGREGATED]),
        ),
        "causes": [*causes(ablation, tls), *([cpu_line] if cpu_line else [])],
        "advantage": advantage(endpoints[mine], endpoints[theirs]),
    }


def format_comparison(compared: Mapping[str, Any]) -> str:
    title = advantage_title(compared["mine"], compared["theirs"])
    lines = [format_advantage(title, compared["advantage"]), "", compared["headline"]]
    lines += [
        textwrap.fill(cause, 100, initial_indent="  why: ", subsequent_indent="       ")
        for cause in compared["causes"]
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    settings = settings_for(args.transport)
    tls = None if args.no_tls else TlsFiles.for_local_server(settings)
    run_id = new_run_id()
    out_dir = args.out or settings.results_dir / run_id
    config, profile = load_config(args), PROFILES[args.profile]
    # COMPARE runs the whole ablation, so a ratio's sources are on the page beside it.
    variants = list(VARIANTS) if args.compare else [BY_MODE[args.mode]]
    results: dict[str, dict[str, LatencySummary]] = {}
    summaries: dict[str, Any] = {}
    try:
        for variant in variants:
            mode = variant.slug
            print(
                f"bench: {variant.name} app, {args.workload} workload, {profile.name} profile,"
                f" {args.duration}s, database over {settings.transport}"
            )
            try:
                results[mode], summaries[mode] = bench_mode(
                    variant, config, profile, out_dir, settings, tls
                )
            except SETUP_ERRORS as error:
                logs = out_dir / mode / "logs"
                print(f"bench: {one_line(error)} (logs in {logs})", file=sys.stderr)
                return 1
            load = summaries[mode]["load_generator"]
            print(format_summary_table(f"{variant.name} ({profile.name})", results[mode]))
            if service := summaries[mode]["service_time"]:
                rows = {name: LatencySummary.from_dict(row) for name, row in service.items()}
                print(format_summary_table(SERVICE_VIEW, rows))
            share = 100 * load["machine_share"]
            print(f"load generator: {load['cores']:.2f} cores busy ({share:.0f}% of the machine)")
            cpu = summaries[mode]["cpu_per_request"]
            if cpu:
                requests = results[mode][AGGREGATED].requests
                print(format_cpu_line(cpu, requests))
            print()
    except KeyboardInterrupt:
        # Everything is stopped by now; keep what the finished modes measured.
        write_json(
            out_dir / "summary.json", {"run_id": run_id, "modes": summaries, "interrupted": True}
        )
        print(f"bench: interrupted; stack stopped; finished modes in {out_dir}", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    combined: dict[str, Any] = {"run_id": run_id, "modes": summaries}
    rows = [AblationRow(**s["ablation"]) for s in summaries.values()]
    rtt_ms = next(iter(summaries.values()))["db_round_trip_ms"]
    combined["ablation"] = [vars(r) for r in rows]
    combined["not_simulated"] = not_simulated(rows, rtt_ms)
    if args.compare:
        print(format_ablation(f"ablation ({profile.name})", rows))
    print(combined["not_simulated"] + "\n")
    if args.compare:
        combined["comparison"] = comparison(
            summaries, args.mode, args.compare, tls is not None, combined["ablation"]
        )
        print(format_comparison(combined["comparison"]))
    write_json(out_dir / "summary.json", combined)
    report = write_run_report(out_dir, settings.results_dir / BASELINE)
    write_index(settings.results_dir)
    print(f"\nwritten to {out_dir}; report {report}")
    return 0


if __name__ == "__main__":
    run("bench", main)
