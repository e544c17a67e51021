"""Prometheus metrics, in a registry of the app's own so two apps in one test never collide.

Under several workers each process counts its own; with PROMETHEUS_MULTIPROC_DIR set
(prometheus_client's multiprocess mode, which the harness sets for workers > 1) every
process writes its values there and a scrape, whichever worker answers it, sums them all.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from reference_app.resilience.breaker import BreakerState

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500)
# Every name starts `app_` (e.g. app_db_retries_total), which harness.app_counters reads.
NAMESPACE = "app"


class AppMetrics:
    """Every metric the app exports; the methods are the observers wired into the policies."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self._multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS_S,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_call_seconds = Histogram(
            "db_call_duration_seconds",
            "Latency of one database round trip (execute or batch) by outcome",
            ["operation", "outcome"],
            buckets=LATENCY_BUCKETS_S,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_connections = Counter(
            "db_connections_opened",
            "New connections (TCP, plus TLS for https/wss) opened to the database",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_errors = Counter(
            "db_errors",
            "Database calls that failed, by kind of fault (auth_rejected, full, unavailable, ...)",
            ["kind"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_retries = Counter(
            "db_retries",
            "Database calls retried after a transient fault",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_attempt_timeouts = Counter(
            "db_attempt_timeouts",
            "Database attempts cut off by their timeout",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.deadline_exceeded = Counter(
            "http_deadline_exceeded",
            "Requests answered 504 at their deadline",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "db_breaker_state",
            "Circuit breaker: 0 closed, 1 open, 2 half-open",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_slots_in_use = Gauge(
            "db_slots_in_use",
            "Database calls holding a concurrency slot",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.db_slots_limit = Gauge(
            "db_slots_limit",
            "Concurrency slots open now: fewer than the configured ones while the database"
            " drops sockets at its admission limit",
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "db_write_batch_size",
            "Creates sent to the database in one batched round trip",
            buckets=BATCH_SIZE_BUCKETS,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        # labels() validates and locks on every call; the few label sets seen are kept here.
        self._request_children: dict[tuple[str, str, int], Histogram] = {}
        self._db_call_children: dict[tuple[str, str], Histogram] = {}
        self.cache_lookups = Counter(
            "post_cache_lookups",
            "Read-cache lookups by result",
            ["result"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.replica_sync_seconds = Histogram(
            "replica_sync_duration_seconds",
            "Embedded-replica syncs from the primary, by result",
            ["result"],
            buckets=LATENCY_BUCKETS_S,
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.cache_faults = Counter(
            "post_cache_faults",
            "Shared-cache calls that failed or timed out (answered from the database instead)",
            namespace=NAMESPACE,
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.request_seconds.labels(
                method, route, str(status)
            )
        child.observe(seconds)

    def observe_db_call(self, operation: str, seconds: float, outcome: str) -> None:
        key = (operation, outcome)
        child = self._db_call_children.get(key)
        if child is None:
            child = self._db_call_children[key] = self.db_call_seconds.labels(operation, outcome)
        child.observe(seconds)

    def observe_db_connect(self) -> None:
        self.db_connections.inc()

    def observe_db_error(self, kind: str) -> None:
        self.db_errors.labels(kind).inc()

    def observe_retry(self, _error: BaseException, _sleep_s: float) -> None:
        self.db_retries.inc()

    def observe_attempt_timeout(self) -> None:
        self.db_attempt_timeouts.inc()

    def observe_deadline_exceeded(self) -> None:
        self.deadline_exceeded.inc()

    def observe_breaker(self, state: BreakerState) -> None:
        self.breaker_state.set(int(state))

    def observe_slots(self, in_use: int) -> None:
        self.db_slots_in_use.set(in_use)

    def observe_slots_limit(self, limit: int) -> None:
        self.db_slots_limit.set(limit)

    def observe_batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def observe_cache(self, hit: bool) -> None:
        self.cache_lookups.labels("hit" if hit else "miss").inc()

    def observe_cache_fault(self, _error: BaseException) -> None:
        self.cache_faults.inc()

    def observe_replica_sync(self, ok: bool, seconds: float) -> None:
        self.replica_sync_seconds.labels("ok" if ok else "failed").observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type (every worker's, in multiprocess mode)."""
        if self._multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        every_process = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_process, path=self._multiprocess_dir)
        return generate_latest(every_process), CONTENT_TYPE_LATEST
