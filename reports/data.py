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

from harness import hdr
from harness.hdr import AGGREGATED

PERCENTILES = ("p50", "p95", "p99")
NAN = math.nan


@dataclass(frozen=True)
class Series:
    """One endpoint's values over time; `t_s` is seconds from the series' origin."""

    name: str
    t_s: list[float] = field(default_factory=list)
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


def interval_series(exact: Mapping[str, Any], name: str | None = None) -> Series:
    """One endpoint's figures per interval (all endpoints' when `name` is None), from the
    recorder's exact per-interval histograms in exact.json.

    `t_s` is each interval's middle in seconds from the test's start; rates are per second
    of the interval that lies inside the test; an interval less than half inside it (the
    partial first and last ones) is dropped rather than drawn as a dip. Intervals with no
    request stay, as 0 requests/s and no latency.
    """
    started, interval_s = exact.get("started_s"), float(exact.get("interval_s") or 1.0)
    intervals: Mapping[str, Mapping[str, Any]] = exact.get("intervals") or {}
    merged: dict[int, hdr.Series] = {}
    for key in [name] if name else list(intervals):
        for index, encoded in intervals.get(key, {}).items():
            merged.setdefault(int(index), hdr.Series()).add_encoded(encoded)
    label = name or AGGREGATED
    if started is None or not merged:
        return Series(label)
    # The load ends when users stop starting requests; in-flight ones finish after it.
    end = float(
        exact.get("load_ended_s") or exact.get("stopped_s") or (max(merged) + 1) * interval_s
    )
    first = min(min(merged), int(started // interval_s))
    last = max(max(merged), int(end // interval_s))
    out = Series(label, percentiles_ms={key: [] for key in PERCENTILES})
    for index in range(first, last + 1):
        low, high = max(index * interval_s, started), min((index + 1) * interval_s, end)
        if high - low < interval_s / 2:
            continue
        one = merged.get(index) or hdr.Series()
        ok = one.histogram.get_total_count()
        out.t_s.append((low + high) / 2 - started)
        out.rps.append((ok + one.errors) / (high - low))
        out.errors_per_s.append(one.errors / (high - low))
        for key, values in out.percentiles_ms.items():
            at = one.histogram.get_value_at_percentile(float(key[1:])) / 1000 if ok else NAN
            values.append(at)
    return out


def interval_endpoints(exact: Mapping[str, Any]) -> list[str]:
    """The endpoints ("METHOD name") in exact.json's per-interval histograms, sorted."""
    return sorted(exact.get("intervals") or {})


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
    """(finished_s, latency_ms, ok) records as buckets by each request's start: count,
    errors, p50 and p99 of each.

    Buckets with no request are kept (count 0, percentiles NaN) so gaps show as gaps; the
    last bucket is dropped when the last request started in its first half, so a partial
    bucket does not look like throughput falling to nothing.
    """
    records = sorted((max(f - ms / 1000, 0.0), ms, ok) for f, ms, ok in requests)
    if not records:
        return []
    end_s = records[-1][0]
    last = int(end_s // bucket_s)
    buckets: list[list[tuple[float, bool]]] = [[] for _ in range(last + 1)]
    for started_s, latency_ms, ok in records:
        buckets[int(started_s // bucket_s)].append((latency_ms, ok))
    if len(buckets) > 1 and end_s - last * bucket_s < bucket_s / 2:
        buckets.pop()
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


def _server(record: Mapping[str, Any]) -> str:
    """The database server a record ran on; the oldest records said only "localturso"."""
    database = record.get("database")
    if isinstance(database, Mapping):
        return str(database.get("server", "not recorded"))
    return str(database) if database else "not recorded"


def _transport(record: Mapping[str, Any]) -> str | None:
    """How the app reached the database: the record's own `transport` (the gate's baseline
    file), else its database's; None before the transport was a setting."""
    database = record.get("database")
    recorded = database.get("transport") if isinstance(database, Mapping) else None
    return record.get("transport") or recorded


def baseline_differences(baseline: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    """Why a run (one mode's summary.json body) cannot be held against the baseline: each
    of workload, users, profile, database server, transport and machine that differs, in words.
    Empty when the two are comparable."""
    load, settings = baseline.get("load", {}), run.get("settings", {})
    pairs = {
        "workload": (load.get("workload"), settings.get("workload")),
        "users": (load.get("users"), settings.get("users")),
        "profile": (
            baseline.get("profile", {}).get("name"),
            run.get("profile", {}).get("name"),
        ),
        "server": (_server(baseline), _server(run)),
        "transport": (_transport(baseline), _transport(run)),
        "machine": (
            (baseline.get("platform"), baseline.get("cpu_count")),
            (run.get("platform"), run.get("cpu_count")),
        ),
    }
    return [
        f"{what}: baseline {_said(base)}, this run {_said(this)}"
        for what, (base, this) in pairs.items()
        if base != this or base is None
    ]


def _said(value: Any) -> str:
    if value is None or value == (None, None):
        return "not recorded"
    if isinstance(value, tuple):
        return f"{value[0]} with {value[1]} CPUs"
    return str(value)


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
