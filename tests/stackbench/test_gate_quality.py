"""What the quality check plans, injects and reads back from each gate run's record."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from stackbench.gate_quality import (
    CELLS,
    CPU,
    ROUTE,
    UNCHANGED,
    Tally,
    expected_rows,
    minimum_detectable_effect,
    schedule,
    score,
    sized,
)
from stackbench.injection import TARGETS, Injection


def comparison(endpoint: str, metric: str, baseline: float, status: str = "ok") -> dict:
    return {"endpoint": endpoint, "metric": metric, "baseline": baseline, "status": status}


def test_runs_cycle_through_the_cells_and_rotate_the_injected_route() -> None:
    planned = list(schedule(len(TARGETS) * 2))

    assert [cell for cell, _ in planned[:3]] == list(CELLS)
    routes = [route for cell, route in planned if cell == ROUTE]
    assert routes == [*TARGETS, *TARGETS]


def test_regressions_are_sized_from_the_unchanged_runs_baseline() -> None:
    calibration = {
        "comparisons": [
            comparison("GET /posts/{id} hot", "p95_ms", 40.0),
            comparison("GET /posts/{id} cold", "p95_ms", 60.0),
            comparison("POST /posts", "app_cpu_us", 1600.0),
        ]
    }

    read = sized(ROUTE, "GET /posts/{id}", calibration)
    assert read == Injection("GET /posts/{id}", delay_ms=pytest.approx(8.0))
    cpu = sized(CPU, "POST /posts", calibration)
    assert cpu == Injection("POST /posts", cpu_us=pytest.approx(400.0))
    assert sized(UNCHANGED, "POST /posts", calibration) is None


def test_a_detection_counts_only_in_the_injected_routes_rows() -> None:
    injection = Injection("PATCH /posts/{id}", delay_ms=5.0)
    right = {"comparisons": [comparison("PATCH /posts/{id}", "p95_ms", 1, "REGRESSED")]}
    wrong = {"comparisons": [comparison("POST /posts", "p95_ms", 1, "REGRESSED")]}

    both = {"comparisons": [*right["comparisons"], *wrong["comparisons"]]}

    tally = Tally()
    assert score(tally, 1, right, injection).startswith("FAIL (PATCH")
    assert score(tally, 1, wrong, injection).startswith("FAIL elsewhere")
    assert score(tally, 1, both, injection).startswith("FAIL elsewhere")
    assert score(tally, 0, {}, injection) == "PASS"
    assert score(tally, 2, {}, injection) == "error 2"
    assert (tally.runs, tally.flagged, tally.elsewhere, tally.errors) == (4, 1, 2, 1)
    cpu_rows = expected_rows(Injection("POST /posts", cpu_us=100.0))
    assert cpu_rows == {("POST /posts", "app_cpu_us")}


def unchanged_run(rng: random.Random, noise: float, trials: int = 8) -> dict:
    def trial() -> dict:
        return {"GET /x": {"requests": 400, "p95_ms": 50 * math.exp(rng.gauss(0, noise))}}

    return {
        "trials": {"A": [trial() for _ in range(trials)], "B": [trial() for _ in range(trials)]}
    }


def test_the_minimum_detectable_effect_grows_with_the_noise() -> None:
    rng = random.Random(1)
    steady = [unchanged_run(rng, 0.02) for _ in range(20)]
    noisy = [unchanged_run(rng, 0.15) for _ in range(20)]

    steady_mde = minimum_detectable_effect(steady, "GET /x", "p95_ms")
    noisy_mde = minimum_detectable_effect(noisy, "GET /x", "p95_ms")

    # The gate's rule never flags less than +15%, however steady the figures.
    assert 0.15 <= steady_mde < 0.25
    assert noisy_mde > steady_mde + 0.1
    assert math.isnan(minimum_detectable_effect([], "GET /x", "p95_ms"))


def test_every_route_of_the_gate_is_a_target() -> None:
    from loadtests.route_blocks import ROUTES

    rows = list(itertools.chain.from_iterable(t.rows for t in TARGETS.values()))
    assert sorted(rows) == sorted(ROUTES)
