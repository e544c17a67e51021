"""Latency summaries computed from exact samples."""

from __future__ import annotations

import math

import pytest

from harness.stats import format_table, summarize


def test_percentiles_come_from_exact_samples() -> None:
    latencies_s = [i / 1000 for i in range(1, 101)]  # 1..100 ms

    summary = summarize(latencies_s, errors=0, duration_s=2.0)

    assert summary.requests == 100
    assert summary.rps == pytest.approx(50.0)
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.max_ms == pytest.approx(100.0)


def test_errors_count_towards_requests_and_error_rate() -> None:
    summary = summarize([0.001] * 3, errors=1, duration_s=1.0)

    assert summary.requests == 4
    assert summary.error_rate == pytest.approx(0.25)
    assert summary.as_dict()["error_rate"] == pytest.approx(0.25)


def test_no_successful_sample_gives_nan_percentiles_not_zero() -> None:
    summary = summarize([], errors=5, duration_s=1.0)

    assert summary.rps == 0.0
    assert math.isnan(summary.p99_ms)
    assert summary.error_rate == 1.0


def test_table_has_a_row_per_case() -> None:
    rows = {"reads": summarize([0.002], 0, 1.0), "writes": summarize([0.004], 1, 1.0)}
    table = format_table(rows)

    lines = table.splitlines()
    assert lines[0].split()[:3] == ["case", "req/s", "p50"]
    assert lines[2].startswith("reads ")
    assert "2.00" in lines[2]
    assert lines[3].startswith("writes")
    assert lines[3].rstrip().endswith("1")
