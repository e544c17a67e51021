"""The gate's statistics on synthetic trials: a clear regression fails, noise does not."""

from __future__ import annotations

import random

import pytest

from bench.gate import MIN_EFFECT, MIN_REQUESTS, compare, format_comparisons, verdict


def trials(p50: float, p95: float, n: int = 5, noise: float = 0.03, seed: int = 0) -> list:
    rng = random.Random(seed)
    return [
        {
            "GET /x": {
                "requests": MIN_REQUESTS * 4,
                "p50_ms": p50 * (1 + rng.uniform(-noise, noise)),
                "p95_ms": p95 * (1 + rng.uniform(-noise, noise)),
            }
        }
        for _ in range(n)
    ]


def test_clear_regression_is_flagged() -> None:
    comparisons = compare(trials(10, 20, seed=1), trials(13, 26, seed=2))

    assert not verdict(comparisons)
    assert {c.metric for c in comparisons if c.regressed} == {"p50_ms", "p95_ms"}
    assert "REGRESSED" in format_comparisons(comparisons)


def test_identical_samples_pass() -> None:
    same = trials(10, 20, seed=3)

    assert verdict(compare(same, same))


def test_noise_from_the_same_distribution_passes() -> None:
    assert verdict(compare(trials(10, 20, seed=4), trials(10, 20, seed=5)))


def test_a_consistent_but_small_slowdown_is_below_the_minimum_effect() -> None:
    small = 1 + MIN_EFFECT / 2
    comparisons = compare(trials(10, 20, noise=0.0), trials(10 * small, 20 * small, noise=0.0))

    assert all(c.p_value < 0.05 for c in comparisons)  # significant ...
    assert verdict(comparisons)  # ... but too small to fail the build


def test_a_faster_build_passes() -> None:
    assert verdict(compare(trials(10, 20, seed=6), trials(7, 14, seed=7)))


def test_endpoints_with_few_requests_are_not_judged() -> None:
    sparse = [{"GET /x": {**t["GET /x"], "requests": 10}} for t in trials(10, 20, seed=8)]
    slow = trials(20, 40, seed=9)

    comparisons = compare(sparse, slow)

    assert verdict(comparisons)
    assert not any(c.judged for c in comparisons)


@pytest.mark.parametrize("n", [5, 8])
def test_full_separation_is_significant(n: int) -> None:
    comparisons = compare(trials(10, 20, n=n, noise=0.01), trials(15, 30, n=n, noise=0.01, seed=1))

    assert all(c.p_value < 0.01 for c in comparisons)
