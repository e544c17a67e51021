"""`make locust-ui`: the stack as `make bench` starts it, with Locust's web UI and the chaos panel.

Starts a fresh stack for one app mode, seeds it, then runs Locust's web UI on
127.0.0.1:8089 (workload and shape are in its start form; the chaos panel is at /chaos)
until Locust exits or Ctrl-C; then stops the stack and writes results/<run-id>/report.html.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

from bench.__main__ import MODES, duration_s
from bench.cli import SETUP_ERRORS, OneLineParser, one_line, positive_int
from bench.profiles import PROFILES
from bench.runner import LoadConfig, bench_stack, locust_common_argv
from bench.seeding import seed
from bench.summary import write_json
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.processes import watched
from harness.settings import PROJECT_ROOT, HarnessSettings, new_run_id
from harness.stack import LOOPBACK, TlsFiles
from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES
from reports import write_index, write_run_report
from reports.runs import BASELINE

FAULT_LOG = "faults.jsonl"
LOCUST_STOP_S = 1.5  # Locust writes its CSVs and exact.json while quitting


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="python -m bench.ui", description=__doc__)
    parser.add_argument("--workload", choices=WORKLOAD_NAMES, default="mixed")
    parser.add_argument("--shape", choices=SHAPE_NAMES, default="constant")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="edge")
    parser.add_argument("--users", type=positive_int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--run-time", type=duration_s, default=None, help="prefills the form")
    parser.add_argument("--mode", choices=MODES, default="hardened")
    parser.add_argument("--web-port", type=positive_int, default=8089)
    parser.add_argument("--seed-posts", type=positive_int, default=1000)
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP to the local server")
    parser.add_argument("--out", type=Path, default=None, help="default results/<run-id>")
    return parser.parse_args(argv)


def ui_argv(
    args: argparse.Namespace, base: list[str], toxiproxy_url: str, run_dir: Path
) -> list[str]:
    argv = [*base, "--web-host", LOOPBACK, "--web-port", str(args.web_port)]
    argv += ["--toxiproxy-url", toxiproxy_url, "--fault-log", str(run_dir / FAULT_LOG)]
    argv += ["--network-profile", args.profile]
    if args.run_time:
        argv += ["--run-time", f"{args.run_time}s"]
    return argv


def run_ui(argv: list[str]) -> int:
    """Locust in the foreground until it exits; on an interrupt it gets SIGTERM and a grace."""
    # Its own group: it is stopped with its workers as a whole, and never outlives us.
    locust = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        start_new_session=True,
    )
    with watched(locust, grace_s=LOCUST_STOP_S):
        return locust.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    settings = HarnessSettings()
    try:
        tls = None if args.no_tls else TlsFiles.for_local_server(settings)
    except FileNotFoundError as error:
        print(f"locust-ui: {error}", file=sys.stderr)
        return 2
    run_id = new_run_id()
    out_dir = args.out or settings.results_dir / run_id
    run_dir = out_dir / args.mode
    config = LoadConfig(
        workload=args.workload,
        shape=args.shape,
        users=args.users,
        spawn_rate=args.spawn_rate,
        seed_posts=args.seed_posts,
        commented_posts=min(LoadConfig.commented_posts, args.seed_posts),
    )
    exit_code = INTERRUPTED_EXIT_CODE
    try:
        with bench_stack(run_dir / "logs", args.mode, settings, tls) as live:
            print(f"locust-ui: database {live.database.describe()}")
            mode_summary = {
                "mode": args.mode,
                "profile": {"name": args.profile},
                "database": live.database.as_dict(),
            }
            write_json(
                out_dir / "summary.json",
                {"run_id": run_id, "source": "locust-ui", "modes": {args.mode: mode_summary}},
            )
            ids = seed(live, config.seed_posts, config.commented_posts)
            base = locust_common_argv(config, live.api_url, ids, run_dir)
            print(f"locust-ui: http://{LOOPBACK}:{args.web_port} (chaos panel at /chaos)")
            print(f"locust-ui: toxiproxy API {live.toxiproxy.api_url}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a UI session ends
                exit_code = run_ui(ui_argv(args, base, live.toxiproxy.api_url, run_dir))
    except KeyboardInterrupt:
        print("locust-ui: interrupted before Locust started; stack stopped", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    except SETUP_ERRORS as error:
        print(f"locust-ui: {one_line(error)} (logs in {run_dir / 'logs'})", file=sys.stderr)
        return 1
    print(f"locust-ui: report {write_run_report(out_dir, settings.results_dir / BASELINE)}")
    write_index(settings.results_dir)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
