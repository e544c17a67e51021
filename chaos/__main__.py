"""`python -m chaos`: run the fault matrix against a fresh stack and write its verdicts."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from chaos.report import markdown_table, write_run
from chaos.runner import AppMode, ChaosConfig, ScenarioResult, run_scenario
from chaos.scenarios import select
from chaos.scenarios.base import Scenario
from harness.lifecycle import INTERRUPTED_EXIT_CODE, stop_on_signals
from harness.settings import HarnessSettings, new_run_id
from harness.stack import DatabaseInfo, stack
from reports import write_index, write_run_report

MODES: dict[str, tuple[AppMode, ...]] = {
    "hardened": ("hardened",),
    "naive": ("naive",),
    "both": ("hardened", "naive"),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--scenarios", default="all", help="comma list, a+b combines; or all")
    parser.add_argument("--mode", choices=sorted(MODES), default="both")
    parser.add_argument("--fault-s", type=float, default=3.0, help="shortest fault window")
    parser.add_argument("--observe-s", type=float, default=3.0, help="after the fault")
    parser.add_argument("--warmup-s", type=float, default=1.0)
    parser.add_argument("--deadline-ms", type=int, default=1000, help="the app's request deadline")
    parser.add_argument("--out", type=Path, default=None, help="default results/chaos/<run-id>")
    return parser.parse_args(argv)


async def run_mode(
    scenarios: list[Scenario],
    config: ChaosConfig,
    out_dir: Path,
    run_id: str,
    databases: list[DatabaseInfo] | None = None,
    results: list[ScenarioResult] | None = None,
) -> list[ScenarioResult]:
    """One fresh stack (and database) per app mode; every scenario runs against it.

    The database server it ran on is appended to `databases`, for the run's summary. Each
    result is appended to `results` as soon as it is known, so an interrupted run still
    has the scenarios it finished.
    """
    results = [] if results is None else results
    log_dir = out_dir / "logs" / config.mode
    with tempfile.TemporaryDirectory(prefix="chaos-db-") as db_dir:
        db = Path(db_dir) / "chaos.db"
        with stack(log_dir, db=db, app_env=config.app_env()) as live:
            print(f"chaos: {config.mode} app, database {live.database.describe()}")
            if databases is not None:
                databases.append(live.database)
            for scenario in scenarios:
                result = await run_scenario(live, scenario, config, run_id)
                print(f"{config.mode:>8} {scenario.name:<28} {'pass' if result.passed else 'FAIL'}")
                results.append(result)
            return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with stop_on_signals():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        scenarios = select(args.scenarios)
    except ValueError as error:
        print(f"chaos: {error}", file=sys.stderr)
        return 2
    settings = HarnessSettings()
    unreachable = [
        s.name for s in scenarios if settings.turso_database_url and s.faults_link("turso")
    ]
    if unreachable:
        print(
            f"chaos: {', '.join(unreachable)} fault the app -> database link, which the harness"
            " cannot proxy for an external database (TURSO_DATABASE_URL); pick api-link"
            " scenarios such as baseline or api_latency",
            file=sys.stderr,
        )
        return 2
    run_id = new_run_id()
    out_dir = args.out or settings.results_dir / "chaos" / run_id
    results: list[ScenarioResult] = []
    databases: list[DatabaseInfo] = []
    interrupted = False
    try:
        for mode in MODES[args.mode]:
            config = ChaosConfig(
                mode=mode,
                deadline_ms=args.deadline_ms,
                warmup_s=args.warmup_s,
                fault_s=args.fault_s,
                observe_s=args.observe_s,
            )
            asyncio.run(run_mode(scenarios, config, out_dir, run_id, databases, results))
    except KeyboardInterrupt:
        interrupted = True  # the stack is stopped by now; report what finished
        print("chaos: interrupted; stack stopped", file=sys.stderr)
    run_settings = {**vars(args), "out": str(out_dir), "run_id": run_id, "interrupted": interrupted}
    if databases:
        run_settings["database"] = databases[0].as_dict()
    write_run(out_dir, results, run_settings)
    print(markdown_table(results))
    print(f"\nwritten to {out_dir}; report {write_run_report(out_dir)}")
    write_index(settings.results_dir)
    if interrupted:
        return INTERRUPTED_EXIT_CODE
    hardened_failed = any(r.mode == "hardened" and not r.passed for r in results)
    return 1 if hardened_failed else 0


if __name__ == "__main__":
    sys.exit(main())
