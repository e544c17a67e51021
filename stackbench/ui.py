"""`make locust-ui`: the stack as `make bench` starts it, with Locust's web UI and the chaos panel.

Starts a fresh stack for one app mode, seeds it, then runs Locust's web UI on
127.0.0.1:8089 (workload and shape are in its start form; the chaos panel is at /chaos)
until Locust exits or Ctrl-C; then stops the stack and writes results/<run-id>/report.html.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TextIO

from harness.cli import (
    OneLineParser,
    UserError,
    cannot_listen,
    first_line,
    make_names,
    non_negative_int,
    port_number,
    positive_int,
    positive_number,
    run,
)
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.network import PROFILES
from harness.processes import watched
from harness.settings import (
    PROJECT_ROOT,
    TRANSPORT_HELP,
    TRANSPORTS,
    HarnessSettings,
    new_run_id,
    settings_for,
)
from harness.stack import LOOPBACK, TlsFiles
from loadtests.catalog import SHAPE_NAMES, WORKLOAD_NAMES
from reports import write_index, write_run_report
from reports.runs import BASELINE
from stackbench.__main__ import MODES, duration_s
from stackbench.cli import SETUP_ERRORS
from stackbench.runner import LoadConfig, bench_stack, locust_common_argv
from stackbench.seeding import seed
from stackbench.summary import write_json

FAULT_LOG = "faults.jsonl"
EXACT = "exact.json"
LOCUST_STOP_S = 20.0  # Locust writes its CSVs and exact.json while quitting


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="locust-ui",
        description=__doc__,
        make_variables=make_names(
            "--workload",
            "--shape",
            "--profile",
            "--users",
            "--spawn-rate",
            "--mode",
            "--web-port",
            "--workers",
            "--transport",
        ),
    )
    parser.add_argument("--workload", choices=WORKLOAD_NAMES, default="mixed")
    parser.add_argument("--shape", choices=SHAPE_NAMES, default="constant")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="edge")
    parser.add_argument("--users", type=positive_int, default=20)
    parser.add_argument("--spawn-rate", type=positive_number, default=10.0)
    parser.add_argument("--run-time", type=duration_s, default=None, help="prefills the form")
    parser.add_argument("--mode", choices=MODES, default="hardened")
    parser.add_argument("--workers", type=non_negative_int, default=0, help="Locust workers")
    parser.add_argument("--web-port", type=port_number, default=8089)
    parser.add_argument("--seed-posts", type=positive_int, default=1000)
    parser.add_argument("--transport", choices=TRANSPORTS, default=None, help=TRANSPORT_HELP)
    parser.add_argument("--no-tls", action="store_true", help="no TLS to the local server")
    parser.add_argument("--out", type=Path, default=None, help="default results/<run-id>")
    args = parser.parse_args(argv)
    # Checked before the stack starts: Locust finds out only once it is up, in a traceback.
    if reason := cannot_listen(LOOPBACK, args.web_port):
        parser.error(f"--web-port: cannot listen on {LOOPBACK}:{args.web_port} ({reason})")
    return args


def check_web_port_still_free(port: int) -> None:
    """Checked again once the stack is up: the port may have been taken while it started,
    and Locust would say so only in a traceback."""
    if reason := cannot_listen(LOOPBACK, port):
        raise UserError(
            f"WEB_PORT (--web-port): cannot listen on {LOOPBACK}:{port} ({reason});"
            " it was taken while the stack started"
        )


def ui_argv(
    args: argparse.Namespace, base: list[str], toxiproxy_url: str, run_dir: Path
) -> list[str]:
    argv = [*base, "--web-host", LOOPBACK, "--web-port", str(args.web_port)]
    argv += ["--toxiproxy-url", toxiproxy_url, "--fault-log", str(run_dir / FAULT_LOG)]
    argv += ["--network-profile", args.profile]
    if args.run_time:
        argv += ["--run-time", f"{args.run_time}s"]
    return argv


class Terminal:
    """Our output: stdout while it lasts, then the terminal itself.

    With `make locust-ui 2>&1 | tee log`, Ctrl-C ends `tee` at once; what we print after
    that (Locust's last lines, the report's path) goes to /dev/tty instead of being lost.
    """

    def __init__(self) -> None:
        self._out: TextIO | None = sys.stdout

    def say(self, line: str) -> None:
        for out in (self._out, self._tty()):
            if out is None:
                continue
            try:
                out.write(line if line.endswith("\n") else line + "\n")
                out.flush()
                return
            except (BrokenPipeError, OSError):
                self._out = None  # the pipe is gone: never write to it again

    def _tty(self) -> TextIO | None:
        if self._out is not None:
            return None
        try:
            return open("/dev/tty", "w")
        except OSError:
            return None


def _relay(lines: IO[bytes], terminal: Terminal) -> None:
    for line in lines:
        terminal.say(line.decode(errors="replace"))


def run_ui(argv: list[str], terminal: Terminal) -> int:
    """Locust in the foreground until it exits; Ctrl-C is passed on and waited for.

    Locust's output goes through us, so a pipe that dies on Ctrl-C (`| tee`) never makes
    Locust stall on a write while it is quitting.
    """
    # Its own session: a terminal's Ctrl-C reaches only us, and Locust gets exactly one SIGINT.
    # No stdin: Locust's keyboard shortcuts (and its "press enter" browser) stay off.
    locust = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # Watched: its whole group goes with it, and if we die first the watchdog kills it. A
    # signal to us reaches it first, as one SIGTERM to the master alone (to the group it
    # would kill its workers before they report their last stats); the stack stops after.
    # SIGTERM, not SIGINT: with the web UI Locust handles SIGTERM in a greenlet of its own,
    # while a SIGINT's KeyboardInterrupt lands in whichever greenlet runs, and 1 stop in 4
    # it was lost there, leaving the master waiting until its SIGKILL, with no results.
    with watched(locust, grace_s=LOCUST_STOP_S, stop=signal.SIGTERM):
        assert locust.stdout is not None
        relay = threading.Thread(target=_relay, args=(locust.stdout, terminal), daemon=True)
        relay.start()
        try:
            code = locust.wait()
        except KeyboardInterrupt:
            # Locust exits 0 on SIGINT; a run stopped by a signal still says so to the caller.
            code = INTERRUPTED_EXIT_CODE
    relay.join(timeout=LOCUST_STOP_S)
    return code


def a_test_was_started(run_dir: Path) -> bool:
    """Whether anyone pressed Start: the recorder notes the test's start in exact.json."""
    exact = run_dir / EXACT
    return exact.exists() and bool(json.loads(exact.read_text()).get("test_started"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    settings = settings_for(args.transport)
    tls = None if args.no_tls else TlsFiles.for_local_server(settings)
    terminal = Terminal()
    run_id = new_run_id()
    out_dir = args.out or settings.results_dir / run_id
    run_dir = out_dir / args.mode
    config = LoadConfig(
        workload=args.workload,
        shape=args.shape,
        users=args.users,
        spawn_rate=args.spawn_rate,
        workers=args.workers,
        seed_posts=args.seed_posts,
        commented_posts=min(LoadConfig.commented_posts, args.seed_posts),
    )
    report: Future[Path | None] | None = None
    with ThreadPoolExecutor(max_workers=1) as background:
        try:
            with bench_stack(run_dir / "logs", args.mode, settings, tls) as live:
                terminal.say(f"locust-ui: database {live.database.describe()}")
                mode_summary = {
                    "mode": args.mode,
                    "profile": {"name": args.profile},
                    "database": live.database.as_dict(),
                }
                ids = seed(live, config.seed_posts, config.commented_posts)
                base = locust_common_argv(config, live.api_url, ids, run_dir)
                check_web_port_still_free(args.web_port)
                terminal.say(
                    f"locust-ui: http://{LOOPBACK}:{args.web_port} (chaos panel at /chaos)"
                )
                terminal.say(f"locust-ui: toxiproxy API {live.toxiproxy.api_url}")
                argv = ui_argv(args, base, live.toxiproxy.api_url, run_dir)
                exit_code = run_ui(argv, terminal)
                # Locust has written all it will: draw the report while the stack stops.
                summary = {
                    "run_id": run_id,
                    "source": "locust-ui",
                    "modes": {args.mode: mode_summary},
                }
                report = background.submit(write_report, out_dir, run_dir, summary, settings)
        except KeyboardInterrupt:
            return INTERRUPTED_EXIT_CODE  # stopped before Locust started: nothing to report
        except SETUP_ERRORS as error:
            print(f"locust-ui: {first_line(error)} (logs in {run_dir / 'logs'})", file=sys.stderr)
            return 1
    written = report.result() if report else None
    if written is None:
        terminal.say("locust-ui: no test was started, so no report was written")
    else:
        terminal.say(f"locust-ui: report {written}")
    return exit_code


def write_report(
    out_dir: Path, run_dir: Path, summary: dict[str, Any], settings: HarnessSettings
) -> Path | None:
    """summary.json, report.html and the index, unless no test was ever started."""
    if not a_test_was_started(run_dir):
        return None
    write_json(out_dir / "summary.json", summary)
    report = write_run_report(out_dir, settings.results_dir / BASELINE)
    write_index(settings.results_dir)
    return report


if __name__ == "__main__":
    # Ctrl-C should give the prompt back within seconds: no slow teardown after the report.
    run("locust-ui", main, fast_exit=True)
