"""Writers for a chaos run: summary.json for machines, a markdown table for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from chaos.runner import ScenarioResult

INVARIANTS = (
    "lost",
    "duplicated",
    "lost_update",
    "rejected",
    "latency",
    "errors",
    "availability",
    "recovery",
    "recovered",
    "consistency",
)
KEY_FIGURES = {
    "lost": ("lost", "acked"),
    "duplicated": ("duplicated",),
    "lost_update": ("lost", "acked"),
    "rejected": ("rejected", "stored_anyway"),
    "latency": ("before_p99_ms", "during_p99_ms", "after_p99_ms", "during_bound_ms"),
    "errors": ("status_500_or_other", "status_503", "status_504", "unanswered"),
    "availability": ("before_success_rate", "during_success_rate", "after_success_rate"),
    "recovery": ("recovery_s",),
    "recovered": ("indeterminate", "landed"),
    "consistency": ("stale_reads", "reads_checked"),
}


def _cell(result: ScenarioResult, invariant: str) -> str:
    verdict = result.verdict(invariant)
    mark = "ok" if verdict.passed else "FAIL"
    figures = ", ".join(f"{k}={verdict.figures.get(k)}" for k in KEY_FIGURES[invariant])
    return f"{mark} ({figures})"


def _verdict(result: ScenarioResult) -> str:
    """pass or FAIL, naming a failed invariant of the scenario's own (token_rotation, say)."""
    if result.passed:
        return "pass"
    own = [v.name for v in result.verdicts if v.name not in INVARIANTS and not v.passed]
    return f"FAIL ({', '.join(own)})" if own else "FAIL"


def markdown_table(results: Sequence[ScenarioResult]) -> str:
    header = ["scenario", "mode", *INVARIANTS, "retries", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        cells = [result.scenario, result.mode, *(_cell(result, name) for name in INVARIANTS)]
        cells += [f"{result.retries:g}", _verdict(result)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_run(
    out_dir: Path, results: Sequence[ScenarioResult], settings: dict[str, object]
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"settings": settings, "scenarios": [r.as_dict() for r in results]}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out_dir / "summary.md").write_text(markdown_table(results) + "\n")
