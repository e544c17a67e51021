"""What a gate trial keeps of a Locust run: CPU per request of each side's app and database."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.cpu import Sample
from harness.hdr import AGGREGATED
from stackbench.runner import LocustRun
from stackbench.summary import with_cpu
from stackbench.trials import window_cpu_s


def run_with(samples: list[Sample], exact: dict) -> LocustRun:
    return LocustRun(Path("."), 0, 10.0, 1.0, exact, samples)


def test_cpu_is_read_over_locusts_window_for_one_side() -> None:
    # Both sides' counters climb 1 CPU-second per second; B's database is twice as busy.
    samples = [
        Sample(t, {"A app": t, "B app": t, "A database": t / 2, "B database": t})
        for t in (100.0, 110.0, 120.0)
    ]
    run = run_with(samples, {"started_s": 105.0, "stopped_s": 115.0})

    assert window_cpu_s(run, "A ") == pytest.approx({"app_cpu_us": 10.0, "database_cpu_us": 5.0})
    assert window_cpu_s(run, "B ") == pytest.approx({"app_cpu_us": 10.0, "database_cpu_us": 10.0})


def test_no_window_or_no_samples_gives_no_cpu() -> None:
    samples = [Sample(1.0, {"app": 1.0})]
    assert window_cpu_s(run_with(samples, {}), "") == {}
    assert window_cpu_s(run_with([], {"started_s": 0.0, "stopped_s": 1.0}), "") == {}


def test_cpu_per_request_lands_on_the_aggregated_row_only() -> None:
    figures = {
        "GET /x": {"requests": 400, "errors": 0},
        AGGREGATED: {"requests": 500, "errors": 1},
    }

    out = with_cpu(figures, {"app_cpu_us": 0.25, "database_cpu_us": 0.05})

    assert out[AGGREGATED]["app_cpu_us"] == pytest.approx(500.0)
    assert out[AGGREGATED]["database_cpu_us"] == pytest.approx(100.0)
    assert "app_cpu_us" not in out["GET /x"]
    assert "app_cpu_us" not in figures[AGGREGATED]
    no_requests = with_cpu({AGGREGATED: {"requests": 0}}, {"app_cpu_us": 1.0})
    assert math.isnan(no_requests[AGGREGATED]["app_cpu_us"])
