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
    """One endpoint's successful latencies (in µs) and its failure count."""

    histogram: HdrHistogram = field(default_factory=new_histogram)
    errors: int = 0

    def record(self, response_time_ms: float, failed: bool) -> None:
        if failed:
            self.errors += 1
        else:
            self.histogram.record_value(max(LOWEST_US, round(response_time_ms * 1000)))

    def encode(self) -> dict[str, Any]:
        return {"histogram": self.histogram.encode().decode(), "errors": self.errors}

    def add_encoded(self, data: dict[str, Any]) -> None:
        self.histogram.decode_and_add(data["histogram"])
        self.errors += int(data["errors"])


class Recorder:
    """Per-endpoint Series keyed "METHOD name", with the run's start and stop times."""

    def __init__(self) -> None:
        self.series: dict[str, Series] = {}
        self.started_s: float | None = None
        self.stopped_s: float | None = None

    def record(self, request_type: str, name: str, response_time_ms: float, failed: bool) -> None:
        self.series.setdefault(f"{request_type} {name}", Series()).record(response_time_ms, failed)

    def drain(self) -> dict[str, dict[str, Any]]:
        """Everything recorded since the last drain, encoded; the histograms start over."""
        encoded = {key: series.encode() for key, series in self.series.items()}
        self.series = {}
        return encoded

    def merge(self, encoded: dict[str, dict[str, Any]]) -> None:
        for key, data in encoded.items():
            self.series.setdefault(key, Series()).add_encoded(data)

    def as_json(self) -> dict[str, Any]:
        stopped_s = self.stopped_s or time.time()
        started_s = self.started_s or stopped_s
        # Wall-clock bounds too, so CPU counters sampled elsewhere can be cut to this window.
        return {
            "duration_s": stopped_s - started_s,
            "started_s": started_s,
            "stopped_s": stopped_s,
            "endpoints": self.drain(),
        }
