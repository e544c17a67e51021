"""Report data preparation on small synthetic stats histories and fault logs."""

from __future__ import annotations

import math

import pytest

from reports.data import (
    BaselineRow,
    Window,
    baseline_rows,
    endpoint_names,
    fault_windows,
    history_series,
    timeline,
)


def row(t: int, name: str, rps: float, p50: str, failures: float = 0.0) -> dict[str, str]:
    return {
        "Timestamp": str(t),
        "User Count": "5",
        "Name": name,
        "Requests/s": str(rps),
        "Failures/s": str(failures),
        "50%": p50,
        "95%": p50,
        "99%": p50,
    }


HISTORY = [
    row(1000, "Aggregated", 0.0, "N/A"),
    row(1002, "GET /a", 10.0, "12"),
    row(1002, "Aggregated", 12.0, "11", failures=1.0),
    row(1001, "Aggregated", 5.0, "9"),
    row(1001, "POST /b", 2.0, "20"),
]


def test_series_is_time_ordered_from_the_history_origin() -> None:
    series = history_series(HISTORY)

    assert series.t_s == [0.0, 1.0, 2.0]
    assert series.rps == [0.0, 5.0, 12.0]
    assert series.errors_per_s == [0.0, 0.0, 1.0]


def test_na_percentiles_become_nan_gaps() -> None:
    p50 = history_series(HISTORY).percentiles_ms["p50"]

    assert math.isnan(p50[0])
    assert p50[1:] == [9.0, 11.0]


def test_endpoint_series_shares_the_aggregated_origin() -> None:
    assert history_series(HISTORY, "GET /a").t_s == [2.0]


def test_empty_history_gives_an_empty_series() -> None:
    assert not history_series([])


def test_endpoint_names_leave_out_aggregated() -> None:
    assert endpoint_names(HISTORY) == ["GET /a", "POST /b"]


def fault(t: float, on: bool, name: str = "latency", link: str = "turso") -> dict:
    return {"t": t, "event": "fault", "fault": name, "link": link, "on": on, "params": {}}


def test_on_off_pairs_become_windows_relative_to_the_origin() -> None:
    events = [
        fault(105, True),
        fault(110, False),
        fault(107, True, "outage"),
        fault(109, False, "outage"),
    ]

    assert fault_windows(events, origin=100, end_s=60) == [
        Window(5, 10, "latency on turso"),
        Window(7, 9, "outage on turso"),
    ]


def test_a_fault_left_on_lasts_to_the_end() -> None:
    assert fault_windows([fault(120, True)], origin=100, end_s=60) == [
        Window(20, 60, "latency on turso")
    ]


def test_switching_on_again_continues_the_window() -> None:
    events = [fault(101, True), fault(103, True), fault(104, False)]

    assert fault_windows(events, origin=100, end_s=60) == [Window(1, 4, "latency on turso")]


def test_profile_events_are_not_fault_windows() -> None:
    events = [{"t": 102, "event": "profile", "link": "turso", "profile": "edge"}]

    assert fault_windows(events, origin=100, end_s=60) == []


def test_timeline_buckets_count_errors_and_keep_empty_gaps() -> None:
    buckets = timeline([(0.1, 10.0, True), (0.2, 30.0, False), (1.7, 5.0, True)], bucket_s=0.5)

    assert [b["requests"] for b in buckets] == [2, 0, 0, 1]
    assert [b["errors"] for b in buckets] == [1, 0, 0, 0]
    assert buckets[0]["p50_ms"] == pytest.approx(20.0)
    assert math.isnan(buckets[1]["p50_ms"])
    assert buckets[3]["t_s"] == pytest.approx(1.5)


def test_timeline_of_nothing_is_empty() -> None:
    assert timeline([]) == []


def test_baseline_rows_use_the_median_trial_and_shared_endpoints() -> None:
    trials = [{"GET /a": {"p50_ms": v, "p95_ms": 2 * v, "requests": 500}} for v in (10, 12, 30)]
    current = {"GET /a": {"p50_ms": 18.0, "p95_ms": 24.0}, "POST /new": {"p50_ms": 1, "p95_ms": 1}}

    rows = baseline_rows({"trials": trials}, current)

    assert rows == [
        BaselineRow("GET /a", "p50_ms", 12.0, 18.0),
        BaselineRow("GET /a", "p95_ms", 24.0, 24.0),
    ]
    assert rows[0].change == pytest.approx(0.5)


def test_no_baseline_trials_no_rows() -> None:
    assert baseline_rows({}, {"GET /a": {"p50_ms": 1.0, "p95_ms": 2.0}}) == []
