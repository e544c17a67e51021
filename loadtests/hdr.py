"""HDR histograms per endpoint (pure, free of Locust so summaries and tests can import it)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

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
