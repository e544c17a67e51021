"""Summaries from recorder output, the comparison ratios and the generator's CPU share."""

from __future__ import annotations

import math

import pytest

from bench.summary import (
    endpoint_summaries,
    format_ratio_table,
    format_summary_table,
    generator_cpu,
    ratios,
    window_cpu,
)
from harness.cpu import Sample
from loadtests.hdr import Recorder


def rows(latency_ms: float, count: int, duration_s: float = 10.0) -> dict:
    recorder = Recorder()
    for _ in range(count):
        recorder.record("GET", "/x", latency_ms, failed=False)
    return endpoint_summaries({"duration_s": duration_s, "endpoints": recorder.drain()})


def test_ratios_divide_other_by_base() -> None:
    table = ratios(rows(10.0, 100), rows(25.0, 50))

    assert table["GET /x"]["p50"] == pytest.approx(2.5, rel=1e-3)
    assert table["GET /x"]["rps"] == pytest.approx(0.5)
    assert "2.50x" in format_ratio_table("naive / hardened", table)


def test_an_endpoint_with_only_errors_has_no_percentiles() -> None:
    recorder = Recorder()
    recorder.record("GET", "/down", 1.0, failed=True)

    row = endpoint_summaries({"duration_s": 1.0, "endpoints": recorder.drain()})["GET /down"]

    assert row.error_rate == 1.0
    assert math.isnan(row.p50_ms)


def test_table_lists_every_endpoint() -> None:
    table = format_summary_table("hardened (edge)", rows(10.0, 10))

    assert "GET /x" in table
    assert "Aggregated" in table


def test_generator_cpu_as_cores_and_machine_share() -> None:
    assert generator_cpu(cpu_s=10.0, wall_s=20.0, cpu_count=2) == {
        "cpu_s": 10.0,
        "wall_s": 20.0,
        "cores": 0.5,
        "machine_share": 0.25,
    }


def test_window_cpu_is_cut_to_locusts_measured_window() -> None:
    samples = [Sample(10.0, {"app": 0.0}), Sample(20.0, {"app": 5.0})]
    exact = {"started_s": 12.0, "stopped_s": 14.0}

    cpu = window_cpu(exact, samples, requests=2000)

    assert cpu["app"]["cpu_s"] == pytest.approx(1.0)
    assert cpu["app"]["us_per_request"] == pytest.approx(500.0)
    assert window_cpu({"duration_s": 4.0}, samples, requests=2000) == {}
