"""Pure latency statistics from exact samples; writers and printers live elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class LatencySummary:
    """What a benchmark reports for one endpoint or operation."""

    requests: int
    errors: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    censored: int = 0  # in flight when the run stopped; in the percentiles at a lower bound

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "error_rate": self.error_rate}

    @classmethod
    def from_dict(cls, data: dict[str, float | int]) -> LatencySummary:
        """The inverse of as_dict."""
        return cls(**{k: v for k, v in data.items() if k != "error_rate"})  # type: ignore[arg-type]


def summarize(latencies_s: Sequence[float], errors: int, duration_s: float) -> LatencySummary:
    """Percentiles from every successful request's latency (not Locust's rounded buckets)."""
    requests = len(latencies_s) + errors
    if not latencies_s:
        nan = float("nan")
        return LatencySummary(requests, errors, duration_s, 0.0, nan, nan, nan, nan, nan)
    ms = np.asarray(latencies_s, dtype=float) * 1000.0
    p50, p90, p95, p99 = (float(v) for v in np.percentile(ms, PERCENTILES))
    rps = len(latencies_s) / duration_s if duration_s > 0 else 0.0
    return LatencySummary(requests, errors, duration_s, rps, p50, p90, p95, p99, float(ms.max()))


def summaries_as_dict(rows: dict[str, LatencySummary]) -> dict[str, dict[str, float | int]]:
    """Named summaries as plain data, for JSON."""
    return {name: summary.as_dict() for name, summary in rows.items()}


@dataclass(frozen=True)
class Column:
    """One column of a summary table: header, width (None: as wide as it comes), value."""

    header: str
    width: int | None
    value: Callable[[LatencySummary], float | int]
    spec: str = ""  # how the value is formatted, e.g. ".1f"
    align: str = ">"

    @property
    def heading(self) -> str:
        return format(self.header, f"{self.align}{self.width or ''}")

    def cell(self, summary: LatencySummary) -> str:
        return format(self.value(summary), f"{self.align}{self.width or ''}{self.spec}")


# The micro-benchmarks' table: throughput, median, tail, worst, errors.
MICRO_COLUMNS = (
    Column("req/s", 9, lambda s: s.rps, ".0f"),
    Column("p50 ms", 8, lambda s: s.p50_ms, ".2f"),
    Column("p99 ms", 8, lambda s: s.p99_ms, ".2f"),
    Column("max ms", 8, lambda s: s.max_ms, ".2f"),
    Column("errors", None, lambda s: s.errors, align="<"),
)
# A Locust run's table, per endpoint (latencies in ms).
ENDPOINT_COLUMNS = (
    Column("reqs", 7, lambda s: s.requests),
    Column("req/s", 7, lambda s: s.rps, ".1f"),
    Column("p50", 7, lambda s: s.p50_ms, ".1f"),
    Column("p90", 7, lambda s: s.p90_ms, ".1f"),
    Column("p95", 7, lambda s: s.p95_ms, ".1f"),
    Column("p99", 7, lambda s: s.p99_ms, ".1f"),
    Column("max", 8, lambda s: s.max_ms, ".1f"),
    Column("err%", 5, lambda s: 100 * s.error_rate, ".1f"),
)


def format_table(
    rows: Mapping[str, LatencySummary],
    title: str = "case",
    columns: Sequence[Column] = MICRO_COLUMNS,
) -> str:
    """A fixed-width table of summaries, one row per name; the one formatter for them all."""
    width = max([len(title), *(len(name) for name in rows)])
    header = f"{title:<{width}}" + "".join(f"  {c.heading}" for c in columns)
    lines = [header, "-" * len(header)]
    for name, summary in rows.items():
        cells = "".join(f"  {c.cell(summary)}" for c in columns)
        lines.append(f"{name:<{width}}{cells}")
    return "\n".join(lines)
