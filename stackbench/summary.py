"""What a Locust run's summaries become: the gate's figures, CPU, ratios, tables and JSON.

The summaries themselves are read from the recorder's HDR histograms in harness.hdr.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.cpu import Sample, cpu_in_window, per_request
from harness.hdr import AGGREGATED
from harness.stats import ENDPOINT_COLUMNS, LatencySummary, format_table


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


def with_cpu(
    figures: Mapping[str, Mapping[str, float]], cpu_s: Mapping[str, float]
) -> dict[str, dict[str, float]]:
    """`figures` with, on its Aggregated row, each process's CPU µs per request of that row
    (`cpu_s`: the gate's metric name -> CPU seconds over the trial's window)."""
    out = {name: dict(row) for name, row in figures.items()}
    row = out.get(AGGREGATED)
    if row is None or not cpu_s:
        return out
    requests = row["requests"]
    for metric, seconds in cpu_s.items():
        row[metric] = 1e6 * seconds / requests if requests else math.nan
    return out


def generator_cpu(cpu_s: float, wall_s: float, cpu_count: int) -> dict[str, float]:
    """The load generator's CPU: cores busy on average, and as a share of the machine."""
    cores = cpu_s / wall_s if wall_s > 0 else 0.0
    return {"cpu_s": cpu_s, "wall_s": wall_s, "cores": cores, "machine_share": cores / cpu_count}


def cpu_s_in_window(exact: Mapping[str, Any], samples: list[Sample]) -> dict[str, float]:
    """CPU seconds of each sampled process over Locust's measured window (empty if unknown)."""
    if "started_s" not in exact or not samples:
        return {}
    return cpu_in_window(samples, float(exact["started_s"]), float(exact["stopped_s"]))


def window_cpu(
    exact: Mapping[str, Any], samples: list[Sample], requests: int
) -> dict[str, dict[str, float]]:
    """CPU per request of each sampled process over Locust's measured window (empty if unknown)."""
    return per_request(cpu_s_in_window(exact, samples), requests)


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
