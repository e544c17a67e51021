"""Comparisons in words: direction, size and cause, with ratios where > 1 is better."""

from __future__ import annotations

import math

import pytest

from reports.compare import Side, advantage, causes, cpu_cause, headline

HARDENED = Side("hardened", rps=170.0, p50_ms=2.0, p95_ms=10.0, p99_ms=20.0)
NAIVE = Side("naive", rps=100.0, p50_ms=8.4, p95_ms=30.0, p99_ms=62.0)


def test_the_headline_names_the_winner_and_says_lower_latency_in_words() -> None:
    expected = "hardened serves 1.7x the requests/s of naive, at 4.2x lower p50 and 3.1x lower p99"

    assert headline(HARDENED, NAIVE) == expected
    assert headline(NAIVE, HARDENED) == expected  # the order asked in does not matter


def test_a_faster_but_slower_side_says_higher_latency() -> None:
    busy = Side("a", rps=200.0, p50_ms=10.0, p95_ms=1.0, p99_ms=30.0)
    quick = Side("b", rps=100.0, p50_ms=5.0, p95_ms=1.0, p99_ms=31.0)

    assert headline(busy, quick) == (
        "a serves 2.0x the requests/s of b, at 2.0x higher p50 and about the same p99"
    )


def test_equal_throughput_is_said_and_latency_decides() -> None:
    a = Side("a", rps=100.0, p50_ms=3.0, p95_ms=1.0, p99_ms=9.0)
    b = Side("b", rps=102.0, p50_ms=6.0, p95_ms=1.0, p99_ms=9.0)

    assert headline(a, b) == (
        "a and b serve about the same requests/s; a has 2.0x lower p50 and about the same p99"
    )


def test_advantage_is_above_one_where_the_side_is_better() -> None:
    mine = {"GET /x": {"rps": 20.0, "p50_ms": 5.0, "p95_ms": 10.0, "p99_ms": 40.0}}
    theirs = {"GET /x": {"rps": 10.0, "p50_ms": 20.0, "p95_ms": 10.0, "p99_ms": 20.0}}

    assert advantage(mine, theirs) == {"GET /x": {"rps": 2.0, "p50": 4.0, "p95": 1.0, "p99": 0.5}}


def test_a_zero_denominator_is_no_ratio() -> None:
    row = {"rps": 0.0, "p50_ms": 0.0, "p95_ms": 1.0, "p99_ms": 1.0}

    assert math.isnan(advantage({"x": row}, {"x": row})["x"]["rps"])


def ablation_row(variant: str, rps: float, hits: float, connects: float) -> dict:
    return {
        "variant": variant,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 1.0,
        "cache_hit_rate": hits,
        "connects_per_request": connects,
        "round_trips_per_request": 1.0,
    }


def test_causes_say_what_each_part_is_worth_and_what_naive_costs() -> None:
    ablation = [
        ablation_row("hardened", 300.0, 0.62, 0.0),
        ablation_row("hardened, no cache", 150.0, math.nan, 0.0),
        ablation_row("hardened, no batching", 290.0, 0.6, 0.0),
        ablation_row("naive (no shared client)", 100.0, math.nan, 1.0),
    ]

    assert causes(ablation, tls=True) == [
        "the read cache: hardened serves 2.0x the requests/s it serves without it"
        " (62% of cacheable reads hit)",
        "the write batching: hardened serves 1.0x the requests/s it serves without it",
        "a new database client per request: naive opens 1.00 connections per request"
        " (hardened 0.00), each with a TCP and a TLS handshake",
    ]


@pytest.mark.parametrize("ablation", [[], [ablation_row("naive", 1.0, 0.0, 1.0)]])
def test_no_full_hardened_row_no_causes(ablation: list[dict]) -> None:
    assert causes(ablation, tls=False) == []


def test_cpu_per_request_says_what_the_naive_pattern_costs() -> None:
    hardened = {"app": {"us_per_request": 1379.0}, "database": {"us_per_request": 701.0}}
    naive = {"app": {"us_per_request": 2891.0}, "database": {"us_per_request": 1796.0}}

    assert cpu_cause("hardened", "naive", hardened, naive, tls=True) == (
        "per request naive costs 2.1x the app's CPU (2891 against 1379 µs) and 2.6x the"
        " database's CPU (1796 against 701 µs): it opens a new database client, with a TCP"
        " and a TLS handshake, for every request"
    )
    assert cpu_cause("hardened", "naive", {}, naive, tls=True) is None
