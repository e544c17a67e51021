"""What the reference app counted, read from its Prometheus /metrics: API requests, read-cache
lookups, database round trips, new database connections and retries. Parsing is pure; the
one reader of the app's counters for bench, chaos and the coordinated-omission run."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import httpx
from prometheus_client.parser import text_string_to_metric_families

from harness.processes import default_tls

# Routes that are the harness looking at the app, not load on it.
NOT_LOAD = frozenset({"/metrics", "/healthz", "/readyz"})


@dataclass(frozen=True)
class AppCounters:
    requests: float = 0.0
    cache_hits: float = 0.0
    cache_misses: float = 0.0
    round_trips: float = 0.0
    connects: float = 0.0
    retries: float = 0.0

    def __sub__(self, earlier: AppCounters) -> AppCounters:
        return AppCounters(
            *(getattr(self, f.name) - getattr(earlier, f.name) for f in fields(self))
        )

    @property
    def cache_hit_rate(self) -> float:
        lookups = self.cache_hits + self.cache_misses
        return self.cache_hits / lookups if lookups else math.nan

    @property
    def connects_per_request(self) -> float:
        return self.connects / self.requests if self.requests else math.nan

    @property
    def round_trips_per_request(self) -> float:
        return self.round_trips / self.requests if self.requests else math.nan

    def as_dict(self) -> dict[str, float]:
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "cache_hit_rate": self.cache_hit_rate,
            "connects_per_request": self.connects_per_request,
            "round_trips_per_request": self.round_trips_per_request,
        }


def parse_counters(metrics_text: str) -> AppCounters:
    """The counters from an exposition text; a metric the app does not export counts 0."""
    totals = {f.name: 0.0 for f in fields(AppCounters)}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if family.name == "app_http_request_duration_seconds":
                if sample.name.endswith("_count") and sample.labels.get("route") not in NOT_LOAD:
                    totals["requests"] += sample.value
            elif family.name == "app_post_cache_lookups" and sample.name.endswith("_total"):
                key = "cache_hits" if sample.labels.get("result") == "hit" else "cache_misses"
                totals[key] += sample.value
            elif family.name == "app_db_call_duration_seconds" and sample.name.endswith("_count"):
                totals["round_trips"] += sample.value
            elif family.name == "app_db_connections_opened" and sample.name.endswith("_total"):
                totals["connects"] += sample.value
            elif family.name == "app_db_retries" and sample.name.endswith("_total"):
                totals["retries"] += sample.value
    return AppCounters(**totals)


def read_counters(app_url: str) -> AppCounters:
    """The app's counters now (straight to the app, around any proxy)."""
    response = httpx.get(f"{app_url}/metrics", timeout=10.0, verify=default_tls())
    response.raise_for_status()
    return parse_counters(response.text)
