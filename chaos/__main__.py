"""`python -m chaos`: run the fault matrix against a fresh stack and write its verdicts."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import textwrap
from operator import attrgetter
from pathlib import Path

from chaos.report import write_run
from chaos.runner import AppMode, ChaosConfig, ScenarioResult, run_scenario
from chaos.scenarios import select
from chaos.scenarios.base import Scenario
from harness.cli import OneLineParser, make_names, run
from harness.database import url_transport
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.settings import TRANSPORT_HELP, TRANSPORTS, HarnessSettings, new_run_id, settings_for
from harness.stack import DatabaseInfo, Transport, stack
from reports import write_index, write_run_report
from reports.chaos_verdicts import LEGEND, closing_lines, compact_table

MODES: dict[str, tuple[AppMode, ...]] = {
    "hardened": ("hardened",),
    "naive": ("naive",),
    "both": ("hardened", "naive"),
}
BOTH_TRANSPORTS = "both"


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(
        prog="chaos",
        description=__doc__,
        make_variables=make_names("--scenarios", "--mode", "--transport"),
    )
    parser.add_argument("--scenarios", default="all", help="comma list, a+b combines; or all")
    parser.add_argument("--mode", choices=sorted(MODES), default="both")
    parser.add_argument(
        "--transport",
        choices=(*TRANSPORTS, BOTH_TRANSPORTS),
        default=None,
        help=f"{TRANSPORT_HELP}; {BOTH_TRANSPORTS}: each on its own stacks",
    )
    parser.add_argument(
        "--fault-s", type=float, default=ChaosConfig.fault_s, help="shortest fault window"
    )
    parser.add_argument(
        "--observe-s",
        type=float,
        default=3.0,
        help="after the fault; at least what judging recovery within its bound needs",
    )
    parser.add_argument("--warmup-s", type=float, default=1.0)
    parser.add_argument("--deadline-ms", type=int, default=1000, help="the app's request deadline")
    parser.add_argument("--out", type=Path, default=None, help="default results/chaos/<run-id>")
    parser.add_argument(
        "--app-workers",
        type=_positive,
        default=None,
        help="uvicorn workers (default: APP_WORKERS or 1)",
    )
    return parser.parse_args(argv)


def stack_groups(scenarios: list[Scenario]) -> list[list[Scenario]]:
    """The scenarios that share a stack (same server flags, same cache, same token checks),
    each group where its first scenario was asked for, in the order asked. Not only runs of
    neighbours: a stack costs seconds to start and stop, and `all` lists several default-stack
    scenarios between ones with their own flags."""
    key = attrgetter("server_args", "sqld_args", "needs_shared_cache", "checks_tokens")
    groups: dict[tuple[object, ...], list[Scenario]] = {}
    for scenario in scenarios:
        groups.setdefault(key(scenario), []).append(scenario)
    return list(groups.values())


async def run_mode(
    scenarios: list[Scenario],
    config: ChaosConfig,
    out_dir: Path,
    run_id: str,
    databases: list[DatabaseInfo] | None = None,
    results: list[ScenarioResult] | None = None,
    *,
    settings: HarnessSettings | None = None,
) -> list[ScenarioResult]:
    """A fresh stack per app mode (and per stack group); every scenario runs against it.

    The database server it ran on is appended to `databases`, for the run's summary. Each
    result is appended to `results` as soon as it is known, so an interrupted run still
    has the scenarios it finished.
    """
    settings = settings or HarnessSettings()
    results = [] if results is None else results
    log_dir = out_dir / "logs" / settings.transport / config.mode
    with tempfile.TemporaryDirectory(prefix="chaos-db-") as db_dir:
        db = Path(db_dir) / "chaos.db"
        for group in stack_groups(scenarios):
            first = group[0]
            with stack(
                log_dir,
                db=db,
                app_env=config.app_env(),
                settings=settings,
                shared_cache=settings.app_workers > 1 or first.needs_shared_cache,
                server_args=first.server_args,
                sqld_args=first.sqld_args or (),
                app_factory=config.app_factory,
                check_tokens=first.checks_tokens,
            ) as live:
                print(f"chaos: {config.mode} app, database {live.database.describe()}", flush=True)
                if databases is not None:
                    databases.append(live.database)
                for scenario in group:
                    result = await run_scenario(live, scenario, config, run_id)
                    verdict = "pass" if result.passed else "FAIL"
                    if result.passed != (result.expected == "pass"):
                        unexpected = (
                            "not as expected" if config.mode == "hardened" else "unexpected"
                        )
                        verdict += f" ({unexpected})"
                    elif config.mode != "hardened":
                        verdict += " (expected)"
                    mode = f"{config.mode} {settings.transport}"
                    print(f"{mode:>11} {scenario.name:<28} {verdict}", flush=True)
                    results.append(result)
    return results


def _without_redis(
    scenarios: list[Scenario], settings: HarnessSettings, *, explicit: bool
) -> tuple[list[Scenario], str | None]:
    """With no redis-server: `all` drops the shared-cache scenarios, saying so; asking for
    one, or for several app workers (whose shared cache it is), is refused."""
    missing = f"no redis-server at {settings.redis_server} (`make setup` as root installs it)"
    if settings.app_workers > 1:
        return scenarios, f"{settings.app_workers} app workers need their shared cache: {missing}"
    needing = [s.name for s in scenarios if s.needs_shared_cache]
    if needing and explicit:
        return scenarios, f"{', '.join(needing)} fault the shared cache: {missing}"
    if needing:
        print(f"chaos: skipping {', '.join(needing)}: {missing}", file=sys.stderr)
    return [s for s in scenarios if not s.needs_shared_cache], None


def _without_local_only(
    scenarios: list[Scenario], *, explicit: bool
) -> tuple[list[Scenario], str | None]:
    """On sqld: `all` drops the scenarios that set the local server's own flags, saying so;
    asking for one is refused."""
    local_only = [s.name for s in scenarios if not s.runs_on_sqld]
    reason = "set the local server's own flags and have no sqld equivalent"
    if local_only and explicit:
        return scenarios, f"{', '.join(local_only)} {reason} (unset SQLD_BIN)"
    if local_only:
        print(f"chaos: skipping {', '.join(local_only)} on sqld: they {reason}", file=sys.stderr)
    return [s for s in scenarios if s.runs_on_sqld], None


def _without_ws_only(scenarios: list[Scenario], transport: Transport) -> list[Scenario]:
    """Over http, the scenarios that fault the one long-lived WebSocket are skipped, saying so."""
    ws_only = [s.name for s in scenarios if s.ws_only]
    if transport == "ws" or not ws_only:
        return scenarios
    print(
        f"chaos: skipping {', '.join(ws_only)} over http: they fault the one long-lived"
        " WebSocket a libsql:// URL opens, which http does not have (TRANSPORT=ws runs them)",
        file=sys.stderr,
    )
    return [s for s in scenarios if not s.ws_only]


def for_mode(scenarios: list[Scenario], mode: AppMode, *, explicit: bool) -> list[Scenario]:
    """What `mode` runs: the hardened app every scenario; the naive app, for `all`, the
    faults it is expected to fail and the fault-free baseline. A fault it is expected to
    survive judges neither app, and skipping those keeps both transports within budget."""
    if mode == "hardened" or explicit:
        return scenarios
    # A server flag is a fault too (stream expiry, a socket closed after a while).
    return [
        s for s in scenarios if not (s.expect.naive_passes and (s.injects_faults or s.server_args))
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        return _run(args)


def transports_asked(flag: str | None) -> tuple[HarnessSettings, tuple[Transport, ...]]:
    """The settings and the transports to run: `--transport` (ws, http or both) over the
    environment's TRANSPORT, which is read when no flag is given."""
    both = flag == BOTH_TRANSPORTS
    settings = settings_for(TRANSPORTS[0] if both else flag)
    return settings, (TRANSPORTS if both else (settings.transport,))


def _run(args: argparse.Namespace) -> int:
    try:
        scenarios = select(args.scenarios)
    except ValueError as error:
        print(f"chaos: SCENARIOS (--scenarios): {error}", file=sys.stderr)
        return 2
    settings, transports = transports_asked(args.transport)
    if args.app_workers is not None:
        settings = settings.model_copy(update={"app_workers": args.app_workers})
    explicit = args.scenarios != "all"
    refusal = None
    if not settings.redis_server.exists():
        scenarios, refusal = _without_redis(scenarios, settings, explicit=explicit)
    if settings.sqld_bin and not refusal:
        scenarios, refusal = _without_local_only(scenarios, explicit=explicit)
    if refusal:
        print(f"chaos: {refusal}", file=sys.stderr)
        return 2
    unreachable = [
        s.name
        for s in scenarios
        if settings.turso_database_url
        and (s.faults_link("turso") or s.server_args or s.lock_holder)
    ]
    if unreachable:
        print(
            f"chaos: {', '.join(unreachable)} fault the app -> database link or the"
            " server's own settings, which the harness cannot reach for an external"
            " database (TURSO_DATABASE_URL); pick api-link scenarios such as baseline",
            file=sys.stderr,
        )
        return 2
    run_id = new_run_id()
    out_dir = args.out or settings.results_dir / "chaos" / run_id
    results: list[ScenarioResult] = []
    databases: list[DatabaseInfo] = []
    interrupted = False
    if settings.turso_database_url:
        # The URL's scheme decides how the app reaches it, not TRANSPORT.
        transports = (url_transport(settings.turso_database_url),)
    ws_only = [s.name for s in scenarios if s.ws_only]
    if explicit and ws_only and "ws" not in transports:
        print(
            f"chaos: {', '.join(ws_only)} fault the one long-lived WebSocket a libsql:// URL"
            " opens, which http does not have; run them with TRANSPORT=ws or both",
            file=sys.stderr,
        )
        return 2
    per_transport = {t: _without_ws_only(scenarios, t) for t in transports}
    survived = [
        s.name for s in scenarios if s not in for_mode(scenarios, "naive", explicit=explicit)
    ]
    if survived and "naive" in MODES[args.mode]:
        print(
            f"chaos: the naive app skips {', '.join(survived)}: faults it is expected to"
            " survive (name them in SCENARIOS to run them)",
            file=sys.stderr,
        )
    try:
        for transport, mode in itertools.product(transports, MODES[args.mode]):
            config = ChaosConfig(
                mode=mode,
                deadline_ms=args.deadline_ms,
                warmup_s=args.warmup_s,
                fault_s=args.fault_s,
                observe_s=args.observe_s,
            )
            on = settings.model_copy(update={"transport": transport})
            asyncio.run(
                run_mode(
                    for_mode(per_transport[transport], mode, explicit=explicit),
                    config,
                    out_dir,
                    run_id,
                    databases,
                    results,
                    settings=on,
                )
            )
    except KeyboardInterrupt:
        interrupted = True  # the stack is stopped by now; report what finished
        print("chaos: interrupted; stack stopped", file=sys.stderr)
    run_settings = {
        **vars(args),
        "out": str(out_dir),
        "run_id": run_id,
        "app_workers": settings.app_workers,
        "transport": transports[0] if len(transports) == 1 else BOTH_TRANSPORTS,
        "interrupted": interrupted,
    }
    if databases:
        run_settings["database"] = databases[0].as_dict()
    write_run(out_dir, results, run_settings)
    scenarios = [r.as_dict() for r in results]
    print(f"\n{compact_table(scenarios)}\n")
    print("\n".join(textwrap.fill(line, 96, subsequent_indent="    ") for line in LEGEND))
    print("\n" + "\n".join(closing_lines(scenarios)))
    print(
        f"\nwritten to {out_dir} (every invariant: summary.md); report {write_run_report(out_dir)}"
    )
    write_index(settings.results_dir)
    if interrupted:
        return INTERRUPTED_EXIT_CODE
    hardened_failed = any(r.mode == "hardened" and not r.passed for r in results)
    return 1 if hardened_failed else 0


if __name__ == "__main__":
    run("chaos", main)
