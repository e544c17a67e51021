"""Where a speed-up comes from: the app with one feature off at a time, and what our
network model leaves out (pure: figures in, text out).

`make bench COMPARE=naive` runs every variant below on its own stack under the same load;
each row carries the app's own counts (cache hit rate, database connects and round trips
per request), so a ratio that is mostly the read cache says so. Toxiproxy accepts TCP
connections locally, so a new database connection's TCP handshake costs no round trip
here while its TLS handshake and queries do; the estimate adds that round trip back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.app_counters import AppCounters
from harness.stats import LatencySummary


@dataclass(frozen=True)
class Variant:
    name: str
    slug: str  # its results directory
    mode: str  # APP_MODE
    env: Mapping[str, str] = field(default_factory=dict)


VARIANTS = (
    Variant("hardened", "hardened", "hardened"),
    Variant("hardened, no cache", "hardened-no-cache", "hardened", {"APP_CACHE_ENABLED": "false"}),
    Variant(
        "hardened, no batching", "hardened-no-batching", "hardened", {"APP_BATCH_ENABLED": "false"}
    ),
    Variant("naive (no shared client)", "naive", "naive"),
)
BY_MODE = {"hardened": VARIANTS[0], "naive": VARIANTS[3]}


@dataclass(frozen=True)
class AblationRow:
    variant: str
    rps: float
    p50_ms: float
    p99_ms: float
    cache_hit_rate: float
    connects_per_request: float
    round_trips_per_request: float

    @classmethod
    def of(cls, variant: str, aggregated: LatencySummary, counters: AppCounters) -> AblationRow:
        return cls(
            variant,
            aggregated.rps,
            aggregated.p50_ms,
            aggregated.p99_ms,
            counters.cache_hit_rate,
            counters.connects_per_request,
            counters.round_trips_per_request,
        )

    def real_network_p50_ms(self, rtt_ms: float) -> float:
        """p50 with the TCP handshake our proxy does not delay: +1 RTT per new connection."""
        return self.p50_ms + self.connects_per_request * rtt_ms


def _fmt(value: float, spec: str, suffix: str = "") -> str:
    return "n/a" if math.isnan(value) else f"{value:{spec}}{suffix}"


def format_ablation(title: str, rows: Sequence[AblationRow]) -> str:
    width = max([len(title), *(len(r.variant) for r in rows)])
    header = (
        f"{title:<{width}}  {'req/s':>7}  {'p50':>7}  {'p99':>7}  {'cache hits':>10}"
        f"  {'connects/req':>12}  {'round trips/req':>15}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        hit_rate = _fmt(100 * r.cache_hit_rate, ".0f", "%")
        lines.append(
            f"{r.variant:<{width}}  {r.rps:>7.1f}  {r.p50_ms:>7.1f}  {r.p99_ms:>7.1f}"
            f"  {hit_rate:>10}  {_fmt(r.connects_per_request, '.2f'):>12}"
            f"  {_fmt(r.round_trips_per_request, '.2f'):>15}"
        )
    lines.append("(all endpoints aggregated; latencies in ms; counts from the app's /metrics)")
    return "\n".join(lines)


def not_simulated(rows: Sequence[AblationRow], rtt_ms: float | None) -> str:
    """The line that says what the profile leaves out, with the estimate where we can make it."""
    head = "not simulated: TCP handshake, ≈1 RTT per new connection (Toxiproxy accepts locally)"
    if rtt_ms is None:
        return f"{head}; no estimate: the profile's round trip is not applied to this database"
    estimates = "; ".join(
        f"{r.variant} {_fmt(r.real_network_p50_ms(rtt_ms), '.1f')} ms"
        f" (+{_fmt(r.connects_per_request * rtt_ms, '.1f')})"
        for r in rows
    )
    return f"{head};\nestimated p50 on a real network (RTT {rtt_ms:.0f} ms): {estimates}"
