"""Exact percentiles: three significant digits, and histograms that merge across workers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from harness.hdr import Recorder, Series, Timeline, endpoint_summaries


def test_percentiles_keep_three_significant_digits() -> None:
    rng = random.Random(4)
    samples_ms = [rng.lognormvariate(3, 0.5) for _ in range(20_000)]
    recorder = Recorder()
    for ms in samples_ms:
        recorder.record("GET", "/x", ms, failed=False)

    rows = endpoint_summaries({"duration_s": 10.0, "endpoints": recorder.drain()})

    exact = np.percentile(samples_ms, [50, 99])
    assert rows["GET /x"].p50_ms == pytest.approx(exact[0], rel=2e-3)
    assert rows["GET /x"].p99_ms == pytest.approx(exact[1], rel=2e-3)
    assert rows["GET /x"].rps == pytest.approx(2000.0)


def test_worker_reports_merge_into_one_distribution() -> None:
    master, worker_a, worker_b = Recorder(), Recorder(), Recorder()
    for ms in range(1, 101):
        (worker_a if ms % 2 else worker_b).record("GET", "/x", float(ms), failed=False)
    worker_b.record("GET", "/x", 5000.0, failed=True)

    master.merge(worker_a.drain())
    master.merge(worker_b.drain())
    rows = endpoint_summaries({"duration_s": 1.0, "endpoints": master.drain()})

    assert rows["GET /x"].requests == 101
    assert rows["GET /x"].errors == 1
    assert rows["GET /x"].p50_ms == pytest.approx(50.0, rel=2e-3)
    assert rows["GET /x"].max_ms == pytest.approx(100.0, rel=2e-3)  # failures are not timed


def test_drain_starts_over_and_aggregates_every_endpoint() -> None:
    recorder = Recorder()
    recorder.record("GET", "/a", 10.0, failed=False)
    recorder.record("POST", "/b", 30.0, failed=False)

    rows = endpoint_summaries({"duration_s": 1.0, "endpoints": recorder.drain()})

    assert set(rows) == {"GET /a", "POST /b", "Aggregated"}
    assert rows["Aggregated"].requests == 2
    assert recorder.drain() == {}


def _counts(drained: dict) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for key, intervals in drained.items():
        for index, encoded in intervals.items():
            series = Series()
            series.add_encoded(encoded)
            out[key, index] = (series.histogram.get_total_count(), series.errors)
    return out


def test_timeline_keeps_a_late_request_in_the_interval_it_started_in() -> None:
    timeline = Timeline(interval_s=1.0)
    for second in range(10):  # old intervals get encoded as newer ones arrive
        timeline.record("GET /x", 10.0, False, 100.5 + second)
    timeline.record("GET /x", 9000.0, True, 109.2)  # started at 100.2, ended 9 s later

    counts = _counts(timeline.drain())

    assert counts["GET /x", "100"] == (1, 1)
    assert counts["GET /x", "109"] == (1, 0)
    assert len(counts) == 10


def test_timelines_from_workers_merge_interval_by_interval() -> None:
    master, worker_a, worker_b = Timeline(), Timeline(), Timeline()
    worker_a.record("GET /x", 5.0, False, 50.4)
    worker_b.record("GET /x", 5.0, False, 50.9)
    worker_b.record("POST /y", 5.0, True, 51.5)

    master.merge(worker_a.drain())
    master.merge(worker_b.drain())

    assert _counts(master.drain()) == {("GET /x", "50"): (2, 0), ("POST /y", "51"): (0, 1)}
    assert worker_a.drain() == {}
