"""Pure latency statistics from exact samples; writers and printers live elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
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


def format_table(rows: dict[str, LatencySummary]) -> str:
    """A fixed-width table of summaries, one row per named case."""
    width = max([len("case"), *(len(name) for name in rows)])
    header = f"{'case':<{width}}  {'req/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'max ms':>8}  errors"
    lines = [header, "-" * len(header)]
    for name, s in rows.items():
        lines.append(
            f"{name:<{width}}  {s.rps:>9.0f}  {s.p50_ms:>8.2f}  {s.p99_ms:>8.2f}  "
            f"{s.max_ms:>8.2f}  {s.errors}"
        )
    return "\n".join(lines)
