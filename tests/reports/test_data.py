"""Report data preparation on small synthetic recordings and fault logs."""

from __future__ import annotations

import math

import pytest

from harness.hdr import Timeline
from reports.data import (
    BaselineRow,
    Window,
    baseline_differences,
    baseline_rows,
    fault_windows,
    interval_endpoints,
    interval_series,
    timeline,
)


def exact_of(records: list[tuple[str, float, float, bool]], started: float, stopped: float) -> dict:
    """exact.json as the recorder writes it, from (endpoint, finished_s, ms, failed)."""
    timeline = Timeline(interval_s=1.0)
    for key, finished_s, ms, failed in records:
        timeline.record(key, ms, failed, finished_s)
    return {
        "started_s": started,
        "stopped_s": stopped,
        "interval_s": 1.0,
        "intervals": timeline.drain(),
    }


# A test from t=100.0 to t=103.4: intervals [100, 101), [101, 102), [102, 103) and a
# partial [103, 103.4) that is left out.
EXACT = exact_of(
    [
        ("GET /a", 100.5, 10.0, False),
        ("GET /a", 100.6, 10.0, False),
        ("POST /b", 100.9, 30.0, True),
        ("GET /a", 102.5, 200.0, False),  # started at 102.3: a slow interval
        ("GET /a", 103.3, 10.0, False),  # in the partial last interval
    ],
    started=100.0,
    stopped=103.4,
)


def test_intervals_are_exact_per_second_from_the_test_start() -> None:
    series = interval_series(EXACT)

    assert series.t_s == [0.5, 1.5, 2.5]
    assert series.rps == [3.0, 0.0, 1.0]
    assert series.errors_per_s == [1.0, 0.0, 0.0]
    assert series.percentiles_ms["p50"][0] == pytest.approx(10.0, rel=1e-2)
    assert math.isnan(series.percentiles_ms["p50"][1])  # no request: a gap, not 0 ms
    assert series.percentiles_ms["p50"][2] == pytest.approx(200.0, rel=1e-2)


def test_a_request_counts_in_the_interval_it_started_in() -> None:
    # Finished at 101.2 after 500 ms: started at 100.7, in the first interval.
    exact = exact_of([("GET /a", 101.2, 500.0, False)], started=100.0, stopped=102.0)

    assert interval_series(exact).rps == [1.0, 0.0]


def test_a_partial_first_interval_counts_per_second_it_covers() -> None:
    # The test starts at 100.4: the first interval covers 0.6 s of it.
    exact = exact_of([("GET /a", 100.7, 1.0, False)] * 3, started=100.4, stopped=102.0)

    series = interval_series(exact)

    assert series.t_s == [pytest.approx(0.3), pytest.approx(1.1)]
    assert series.rps[0] == pytest.approx(5.0)


def test_one_endpoint_keeps_the_method_in_its_name() -> None:
    assert interval_endpoints(EXACT) == ["GET /a", "POST /b"]
    assert interval_series(EXACT, "POST /b").name == "POST /b"
    assert interval_series(EXACT, "POST /b").errors_per_s == [1.0, 0.0, 0.0]


def test_no_test_started_gives_an_empty_series() -> None:
    assert not interval_series({"started_s": None, "intervals": {}})
    assert not interval_series({})


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


def test_timeline_buckets_by_start_count_errors_and_keep_empty_gaps() -> None:
    records = [(0.11, 10.0, True), (0.23, 30.0, False), (1.905, 5.0, True)]

    buckets = timeline(records, bucket_s=0.5)

    assert [b["requests"] for b in buckets] == [2, 0, 0, 1]
    assert [b["errors"] for b in buckets] == [1, 0, 0, 0]
    assert buckets[0]["p50_ms"] == pytest.approx(20.0)
    assert math.isnan(buckets[1]["p50_ms"])
    assert buckets[3]["t_s"] == pytest.approx(1.5)


def test_timeline_drops_a_last_bucket_the_load_left_early() -> None:
    # The last request started at 1.6 s: only 0.1 s into the [1.5, 2.0) bucket.
    buckets = timeline([(0.2, 1.0, True), (1.0, 1.0, True), (1.601, 1.0, True)], bucket_s=0.5)

    assert [b["t_s"] for b in buckets] == [0.0, 0.5, 1.0]
    assert [b["requests"] for b in buckets] == [1, 1, 0]


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


BASELINE = {
    "load": {"workload": "ycsb-e", "users": 10},
    "profile": {"name": "edge"},
    "database": {"server": "localturso"},
    "transport": "ws",
    "platform": "Linux-x",
    "cpu_count": 2,
}
SAME_RUN = {
    "settings": {"workload": "ycsb-e", "users": 10},
    "profile": {"name": "edge"},
    "database": {"server": "localturso", "version": "localturso 0.1.0", "transport": "ws"},
    "platform": "Linux-x",
    "cpu_count": 2,
}


def test_a_run_under_the_baseline_conditions_is_comparable() -> None:
    assert baseline_differences(BASELINE, SAME_RUN) == []


def test_every_differing_condition_is_named() -> None:
    run = {
        **SAME_RUN,
        "settings": {"workload": "mixed", "users": 20},
        "database": "localturso",  # the older summary.json form
        "cpu_count": 8,
    }

    assert baseline_differences(BASELINE, run) == [
        "workload: baseline ycsb-e, this run mixed",
        "users: baseline 10, this run 20",
        "transport: baseline ws, this run not recorded",
        "machine: baseline Linux-x with 2 CPUs, this run Linux-x with 8 CPUs",
    ]


def test_a_baseline_over_another_transport_is_not_comparable() -> None:
    run = {**SAME_RUN, "database": {**SAME_RUN["database"], "transport": "http"}}

    assert baseline_differences(BASELINE, run) == ["transport: baseline ws, this run http"]


def test_a_condition_the_baseline_never_recorded_is_not_comparable() -> None:
    old = {k: v for k, v in BASELINE.items() if k not in ("profile", "database", "transport")}

    assert baseline_differences(old, SAME_RUN) == [
        "profile: baseline not recorded, this run edge",
        "server: baseline not recorded, this run localturso",
        "transport: baseline not recorded, this run ws",
    ]


def test_the_series_ends_when_users_stop_starting_requests() -> None:
    # Users stop starting requests at 102.6; the test stops at 104 once in-flight ones end.
    records = [("GET /a", 101.5, 1.0, False)] * 2 + [("GET /a", 102.4, 1.0, False)] * 3
    exact = {**exact_of(records, started=100.0, stopped=104.0), "load_ended_s": 102.6}

    series = interval_series(exact)

    assert series.t_s == [0.5, 1.5, pytest.approx(2.3)]
    assert series.rps[-1] == pytest.approx(5.0)  # 3 requests in the 0.6 s it covers
