"""What a gate trial keeps of a Locust run: CPU per request of each side's app and database."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.cpu import Sample
from harness.hdr import AGGREGATED
from loadtests.route_blocks import ROUTES, RouteBlocks
from stackbench.runner import LocustRun
from stackbench.summary import with_cpu
from stackbench.trials import gate_load, route_cpu_s, window_cpu_s


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


def test_each_route_is_charged_the_cpu_spent_in_its_own_blocks() -> None:
    # A's app burns 1 CPU-second per second during PATCH blocks only, nothing elsewhere.
    load = gate_load((1.0,), cycles=2)
    blocks = RouteBlocks(1000.0, load.route_block_s, load.route_cycles)
    busy = [(b.start_s, b.active_until_s) for b in blocks if b.route == "PATCH /posts/{id}"]
    times = [1000.0 + i * 0.05 for i in range(int(blocks.duration_s / 0.05) + 2)]

    def burnt(t: float) -> float:
        return sum(max(0.0, min(t, end) - start) for start, end in busy)

    samples = [Sample(t, {"A app": burnt(t), "A database": 0.0}) for t in times]
    run = run_with(samples, {"started_s": 1000.0, "stopped_s": times[-1]})

    by_route = route_cpu_s(run, "A ", load)
    patch = by_route["PATCH /posts/{id}"]["app_cpu_us"]
    assert patch == pytest.approx(2 * (1.0 - 0.25), abs=0.01)
    others = [by_route[r]["app_cpu_us"] for r in ROUTES if r != "PATCH /posts/{id}"]
    assert max(others) == pytest.approx(0.0, abs=1e-9)
    assert route_cpu_s(run, "B ", load) == {}  # no counters for that side
