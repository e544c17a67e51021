"""make bench-app's ratio table: > 1 means the first case is better, in every column."""

from __future__ import annotations

from harness.stats import LatencySummary
from microbench.app_bench import RATIOS, format_ratios


def summary(rps: float, p50_ms: float, p99_ms: float) -> LatencySummary:
    return LatencySummary(100, 0, 1.0, rps, p50_ms, p50_ms, p99_ms, p99_ms, p99_ms)


def test_a_faster_first_case_is_above_one_in_every_column() -> None:
    rows = {}
    for _, first, second in RATIOS:
        rows[first] = summary(rps=300.0, p50_ms=2.0, p99_ms=5.0)
        rows[second] = summary(rps=100.0, p50_ms=8.0, p99_ms=30.0)

    line = format_ratios(rows).splitlines()[1]

    assert line.split()[-3:] == ["3.00x", "4.00x", "6.00x"]
