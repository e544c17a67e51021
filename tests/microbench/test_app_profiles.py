"""make bench-app-profiles' goals, from synthetic rows: which figure each goal judges."""

from __future__ import annotations

from harness.stats import LatencySummary
from microbench.app_profiles import CONFIGS, OPEN_BATCHED, OPEN_UNBATCHED, Row, format_goals, goals


def row(rps: float, p50_ms: float = 50.0, rtt_ms: float = 90.0) -> Row:
    summary = LatencySummary(1000, 0, 5.0, rps, p50_ms, p50_ms, p50_ms, p50_ms, p50_ms)
    return Row(summary, rtt_ms, {})


def rows(**rps: float) -> dict[str, Row]:
    out = {case.name: row(100.0) for config in CONFIGS for case in config.cases}
    out.update({name: row(value) for name, value in rps.items()})
    return out


def test_the_write_goal_is_the_open_models_and_the_closed_ratio_is_information() -> None:
    figures = rows(**{OPEN_BATCHED: 1800.0, OPEN_UNBATCHED: 340.0})
    figures["POST batched cross-region c=64"] = row(600.0)
    figures["POST unbatched cross-region c=64"] = row(300.0)

    checks = goals(figures)

    writes = checks[0]
    assert "open model" in writes["goal"]
    assert writes["met"]
    assert abs(writes["value"] - 1800 / 340) < 1e-9
    closed = next(c for c in checks if "closed-loop writers" in c["goal"])
    assert (closed["value"], closed["met"]) == (2.0, None)
    assert "information" in format_goals(checks)


def test_an_unbatched_app_that_keeps_up_misses_the_write_goal() -> None:
    checks = goals(rows(**{OPEN_BATCHED: 1800.0, OPEN_UNBATCHED: 1700.0}))

    assert checks[0]["met"] is False
    assert "NOT met" in format_goals(checks)
