"""Exact latencies: HDR histograms per endpoint, recorded and summarised in one place (pure).

`Recorder` and `Timeline` keep them (loadtests/recorder.py feeds them from Locust's request
events and ships each worker's to the master); `endpoint_summaries` reads a run's
percentiles back. Free of Locust, so summaries, reports and tests can import it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.stats import PERCENTILES, LatencySummary

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # an hour: nothing a bounded run can exceed
SIGNIFICANT_DIGITS = 3  # Locust's own statistics keep about two


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


@dataclass
class Series:
    """One endpoint's latencies (in µs) and its failure count.

    The histogram holds successful requests and, at their lower bound, censored ones:
    requests still in flight when the run stopped, timed until the stop. Failures are
    counted, not timed.
    """

    histogram: HdrHistogram = field(default_factory=new_histogram)
    errors: int = 0
    censored: int = 0

    def record(self, response_time_ms: float, failed: bool, censored: bool = False) -> None:
        if censored:
            self.censored += 1
        elif failed:
            self.errors += 1
            return
        self.histogram.record_value(max(LOWEST_US, round(response_time_ms * 1000)))

    def encode(self) -> dict[str, Any]:
        return {
            "histogram": self.histogram.encode().decode(),
            "errors": self.errors,
            "censored": self.censored,
        }

    def add_encoded(self, data: dict[str, Any]) -> None:
        self.histogram.decode_and_add(data["histogram"])
        self.errors += int(data["errors"])
        self.censored += int(data.get("censored", 0))


View = dict[str, Series]


def _drain(view: View) -> dict[str, dict[str, Any]]:
    return {key: series.encode() for key, series in view.items()}


def _merge(view: View, encoded: dict[str, dict[str, Any]]) -> None:
    for key, data in encoded.items():
        view.setdefault(key, Series()).add_encoded(data)


class Recorder:
    """Per-endpoint Series keyed "METHOD name", with the run's start and stop times.

    Two views, never summed: `series`, what callers experienced (every request once; the
    aggregate is taken over it), and `service`, the server's service time of open-model
    requests, whose caller-side latency is in `series`.
    """

    def __init__(self) -> None:
        self.series: View = {}
        self.service: View = {}
        self.started_s: float | None = None
        self.stopped_s: float | None = None

    def record(
        self,
        request_type: str,
        name: str,
        response_time_ms: float,
        failed: bool,
        censored: bool = False,
    ) -> None:
        series = self.series.setdefault(f"{request_type} {name}", Series())
        series.record(response_time_ms, failed, censored)

    def record_service(
        self, request_type: str, name: str, response_time_ms: float, failed: bool
    ) -> None:
        self.service.setdefault(f"{request_type} {name}", Series()).record(response_time_ms, failed)

    def drain(self) -> dict[str, dict[str, Any]]:
        """The caller view recorded since the last drain, encoded; it starts over."""
        encoded, self.series = _drain(self.series), {}
        return encoded

    def drain_service(self) -> dict[str, dict[str, Any]]:
        encoded, self.service = _drain(self.service), {}
        return encoded

    def merge(self, encoded: dict[str, dict[str, Any]]) -> None:
        _merge(self.series, encoded)

    def merge_service(self, encoded: dict[str, dict[str, Any]]) -> None:
        _merge(self.service, encoded)

    def as_json(self) -> dict[str, Any]:
        stopped_s = self.stopped_s or time.time()
        started_s = self.started_s or stopped_s
        # Wall-clock bounds too, so CPU counters sampled elsewhere can be cut to this window.
        return {
            "duration_s": stopped_s - started_s,
            "started_s": started_s,
            "stopped_s": stopped_s,
            "endpoints": self.drain(),
            "service_time": self.drain_service(),
        }


INTERVAL_S = 1.0
# Intervals this far behind the newest are encoded (a few hundred bytes instead of a live
# histogram's ~190 KB), so an hour's run stays small; a request that started back then
# and finishes late still lands in its own interval.
OPEN_INTERVALS = 3

Encoded = dict[str, Any]


class Timeline:
    """Per-endpoint HDR histograms per interval, by when each request *started*.

    Bucketing by start time puts a request in the interval its conditions (a fault on or
    off) applied to; interval keys are epoch-aligned (start // interval_s), so workers'
    timelines merge key by key.
    """

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.load_ended_s: float | None = None  # when users stopped starting requests
        self._open: dict[tuple[str, int], Series] = {}
        self._closed: dict[tuple[str, int], list[Encoded]] = {}
        self._newest = 0

    def record(self, key: str, response_time_ms: float, failed: bool, finished_s: float) -> None:
        index = int((finished_s - response_time_ms / 1000) // self.interval_s)
        self._open.setdefault((key, index), Series()).record(response_time_ms, failed)
        if index > self._newest:
            self._newest = index
            for old in [k for k in self._open if k[1] < index - OPEN_INTERVALS]:
                self._closed.setdefault(old, []).append(self._open.pop(old).encode())

    def drain(self) -> dict[str, dict[str, Encoded]]:
        """{endpoint: {interval index: encoded series}} since the last drain; starts over."""
        out: dict[str, dict[str, Encoded]] = {}
        for key, index in sorted({*self._open, *self._closed}):
            merged = self._open.get((key, index)) or Series()
            for encoded in self._closed.get((key, index), []):
                merged.add_encoded(encoded)
            out.setdefault(key, {})[str(index)] = merged.encode()
        self._open, self._closed = {}, {}
        return out

    def merge(self, drained: dict[str, dict[str, Encoded]]) -> None:
        for key, intervals in drained.items():
            for index, encoded in intervals.items():
                self._closed.setdefault((key, int(index)), []).append(encoded)


AGGREGATED = "Aggregated"


def decode(encoded: Mapping[str, Any]) -> tuple[HdrHistogram, int, int]:
    """One endpoint's histogram, error count and censored count, as the recorder wrote them."""
    histogram = new_histogram()
    histogram.decode_and_add(encoded["histogram"])
    return histogram, int(encoded["errors"]), int(encoded.get("censored", 0))


def summarize_histogram(
    histogram: HdrHistogram, errors: int, duration_s: float, censored: int = 0
) -> LatencySummary:
    """Percentiles over the histogram (successes, and censored requests at their lower
    bound); req/s counts completed successes only."""
    timed = histogram.get_total_count()
    if timed == 0:
        nan = math.nan
        return LatencySummary(errors, errors, duration_s, 0.0, nan, nan, nan, nan, nan, censored)
    p50, p90, p95, p99 = (histogram.get_value_at_percentile(p) / 1000 for p in PERCENTILES)
    rps = (timed - censored) / duration_s if duration_s > 0 else 0.0
    max_ms = histogram.get_max_value() / 1000
    return LatencySummary(
        timed + errors, errors, duration_s, rps, p50, p90, p95, p99, max_ms, censored
    )


def view_summaries(encoded_view: Mapping[str, Any], duration_s: float) -> dict[str, LatencySummary]:
    """Every endpoint's summary plus an aggregated row over all of them, for one view."""
    total, total_errors, total_censored = new_histogram(), 0, 0
    rows: dict[str, LatencySummary] = {}
    for name, encoded in sorted(encoded_view.items()):
        histogram, errors, censored = decode(encoded)
        rows[name] = summarize_histogram(histogram, errors, duration_s, censored)
        total.add(histogram)
        total_errors += errors
        total_censored += censored
    rows[AGGREGATED] = summarize_histogram(total, total_errors, duration_s, total_censored)
    return rows


def endpoint_summaries(exact: Mapping[str, Any]) -> dict[str, LatencySummary]:
    """What callers experienced: every request once (open-model requests from when they
    were due), per endpoint and aggregated."""
    return view_summaries(exact["endpoints"], float(exact["duration_s"]))


def service_time_summaries(exact: Mapping[str, Any]) -> dict[str, LatencySummary]:
    """The service time of open-model requests: a separate view, never summed with the
    caller view (the same requests are there from their intended start). Empty without."""
    view = exact.get("service_time") or {}
    return view_summaries(view, float(exact["duration_s"])) if view else {}


def side_exact(exact: Mapping[str, Any], side: str) -> dict[str, Any]:
    """One side of an A/B run (requests named "[A] ..." / "[B] ...") as a run of its own."""
    prefix = f"[{side}] "
    endpoints = {}
    for key, encoded in exact["endpoints"].items():
        method, _, name = key.partition(" ")
        if name.startswith(prefix):
            endpoints[f"{method} {name.removeprefix(prefix)}"] = encoded
    return {"duration_s": exact["duration_s"], "endpoints": endpoints}
