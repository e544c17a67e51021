"""`python -m reports RUN_DIR...`: (re)write each run's report.html and results/index.html."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.cli import OneLineParser, run
from harness.settings import HarnessSettings
from reports.runs import BASELINE, write_index, write_run_report


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="reports", description=__doc__)
    parser.add_argument("run_dirs", nargs="*", type=Path, help="default: none, only the index")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    results_dir = HarnessSettings().results_dir
    for run_dir in args.run_dirs:
        print(write_run_report(run_dir, results_dir / BASELINE))
    print(write_index(results_dir))
    return 0


if __name__ == "__main__":
    run("reports", main)
