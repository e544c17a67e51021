"""Pure data preparation for reports: series over time, fault windows, comparisons.

Nothing here reads files or draws; callers pass parsed rows and get plain values back,
so each step is tested on small synthetic inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

AGGREGATED = "Aggregated"
PERCENTILE_COLUMNS = {"p50": "50%", "p95": "95%", "p99": "99%"}
NAN = math.nan


@dataclass(frozen=True)
class Series:
    """One endpoint's values over time; `t_s` is seconds from the series' origin."""

    name: str
    t_s: list[float] = field(default_factory=list)
    users: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    errors_per_s: list[float] = field(default_factory=list)
    percentiles_ms: dict[str, list[float]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.t_s)


@dataclass(frozen=True)
class Window:
    """A span with a fault on, in seconds from the same origin as the series it shades."""

    start_s: float
    end_s: float
    label: str


def _number(text: str | None) -> float:
    # Locust writes "N/A" for percentiles of an interval with no requests.
    try:
        return float(text) if text not in (None, "", "N/A") else NAN
    except ValueError:
        return NAN


def history_origin(rows: Sequence[Mapping[str, str]]) -> float | None:
    """The first timestamp of a Locust stats history, the zero of every time axis."""
    stamps = [_number(r.get("Timestamp")) for r in rows]
    stamps = [s for s in stamps if not math.isnan(s)]
    return min(stamps) if stamps else None


def history_series(rows: Sequence[Mapping[str, str]], name: str = AGGREGATED) -> Series:
    """One endpoint's rows of a `--csv-full-history` stats history, in time order."""
    origin = history_origin(rows)
    mine = sorted((r for r in rows if r.get("Name") == name), key=lambda r: _number(r["Timestamp"]))
    if origin is None or not mine:
        return Series(name)
    return Series(
        name,
        t_s=[_number(r["Timestamp"]) - origin for r in mine],
        users=[_number(r.get("User Count")) for r in mine],
        rps=[_number(r.get("Requests/s")) for r in mine],
        errors_per_s=[_number(r.get("Failures/s")) for r in mine],
        percentiles_ms={
            key: [_number(r.get(column)) for r in mine]
            for key, column in PERCENTILE_COLUMNS.items()
        },
    )


def endpoint_names(rows: Iterable[Mapping[str, str]]) -> list[str]:
    """Endpoints in a stats history, sorted, without the aggregated row."""
    return sorted({r["Name"] for r in rows if r.get("Name") and r["Name"] != AGGREGATED})


def fault_windows(events: Iterable[Mapping[str, Any]], origin: float, end_s: float) -> list[Window]:
    """On/off pairs of the chaos panel's fault log as windows; a fault never switched off
    lasts until `end_s`. Switching a fault on again while on continues its window."""
    opened: dict[tuple[str, str], float] = {}
    windows: list[Window] = []
    for event in sorted((e for e in events if e.get("event") == "fault"), key=lambda e: e["t"]):
        key = (event["link"], event["fault"])
        at_s = float(event["t"]) - origin
        if event["on"]:
            opened.setdefault(key, at_s)
        elif key in opened:
            windows.append(Window(opened.pop(key), at_s, f"{key[1]} on {key[0]}"))
    windows += [
        Window(start, end_s, f"{fault} on {link}") for (link, fault), start in opened.items()
    ]
    return sorted(windows, key=lambda w: (w.start_s, w.label))


def timeline(
    requests: Iterable[tuple[float, float, bool]], bucket_s: float = 0.5
) -> list[dict[str, float]]:
    """(finished_s, latency_ms, ok) records as buckets: count, errors, p50 and p99 of each.

    Buckets with no request are kept (count 0, percentiles NaN) so gaps show as gaps.
    """
    records = sorted(requests)
    if not records:
        return []
    last = int(records[-1][0] // bucket_s)
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(last + 1)]
    for finished_s, latency_ms, ok in records:
        buckets[int(max(finished_s, 0.0) // bucket_s)].append((latency_ms, ok))
    out = []
    for index, bucket in enumerate(buckets):
        latencies = np.array([latency for latency, _ in bucket], dtype=float)
        p50, p99 = np.percentile(latencies, [50, 99]) if bucket else (NAN, NAN)
        out.append(
            {
                "t_s": index * bucket_s,
                "requests": len(bucket),
                "errors": sum(1 for _, ok in bucket if not ok),
                "p50_ms": float(p50),
                "p99_ms": float(p99),
            }
        )
    return out


@dataclass(frozen=True)
class BaselineRow:
    endpoint: str
    metric: str
    baseline_ms: float
    current_ms: float

    @property
    def change(self) -> float:
        return self.current_ms / self.baseline_ms - 1 if self.baseline_ms else NAN


def baseline_rows(
    baseline: Mapping[str, Any], endpoints: Mapping[str, Mapping[str, float]]
) -> list[BaselineRow]:
    """This run's p50/p95 per endpoint against the median of the baseline's trials."""
    trials: Sequence[Mapping[str, Mapping[str, float]]] = baseline.get("trials", [])
    rows = []
    for endpoint in sorted(set(endpoints).intersection(*trials) if trials else ()):
        for metric in ("p50_ms", "p95_ms"):
            base = float(np.median([t[endpoint][metric] for t in trials]))
            rows.append(BaselineRow(endpoint, metric, base, float(endpoints[endpoint][metric])))
    return rows
