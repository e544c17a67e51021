"""Code changes that break one resilience guarantee each, as throwaway commits for the
gate's resilience stage; run as a script, every case several times, to measure k/n.

    .venv/bin/python -m tests.stackbench.resilience_candidates [RUNS] [CASE ...]

prints each run's resilience rows and, per case, how often each row failed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.settings import HarnessSettings, new_run_id
from tests.stackbench.throwaway import Change, Throwaway, replace_in, throwaway


def no_retries(root: Path) -> None:
    """The pipeline runs each database call once: a transient fault is the answer."""
    pairs = [("retry=retry if settings.retry_enabled else None,", "retry=None,")]
    replace_in(root, "reference_app/wiring.py", pairs)


def no_idempotency_key(root: Path) -> None:
    """The routes ignore the Idempotency-Key header: every request gets a fresh key."""
    pairs = [
        (
            "CreatePost(body.draft(), idempotency_key or new_idempotency_key())",
            "CreatePost(body.draft(), new_idempotency_key())",
        ),
        ("key = idempotency_key or new_idempotency_key()", "key = new_idempotency_key()"),
    ]
    replace_in(root, "reference_app/api/routes.py", pairs)


def no_deadline(root: Path) -> None:
    """The request deadline's middleware is gone; each database attempt still times out."""
    pairs = [
        (
            "    if not settings.naive and settings.timeouts_enabled:\n"
            "        app.add_middleware(\n            DeadlineMiddleware,",
            "    if False:\n        app.add_middleware(\n            DeadlineMiddleware,",
        )
    ]
    replace_in(root, "reference_app/main.py", pairs)


def no_timeouts(root: Path) -> None:
    """No request deadline and no attempt timeout: a call waits as long as the database."""
    no_deadline(root)
    pairs = [
        (
            "attempt_timeout_s=attempt_timeout_s if settings.timeouts_enabled else None,",
            "attempt_timeout_s=None,",
        )
    ]
    replace_in(root, "reference_app/wiring.py", pairs)


def unchanged(root: Path) -> None:
    """A commit that changes no code (a comment in the README)."""
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- an unchanged candidate -->\n")


@dataclass(frozen=True)
class Case:
    """A change, which side runs it, and the rows the stage must fail (none: it passes)."""

    change: Change
    swapped: bool = False  # the broken commit is the baseline, the candidate is this code
    failing: frozenset[str] = frozenset()


CASES: dict[str, Case] = {
    "unchanged": Case(unchanged),
    "no_retries": Case(no_retries, failing=frozenset({"err%"})),
    "no_idempotency_key": Case(no_idempotency_key, failing=frozenset({"dup writes"})),
    "no_deadline": Case(no_deadline),  # see docs/measurements/gate.md: not visible
    "no_timeouts": Case(no_timeouts, failing=frozenset({"late%"})),
    "no_retries_swapped": Case(no_retries, swapped=True),
    "no_idempotency_key_swapped": Case(no_idempotency_key, swapped=True),
    "no_timeouts_swapped": Case(no_timeouts, swapped=True),
}


def prepared(case: Case, root: Path) -> tuple[Throwaway, str]:
    """The repository with the case's commits and the commit its gate runs against."""
    repo = throwaway(root, case.change, f"candidate: {case.change.__name__}")
    if case.swapped:
        repo.checkout(repo.base)
        return repo, repo.candidate
    return repo, repo.base


def stage_record(out: Path) -> dict[str, Any]:
    """The run's resilience record; empty when the gate wrote none."""
    record = out / "gate.json"
    return json.loads(record.read_text())["resilience"] if record.exists() else {}


def failing_rows(stage: dict[str, Any]) -> frozenset[str]:
    if not stage:
        return frozenset({"no record"})
    return frozenset(row["metric"] for row in stage["rows"] if row["status"] != "ok")


def _say(text: str) -> None:
    print(text, flush=True)


def measure(
    name: str, runs: int, work: Path, kept: Path, say: Callable[[str], None] = _say
) -> tuple[Counter[str], int]:
    """`runs` gates of one case on one throwaway repository (each run's record kept under
    `kept`); how often each row failed, and in how many runs the rows were not the case's."""
    case = CASES[name]
    repo, base = prepared(case, work / name / "repo")
    failed: Counter[str] = Counter()
    unexpected = 0
    for n in range(1, runs + 1):
        out = kept / name / f"run-{n}"
        started = time.perf_counter()
        result = repo.gate(base, out, "--stages", "resilience")
        took_s = time.perf_counter() - started
        table = [line for line in result.stdout.splitlines() if line.startswith("resilience ")]
        stage = stage_record(out)
        rows = failing_rows(stage)
        failed.update(rows)
        unexpected += rows != case.failing
        expected = "as expected" if rows == case.failing else f"EXPECTED {sorted(case.failing)}"
        say(f"{name} run {n}: exit {result.returncode}, failing {sorted(rows)} {expected}"
            f" (gate {took_s:.0f}s, stage {stage.get('wall_s', 0):.0f}s)")  # fmt: skip
        for line in table:
            say(f"    {line}")
    return failed, unexpected


def main(argv: list[str]) -> int:
    """Exit 0 when every run failed in exactly its case's rows, 1 when not, 2 on bad input."""
    if (argv and not argv[0].isdigit()) or argv[:1] == ["0"]:
        print(f"resilience_candidates: {argv[0]!r} is not a number of runs", file=sys.stderr)
        return 2
    runs = int(argv[0]) if argv else 3
    names = argv[1:] or list(CASES)
    if unknown := [name for name in names if name not in CASES]:
        print(f"resilience_candidates: no case {unknown[0]!r}; one of {', '.join(CASES)}",
              file=sys.stderr)  # fmt: skip
        return 2
    kept = HarnessSettings().results_dir / "gate-resilience-candidates" / new_run_id()
    unexpected = 0
    with tempfile.TemporaryDirectory(prefix="gate-resilience-") as work:
        for name in names:
            failed, missed = measure(name, runs, Path(work), kept)
            unexpected += missed
            summary = ", ".join(f"{row} {k}/{runs}" for row, k in sorted(failed.items()))
            print(f"== {name}: {summary or f'no row failed in {runs}/{runs}'}", flush=True)
    print(f"records kept in {kept}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
