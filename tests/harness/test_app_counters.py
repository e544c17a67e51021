"""The app's counters read back from its own exposition text."""

from __future__ import annotations

import math

import pytest

from harness.app_counters import AppCounters, parse_counters
from reference_app.metrics import AppMetrics


def exposition() -> str:
    metrics = AppMetrics()
    for _ in range(8):
        metrics.observe_request("GET", "/posts/{id}", 200, 0.01)
    metrics.observe_request("GET", "/metrics", 200, 0.001)  # the harness looking: not load
    metrics.observe_request("GET", "/healthz", 200, 0.001)
    for hit in (True, True, True, False):
        metrics.observe_cache(hit)
    for _ in range(2):
        metrics.observe_db_call("execute", 0.002, "ok")
    for _ in range(4):
        metrics.observe_db_connect()
    for _ in range(3):
        metrics.observe_retry(TimeoutError(), 0.01)
    return metrics.render()[0].decode()


def test_counters_come_from_the_apps_own_metric_names() -> None:
    counters = parse_counters(exposition())

    assert counters == AppCounters(
        requests=8, cache_hits=3, cache_misses=1, round_trips=2, connects=4, retries=3
    )
    assert counters.cache_hit_rate == pytest.approx(0.75)
    assert counters.connects_per_request == pytest.approx(0.5)


def test_differences_and_missing_metrics() -> None:
    later = AppCounters(requests=10, connects=10)

    delta = later - AppCounters(requests=4, connects=1)

    assert delta.connects_per_request == pytest.approx(1.5)
    assert math.isnan(delta.cache_hit_rate)  # no lookups: no rate, not 0%
    assert parse_counters("") == AppCounters()
