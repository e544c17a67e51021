"""Summaries from recorder output, the comparison in words and the generator's CPU share."""

from __future__ import annotations

import math

import pytest

from harness.cpu import Sample
from harness.hdr import Recorder, endpoint_summaries
from stackbench.__main__ import comparison, format_comparison
from stackbench.summary import (
    format_summary_table,
    generator_cpu,
    window_cpu,
)


def rows(latency_ms: float, count: int, duration_s: float = 10.0) -> dict:
    recorder = Recorder()
    for _ in range(count):
        recorder.record("GET", "/x", latency_ms, failed=False)
    return endpoint_summaries({"duration_s": duration_s, "endpoints": recorder.drain()})


def test_comparison_is_oriented_from_hardened_and_said_in_words() -> None:
    summaries = {
        mode: {"endpoints": {k: v.as_dict() for k, v in rows(ms, n).items()}}
        for mode, ms, n in (("naive", 25.0, 50), ("hardened", 10.0, 100))
    }

    compared = comparison(summaries, "naive", "hardened", tls=True)

    assert (compared["mine"], compared["theirs"]) == ("hardened", "naive")
    assert compared["advantage"]["GET /x"]["p50"] == pytest.approx(2.5, rel=1e-2)
    assert compared["advantage"]["GET /x"]["rps"] == pytest.approx(2.0)
    assert compared["headline"].startswith("hardened serves 2.0x the requests/s of naive, at 2.5x")
    assert "> 1 means hardened is better" in format_comparison(compared)


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
