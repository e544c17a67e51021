"""The ablation rows and the real-network estimate, from synthetic figures."""

from __future__ import annotations

import pytest

from harness.app_counters import AppCounters
from harness.network import PROFILES, round_trip_ms
from harness.stats import LatencySummary
from stackbench.ablation import VARIANTS, AblationRow, format_ablation, not_simulated


def aggregated(p50_ms: float) -> LatencySummary:
    return LatencySummary(100, 0, 1.0, 100.0, p50_ms, p50_ms, p50_ms, 2 * p50_ms, 3 * p50_ms)


def test_each_feature_is_switched_off_alone() -> None:
    assert [v.env for v in VARIANTS] == [
        {},
        {"APP_CACHE_ENABLED": "false"},
        {"APP_BATCH_ENABLED": "false"},
        {},
    ]
    assert [v.mode for v in VARIANTS] == ["hardened"] * 3 + ["naive"]


def test_profiles_round_trip_is_both_directions() -> None:
    assert round_trip_ms(PROFILES["edge"]) == 10
    assert round_trip_ms(PROFILES["cross-region"]) == 90
    assert round_trip_ms(PROFILES["local"]) == 0


def test_a_connect_per_request_adds_one_round_trip_to_the_estimate() -> None:
    naive = AblationRow.of("naive", aggregated(20.0), AppCounters(requests=100, connects=100))
    shared = AblationRow.of(
        "hardened", aggregated(10.0), AppCounters(requests=100, connects=1, cache_hits=60)
    )

    line = not_simulated([shared, naive], rtt_ms=90.0)

    assert naive.real_network_p50_ms(90.0) == pytest.approx(110.0)
    assert "naive 110.0 ms (+90.0)" in line
    assert "hardened 10.9 ms (+0.9)" in line
    assert "TCP handshake" in line


def test_without_a_known_round_trip_there_is_no_estimate() -> None:
    row = AblationRow.of("naive", aggregated(20.0), AppCounters(requests=10, connects=10))

    assert "no estimate" in not_simulated([row], rtt_ms=None)


def test_the_table_shows_cache_hits_and_connects() -> None:
    row = AblationRow.of(
        "hardened", aggregated(10.0), AppCounters(requests=10, cache_hits=3, cache_misses=1)
    )

    table = format_ablation("ablation (edge)", [row])

    assert "75%" in table
    assert "connects/req" in table
