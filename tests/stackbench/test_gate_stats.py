"""The gate's statistics on synthetic trials: effects, intervals, errors, missing figures."""

from __future__ import annotations

import math
import random
from itertools import combinations

import pytest

from stackbench.gate_stats import (
    MIN_EFFECT,
    MIN_REQUESTS,
    Status,
    compare,
    format_comparisons,
    hl_rank,
    hodges_lehmann,
    more_errors_p_value,
    paired_hodges_lehmann,
    paired_more_errors_p_value,
    signed_rank_null_counts,
    u_null_counts,
    verdict,
)


def trials(
    p50: float,
    p95: float,
    n: int = 6,
    noise: float = 0.03,
    seed: int = 0,
    errors: int = 0,
    requests: int = MIN_REQUESTS * 4,
) -> list:
    rng = random.Random(seed)
    return [
        {
            "GET /x": {
                "requests": requests,
                "errors": errors,
                "p50_ms": p50 * (1 + rng.uniform(-noise, noise)),
                "p95_ms": p95 * (1 + rng.uniform(-noise, noise)),
            }
        }
        for _ in range(n)
    ]


def by_metric(comparisons: list) -> dict:
    return {(c.endpoint, c.metric): c for c in comparisons}


def test_u_null_distribution_counts_every_ordering() -> None:
    # U counts pairs (candidate > baseline); enumerate where the 3 candidates sit among 6.
    brute = [0] * 10
    for slots in combinations(range(6), 3):
        brute[sum(s - i for i, s in enumerate(slots))] += 1
    assert list(u_null_counts(3, 3)) == brute
    assert sum(u_null_counts(8, 8)) == math.comb(16, 8)


@pytest.mark.parametrize(
    ("m", "n", "rank"), [(5, 5, 3), (6, 6, 6), (8, 8, 14), (4, 4, 1), (2, 2, 0)]
)
def test_interval_ranks_match_published_critical_values(m: int, n: int, rank: int) -> None:
    # Two-sided 5% critical values of U (tables): 2 for 5/5, 5 for 6/6, 13 for 8/8, 0 for 4/4.
    assert hl_rank(m, n) == rank


def test_hodges_lehmann_finds_a_known_ratio_and_covers_it() -> None:
    base = [10.0, 10.2, 9.9, 10.1, 10.05, 9.95]
    effect = hodges_lehmann(base, [v * 1.2 for v in base])

    assert effect.estimate == pytest.approx(0.2)
    assert effect.low <= 0.2 <= effect.high


def test_hodges_lehmann_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = random.Random(42)
    covered = 0
    runs = 400
    for _ in range(runs):
        base = [10 * math.exp(rng.gauss(0, 0.05)) for _ in range(8)]
        cand = [12 * math.exp(rng.gauss(0, 0.05)) for _ in range(8)]
        effect = hodges_lehmann(base, cand)
        covered += effect.low <= 0.2 <= effect.high
    assert 0.90 <= covered / runs <= 0.99


def test_hodges_lehmann_refuses_nan_and_empty() -> None:
    assert math.isnan(hodges_lehmann([1.0, math.nan], [1.0, 2.0]).estimate)
    assert math.isnan(hodges_lehmann([], [1.0]).estimate)


def test_a_twenty_percent_slowdown_fails_with_its_interval() -> None:
    comparisons = compare(trials(10, 20, seed=1), trials(12, 24, seed=2))

    assert not verdict(comparisons)
    p95 = by_metric(comparisons)[("GET /x", "p95_ms")]
    assert p95.status is Status.REGRESSED
    assert p95.effect.low > 0.1
    assert p95.effect.estimate == pytest.approx(0.2, abs=0.05)
    table = format_comparisons(comparisons)
    for expected in ("REGRESSED", "95% CI", "p95 ok"):
        assert expected in table


def test_noise_from_the_same_distribution_passes() -> None:
    assert verdict(compare(trials(10, 20, seed=4), trials(10, 20, seed=5)))


def test_a_consistent_but_small_slowdown_is_below_the_minimum_effect() -> None:
    small = 1 + MIN_EFFECT / 2
    comparisons = compare(trials(10, 20, noise=0.0), trials(10 * small, 20 * small, noise=0.0))

    assert all(c.p_value < 0.05 for c in comparisons if c.metric != "errors")  # significant ...
    assert verdict(comparisons)  # ... but too small to fail the build


def test_a_faster_build_passes() -> None:
    assert verdict(compare(trials(10, 20, seed=6), trials(7, 14, seed=7)))


def test_endpoints_with_few_requests_are_not_judged_on_latency() -> None:
    sparse = trials(10, 20, requests=10, seed=8)
    for t in sparse:
        t["GET /busy"] = trials(10, 20, seed=80)[0]["GET /x"]
    comparisons = compare(sparse, [{**t, "GET /x": {**t["GET /x"], "p50_ms": 20}} for t in sparse])

    assert verdict(comparisons)
    assert by_metric(comparisons)[("GET /x", "p50_ms")].status is Status.NOT_JUDGED


def test_a_run_where_nothing_could_be_judged_never_passes() -> None:
    sparse = trials(10, 20, requests=10, seed=81)

    assert not verdict(compare(sparse, sparse))


def test_a_rising_error_rate_fails_even_when_latency_is_fine() -> None:
    comparisons = compare(trials(10, 20, seed=10), trials(10, 20, seed=11, errors=12))

    errors = by_metric(comparisons)[("GET /x", "errors")]
    assert errors.status is Status.REGRESSED
    assert errors.candidate == pytest.approx(12 / (MIN_REQUESTS * 4))
    assert not verdict(comparisons)


def test_an_error_or_two_is_noise() -> None:
    base = trials(10, 20, seed=12, errors=0)
    cand = trials(10, 20, seed=13)
    cand[0]["GET /x"]["errors"] = 2

    assert verdict(compare(base, cand))


def test_error_p_values_are_one_sided() -> None:
    fewer, more = [0.0] * 8, [0.01] * 8
    assert paired_more_errors_p_value(fewer, more) < 0.01
    assert paired_more_errors_p_value(more, fewer) == pytest.approx(1.0)
    assert more_errors_p_value(fewer, more) < 0.01
    assert more_errors_p_value(more, fewer) > 0.5


def test_one_bad_trial_does_not_fail_the_gate_however_many_errors_it_has() -> None:
    # ~15 timeouts in one trial of ~10,000 requests failed the old, pooled Fisher test.
    base = trials(10, 20, n=8, seed=30)
    cand = trials(10, 20, n=8, seed=31)
    cand[3]["GET /x"]["errors"] = 15

    for paired in (True, False):
        errors = by_metric(compare(base, cand, paired=paired))[("GET /x", "errors")]
        assert errors.status is Status.OK, (paired, errors)


def test_errors_in_most_paired_trials_fail_the_gate() -> None:
    base = trials(10, 20, n=8, seed=32)
    cand = trials(10, 20, n=8, seed=33, errors=3)  # 0.3% in every trial
    cand[5]["GET /x"]["errors"] = 0

    errors = by_metric(compare(base, cand, paired=True))[("GET /x", "errors")]
    assert errors.status is Status.REGRESSED
    assert errors.p_value < 0.05


def test_a_route_missing_from_one_baseline_trial_is_judged_alike_whichever_trial() -> None:
    # min() over a list with NaN depends on the NaN's place; a missing route has 0 requests.
    statuses = set()
    for missing in range(6):
        base = trials(10, 20, seed=34)
        del base[missing]["GET /x"]
        for t in base:
            t["GET /y"] = trials(10, 20, seed=35)[0]["GET /x"]
        comparison = by_metric(compare(base, trials(10, 20, seed=36)))[("GET /x", "p50_ms")]
        statuses.add(comparison.status)
    assert statuses == {Status.NOT_JUDGED}


def test_a_route_the_workload_requests_that_neither_side_saw_fails() -> None:
    comparisons = compare(trials(10, 20), trials(10, 20), expected=("GET /x", "DELETE /x"))

    assert by_metric(comparisons)[("DELETE /x", "requests")].status is Status.NO_DATA
    assert not verdict(comparisons)


def test_an_endpoint_that_disappears_fails() -> None:
    base = trials(10, 20, seed=14)
    cand = [{"GET /y": t["GET /x"]} for t in trials(10, 20, seed=15)]

    statuses = {(c.endpoint, c.status) for c in compare(base, cand)}
    assert ("GET /x", Status.MISSING) in statuses
    assert ("GET /y", Status.NEW) in statuses
    assert not verdict(compare(base, cand))


def test_nan_percentiles_of_a_judged_endpoint_never_pass() -> None:
    cand = trials(10, 20, seed=16)
    cand[2]["GET /x"]["p95_ms"] = math.nan

    p95 = by_metric(compare(trials(10, 20, seed=17), cand))[("GET /x", "p95_ms")]
    assert p95.status is Status.NO_DATA
    assert "NO DATA" in format_comparisons([p95])


def test_missing_error_counts_never_pass() -> None:
    base = trials(10, 20, seed=18)
    for t in base:
        del t["GET /x"]["errors"]

    assert not verdict(compare(base, trials(10, 20, seed=19)))


def test_no_trials_never_pass() -> None:
    assert not verdict(compare([], trials(10, 20)))
    assert not verdict([])


def test_signed_rank_null_distribution_counts_every_sign_pattern() -> None:
    brute = [0] * 7
    for signs in range(2**3):
        brute[sum(rank for rank in (1, 2, 3) if signs >> (rank - 1) & 1)] += 1
    assert list(signed_rank_null_counts(3)) == brute
    assert sum(signed_rank_null_counts(10)) == 2**10


def test_paired_trials_see_through_noise_they_share() -> None:
    """Each pair ran in the same seconds: a +20% hidden under +-30% shared drift is found."""
    rng = random.Random(21)
    drift = [1 + rng.uniform(-0.3, 0.3) for _ in range(8)]
    base = [
        {"GET /x": {"requests": 1000, "errors": 0, "p50_ms": 10 * d, "p95_ms": 20 * d}}
        for d in drift
    ]
    cand = [
        {
            "GET /x": {
                "requests": 1000,
                "errors": 0,
                "p50_ms": 12 * d * (1 + rng.uniform(-0.03, 0.03)),
                "p95_ms": 24 * d,
            }
        }
        for d in drift
    ]

    paired = by_metric(compare(base, cand, paired=True))[("GET /x", "p50_ms")]
    unpaired = by_metric(compare(base, cand))[("GET /x", "p50_ms")]

    assert paired.status is Status.REGRESSED
    assert paired.effect.low <= 0.2 <= paired.effect.high
    assert paired.effect.high - paired.effect.low < 0.1
    assert unpaired.effect.high - unpaired.effect.low > 2 * (paired.effect.high - paired.effect.low)


def test_paired_noise_passes_and_unequal_counts_never_pass() -> None:
    rng = random.Random(22)
    base = trials(10, 20, n=8, seed=23)
    cand = [
        {
            "GET /x": {
                **t["GET /x"],
                "p50_ms": t["GET /x"]["p50_ms"] * (1 + rng.uniform(-0.05, 0.05)),
            }
        }
        for t in base
    ]

    assert verdict(compare(base, cand, paired=True))
    assert not verdict(compare(base, cand[:-1], paired=True))


def test_paired_interval_needs_six_pairs() -> None:
    assert paired_hodges_lehmann([1.0] * 5, [1.2] * 5).low == -math.inf
    assert paired_hodges_lehmann([1.0] * 6, [1.2] * 6).low == pytest.approx(0.2)


def with_cpu(trial_list: list, app_us: float, database_us: float, noise: float = 0.03) -> list:
    """`trial_list` with CPU µs per request on an Aggregated row (a copy of GET /x)."""
    rng = random.Random(app_us)
    return [
        {
            **t,
            "Aggregated": {
                **t["GET /x"],
                "app_cpu_us": app_us * (1 + rng.uniform(-noise, noise)),
                "database_cpu_us": database_us * (1 + rng.uniform(-noise, noise)),
            },
        }
        for t in trial_list
    ]


def test_twenty_percent_more_app_cpu_fails_even_when_latency_is_unchanged() -> None:
    latency = trials(10, 20, n=8, noise=0.0)
    base, cand = with_cpu(latency, 500, 150), with_cpu(latency, 600, 150)

    comparisons = by_metric(compare(base, cand, paired=True))

    assert comparisons[("Aggregated", "p95_ms")].status is Status.OK
    assert comparisons[("Aggregated", "database_cpu_us")].status is Status.OK
    app = comparisons[("Aggregated", "app_cpu_us")]
    assert app.status is Status.REGRESSED
    assert app.effect.low <= 0.2 <= app.effect.high
    assert not verdict(list(comparisons.values()))
    table = format_comparisons(list(comparisons.values()), paired=True)
    assert "app cpu" in table
    assert "db cpu" in table
    assert "CPU µs per request" in table


def test_cpu_noise_and_a_small_rise_pass() -> None:
    latency = trials(10, 20, n=8, noise=0.0)
    base = with_cpu(latency, 500, 150)

    assert verdict(compare(base, with_cpu(latency, 501, 151), paired=True))
    assert verdict(compare(base, with_cpu(latency, 500 * (1 + MIN_EFFECT / 2), 150), paired=True))


def test_a_baseline_without_cpu_figures_leaves_cpu_not_judged() -> None:
    latency = trials(10, 20, n=8, noise=0.0)
    old_record = [{**t, "Aggregated": t["GET /x"]} for t in latency]

    comparisons = by_metric(compare(old_record, with_cpu(latency, 900, 150)))

    assert comparisons[("Aggregated", "app_cpu_us")].status is Status.NOT_JUDGED
    assert verdict(list(comparisons.values()))


def test_cpu_figures_the_candidate_lost_never_pass() -> None:
    latency = trials(10, 20, n=8, noise=0.0)
    base = with_cpu(latency, 500, 150)
    cand = [{**t, "Aggregated": {**t["Aggregated"], "app_cpu_us": math.nan}} for t in base]
    without = [{**t, "Aggregated": t["GET /x"]} for t in latency]

    for lost in (cand, without):
        comparisons = by_metric(compare(base, lost, paired=True))
        assert comparisons[("Aggregated", "app_cpu_us")].status is Status.NO_DATA
        assert not verdict(list(comparisons.values()))


def test_the_aggregated_row_alone_is_not_a_judgement() -> None:
    # Every route under the floor, the Aggregated row (their sum) over it: the old rule
    # counted Aggregated and passed a doubled route it never judged.
    # The doubled route is one of many in the Aggregated row, which barely moves.
    aggregate = trials(10, 20, n=8, requests=900, seed=39)

    def with_aggregate(sparse: list) -> list:
        return [{**t, "Aggregated": a["GET /x"]} for t, a in zip(sparse, aggregate, strict=True)]

    base = with_aggregate(trials(10, 20, n=8, requests=90, seed=40))
    cand = with_aggregate(trials(20, 40, n=8, requests=90, seed=41))

    assert not verdict(compare(base, cand, paired=True))


def test_a_trial_without_the_route_is_not_judged_on_the_baselines_side_only() -> None:
    base, cand = trials(10, 20, seed=42), trials(10, 20, seed=43)
    del base[3]["GET /x"]
    errors = by_metric(compare(base, cand))[("GET /x", "errors")]
    assert errors.status is Status.NOT_JUDGED

    base, cand = trials(10, 20, seed=42), trials(10, 20, seed=43)
    del cand[3]["GET /x"]
    errors = by_metric(compare(base, cand))[("GET /x", "errors")]
    assert errors.status is Status.NO_DATA
