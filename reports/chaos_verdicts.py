"""A chaos run at a glance (pure: summary.json's scenario dicts in, text out): one short row
per scenario and mode, a closing line per mode and transport, and what the words in them mean.

The full per-invariant table stays in summary.md and the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Scenario = Mapping[str, Any]
Figures = Mapping[str, Any]

LEGEND = (
    "data: acknowledged writes lost or stored twice, and acknowledged updates overwritten"
    " by an update not based on them, read from the database after each scenario (none"
    " means nothing was lost).",
    "indeterminate: a write whose answer never came (a timeout or a reset); the checker"
    " looks it up afterwards: 'landed' ones were stored, the rest were not, and neither"
    " counts as lost, because the client was never told it succeeded.",
    "not judged: an invariant with no bound for this scenario (e.g. availability where"
    " the fault is total); its figure is shown but cannot fail.",
    "expected: the naive app is the guide's pattern, with no retries, breaker, deadlines"
    " or idempotency; the scenarios marked so are the faults it is expected to fail.",
)


def _get(figures: Figures, *names: str) -> Any:
    """The first of `names` the figures carry (checkers of different ages name them so)."""
    return next((figures[n] for n in names if figures.get(n) is not None), None)


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%".replace(".0%", "%")


def judged(name: str, figures: Figures) -> bool:
    """Whether any bound applied: availability needs a minimum, recovery a bound."""
    if name == "availability":
        minimums = [v for k, v in figures.items() if k.endswith("minimum")]
        return any(m is not None for m in minimums)
    if name == "recovery":
        return figures.get("bound_s") is not None
    return name != "recovered"


def data_cell(scenario: Scenario) -> str:
    """Lost and duplicated writes and lost updates, the answer to "did anything lose data"."""
    invariants = scenario["invariants"]
    lost = _get(invariants.get("lost", {}), "lost") or 0
    twice = _get(invariants.get("duplicated", {}), "duplicated") or 0
    lost_updates = _get(invariants.get("lost_update", {}), "lost") or 0
    refused = _get(invariants.get("lost_update", {}), "refused_applied") or 0
    parts = [
        f"{lost} lost" if lost else "",
        f"{twice} stored twice" if twice else "",
        f"{lost_updates} updates lost" if lost_updates else "",
        f"{refused} refused updates applied" if refused else "",
    ]
    return ", ".join(p for p in parts if p) or "none lost"


def _latency(f: Figures) -> str:
    phase = (f.get("failing") or "during").split(",")[0]
    p99 = _get(f, f"{phase}_p99_ms", "fault_p99_ms", "p99_ms")
    bound = _get(f, f"{phase}_bound_ms", "bound_ms")
    where = f" {phase} fault" if phase == "during" else f" {phase} the fault"
    return f"p99{where} {p99:.0f} ms > {bound:.0f}" if p99 is not None else "p99 over bound"


def _availability(f: Figures) -> str:
    phase = (f.get("failing") or "during").split(",")[0]
    rate = _get(f, f"{phase}_success_rate", "success_rate")
    minimum = _get(f, f"{phase}_minimum", "minimum")
    if rate is None:
        return "no requests"
    return f"success {_percent(rate)} {phase} fault < {_percent(minimum or 0)}"


def _errors(f: Figures) -> str:
    parts = [
        f"{f['status_500_or_other']}x500" if f.get("status_500_or_other") else "",
        f"{f['unanswered']} unanswered" if f.get("unanswered") else "",
        f"{f['not_json']} not JSON" if f.get("not_json") else "",
        f"{f['503_without_retry_after']} 503 without Retry-After"
        if f.get("503_without_retry_after")
        else "",
    ]
    return ", ".join([p for p in parts if p][:2]) or "bad error answers"


def _recovery(f: Figures) -> str:
    seconds = f.get("recovery_s")
    return "never recovered" if seconds is None else f"recovery {seconds:g} s > {f['bound_s']:g} s"


def _token_rotation(f: Figures) -> str:
    if f.get("other_failures"):
        return f"{f['other_failures']} failures not the refusal ({f.get('other_codes')})"
    if f.get("readiness_status") != 503:
        return f"readiness {f.get('readiness_status')} with the token refused"
    return "no token refusal seen"


IN_DATA_COLUMN = ("lost", "duplicated", "lost_update")
FAILURES: dict[str, Callable[[Figures], str]] = {
    "rejected": lambda f: f"{f.get('stored_anyway')} rejected writes stored anyway",
    "latency": _latency,
    "errors": _errors,
    "availability": _availability,
    "recovery": _recovery,
    "token_rotation": _token_rotation,
}


def _healthy_figures(scenario: Scenario) -> list[str]:
    """What a passing scenario did to cope: retries, the failures it answered, its success."""
    invariants: Mapping[str, Figures] = scenario["invariants"]
    out = [f"{scenario['retries']:g} retries"] if scenario.get("retries") else []
    errors = invariants.get("errors", {})
    answered = [f"{errors[k]}x{k[-3:]}" for k in ("status_503", "status_504") if errors.get(k)]
    if answered:
        out.append(", ".join(answered))
    availability = invariants.get("availability", {})
    rate = _get(availability, "during_success_rate", "success_rate")
    if rate is not None and rate < 1:
        judged_note = "" if judged("availability", availability) else " not judged"
        out.append(f"success {_percent(rate)}{judged_note}")
    return out


def key_figures(scenario: Scenario, limit: int = 2) -> str:
    """The one or two figures that say why a scenario passed or failed."""
    invariants: Mapping[str, Figures] = scenario["invariants"]
    failed = [
        FAILURES.get(name, lambda _f, n=name: f"{n} failed")(figures)
        for name, figures in invariants.items()
        if not figures.get("passed", True) and name not in IN_DATA_COLUMN
    ]
    figures = failed or _healthy_figures(scenario)
    recovered = invariants.get("recovered", {})
    if recovered.get("indeterminate"):
        landed = recovered.get("landed", 0)
        figures.append(f"{recovered['indeterminate']} indeterminate, {landed} landed")
    return "; ".join(figures[:limit])


def _recovery_cell(scenario: Scenario) -> str:
    if "fault_window_s" in scenario and scenario["fault_window_s"] is None:
        return "—"  # no fault, nothing to recover from
    recovery = scenario["invariants"].get("recovery", {})
    seconds = recovery.get("recovery_s")
    if seconds is None:
        return "never" if recovery else "—"
    return f"{seconds:.1f} s"


def _verdict(scenario: Scenario) -> str:
    verdict = "pass" if scenario["passed"] else "FAIL"
    if scenario["mode"] != "hardened" and "expected" in scenario:
        as_expected = scenario["passed"] == (scenario["expected"] == "pass")
        verdict += " (expected)" if as_expected else " (UNEXPECTED)"
    return verdict


def run_label(scenario: Scenario) -> str:
    """ "hardened over ws"; just the mode for summaries written before the transport was."""
    transport = scenario.get("transport")
    return f"{scenario['mode']} over {transport}" if transport else str(scenario["mode"])


def compact_table(scenarios: Sequence[Scenario]) -> str:
    header = ("scenario", "mode", "verdict", "data", "recovery", "key figures")
    rows = [
        (
            s["scenario"],
            run_label(s),
            _verdict(s),
            data_cell(s),
            _recovery_cell(s),
            key_figures(s),
        )
        for s in scenarios
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def mode_outcome(scenarios: Sequence[Scenario], label: str) -> dict[str, Any]:
    """Counts for one mode (and transport, see run_label): passed, failed, and (naive) the
    results not as expected."""
    mine = [s for s in scenarios if run_label(s) == label]
    unexpected = [
        s["scenario"] for s in mine if "expected" in s and s["passed"] != (s["expected"] == "pass")
    ]
    failed = sum(not s["passed"] for s in mine)
    return {"total": len(mine), "failed": failed, "unexpected": unexpected}


def closing_line(scenarios: Sequence[Scenario], label: str) -> str:
    """ "hardened over ws: 13/13 pass" or "naive over http: 7/13 fail — expected"."""
    outcome = mode_outcome(scenarios, label)
    total, failed = outcome["total"], outcome["failed"]
    if label.startswith("hardened"):
        if not failed:
            return f"{label}: {total}/{total} pass"
        return f"{label}: {failed}/{total} FAIL — the hardened app must pass every scenario"
    if not outcome["unexpected"]:
        return f"{label}: {failed}/{total} fail — expected"
    return f"{label}: {failed}/{total} fail — not as expected: {', '.join(outcome['unexpected'])}"


def closing_lines(scenarios: Sequence[Scenario]) -> list[str]:
    """One line per mode and transport, in the order they ran."""
    labels = list(dict.fromkeys(run_label(s) for s in scenarios))
    return [closing_line(scenarios, label) for label in labels]
