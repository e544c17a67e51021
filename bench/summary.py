"""Per-endpoint results from the recorder's HDR histograms (pure), and their writers."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from harness.cpu import Sample, cpu_in_window, per_request
from harness.stats import ENDPOINT_COLUMNS, PERCENTILES, LatencySummary, format_table
from loadtests.hdr import new_histogram

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


def trial_figures(rows: Mapping[str, LatencySummary]) -> dict[str, dict[str, float]]:
    """What the gate keeps of one trial: per endpoint, its request and error counts, and
    the p50 and p95 of its successful requests."""
    return {
        name: {
            "requests": row.requests,
            "errors": row.errors,
            "p50_ms": row.p50_ms,
            "p95_ms": row.p95_ms,
        }
        for name, row in rows.items()
    }


def generator_cpu(cpu_s: float, wall_s: float, cpu_count: int) -> dict[str, float]:
    """The load generator's CPU: cores busy on average, and as a share of the machine."""
    cores = cpu_s / wall_s if wall_s > 0 else 0.0
    return {"cpu_s": cpu_s, "wall_s": wall_s, "cores": cores, "machine_share": cores / cpu_count}


def window_cpu(
    exact: Mapping[str, Any], samples: list[Sample], requests: int
) -> dict[str, dict[str, float]]:
    """CPU per request of each sampled process over Locust's measured window (empty if unknown)."""
    if "started_s" not in exact or not samples:
        return {}
    cpu_s = cpu_in_window(samples, float(exact["started_s"]), float(exact["stopped_s"]))
    return per_request(cpu_s, requests)


def format_summary_table(title: str, rows: Mapping[str, LatencySummary]) -> str:
    lines = [
        format_table(rows, title, ENDPOINT_COLUMNS),
        "(latencies in ms of successful requests, from exact HDR histograms)",
    ]
    censored = sum(s.censored for name, s in rows.items() if name != AGGREGATED)
    if censored:
        lines.append(
            f"({censored} requests still in flight at the end are counted, censored: in the"
            " percentiles at their time so far, a lower bound)"
        )
    return "\n".join(lines)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
