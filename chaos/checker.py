"""Pure verdicts on a scenario's history against the data actually stored.

A write acknowledged but missing, or stored twice, fails whatever the logs say;
each invariant is a small function so it can be proven on hand-made histories.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from chaos.history import Outcome, RequestRecord, StoredPost, WriteRecord

FAILURE_STATUSES = frozenset({503, 504})
RECOVERY_SUCCESS_RATE = 0.99
RECOVERY_WINDOW_S = 0.1


@dataclass(frozen=True)
class Verdict:
    """One invariant's result: whether it held and the figures behind it."""

    name: str
    passed: bool
    figures: dict[str, float | int | str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def by_title(stored: Iterable[StoredPost]) -> dict[str, list[StoredPost]]:
    rows: dict[str, list[StoredPost]] = {}
    for post in stored:
        rows.setdefault(post.title, []).append(post)
    return rows


def lost_writes(writes: Sequence[WriteRecord], stored: Sequence[StoredPost]) -> Verdict:
    """Every acknowledged write is stored, under its acknowledged id, with its content."""
    rows = by_title(stored)
    by_id = {post.id: post for post in stored}
    lost: list[str] = []
    for write in writes:
        if write.outcome is not Outcome.ACKED:
            continue
        candidates = [by_id[write.post_id]] if write.post_id in by_id else rows.get(write.title, [])
        if not any(p.title == write.title and p.content == write.content for p in candidates):
            lost.append(write.key)
    acked = sum(w.outcome is Outcome.ACKED for w in writes)
    return Verdict(
        "lost", not lost, {"lost": len(lost), "acked": acked, "example": lost[0] if lost else None}
    )


def duplicated_writes(writes: Sequence[WriteRecord], stored: Sequence[StoredPost]) -> Verdict:
    """No write of this run (one title per idempotency key) is stored more than once."""
    counts = Counter(post.title for post in stored)
    titles = {write.title for write in writes}
    duplicated = sorted(title for title in titles if counts[title] > 1)
    extra_rows = sum(counts[title] - 1 for title in duplicated)
    return Verdict(
        "duplicated",
        not duplicated,
        {
            "duplicated": len(duplicated),
            "extra_rows": extra_rows,
            "example": duplicated[0] if duplicated else None,
        },
    )


def latency_bound(requests: Sequence[RequestRecord], bound_ms: float) -> Verdict:
    """p99 of every answered and unanswered request stays within the bound."""
    if not requests:
        return Verdict("latency", True, {"p99_ms": None, "bound_ms": bound_ms})
    latencies = np.array([r.latency_ms for r in requests])
    p99 = float(np.percentile(latencies, 99))
    figures = {"p99_ms": round(p99, 1), "max_ms": round(float(latencies.max()), 1)}
    return Verdict("latency", p99 <= bound_ms, {**figures, "bound_ms": round(bound_ms, 1)})


def error_shapes(requests: Sequence[RequestRecord], unanswered_allowed: bool) -> Verdict:
    """Failures are 503/504 with a JSON body (and Retry-After on 503); never a 500."""
    server_errors = [r for r in requests if r.status is not None and r.status >= 500]
    not_allowed = sum(r.status not in FAILURE_STATUSES for r in server_errors)
    not_json = sum(not r.json_body for r in server_errors)
    no_retry_after = sum(r.status == 503 and not r.retry_after for r in server_errors)
    unanswered = sum(r.status is None for r in requests)
    passed = not (not_allowed or not_json or no_retry_after) and (
        unanswered_allowed or not unanswered
    )
    return Verdict(
        "errors",
        passed,
        {
            "status_500_or_other": not_allowed,
            "status_503": sum(r.status == 503 for r in server_errors),
            "status_504": sum(r.status == 504 for r in server_errors),
            "not_json": not_json,
            "503_without_retry_after": no_retry_after,
            "unanswered": unanswered,
        },
    )


def success_rate(requests: Sequence[RequestRecord]) -> float:
    if not requests:
        return 1.0
    return sum(r.succeeded for r in requests) / len(requests)


def availability(requests: Sequence[RequestRecord], minimum: float | None) -> Verdict:
    """Under intermittent faults retries keep success at or above `minimum`."""
    rate = success_rate(requests)
    passed = minimum is None or rate >= minimum
    return Verdict("availability", passed, {"success_rate": round(rate, 4), "minimum": minimum})


def recovery_time_s(requests: Sequence[RequestRecord], fault_removed_s: float) -> float | None:
    """Seconds from fault removal until every later window of requests succeeds >= 99%.

    Requests are bucketed by start time into short windows; recovery is the
    start of the first window from which the success rate of all requests to
    the end of the run stays at or above the threshold. None: never recovered.
    """
    after = sorted(
        (r for r in requests if r.started_s >= fault_removed_s), key=lambda r: r.started_s
    )
    if not after:
        return None
    succeeded = np.array([r.succeeded for r in after], dtype=float)
    started = np.array([r.started_s for r in after])
    # Success rate of each suffix: from request i to the end of the run.
    suffix_ok = np.cumsum(succeeded[::-1])[::-1]
    suffix_n = np.arange(len(after), 0, -1)
    recovered = suffix_ok / suffix_n >= RECOVERY_SUCCESS_RATE
    windows = np.floor((started - fault_removed_s) / RECOVERY_WINDOW_S)
    for i in range(len(after)):
        first_of_window = i == 0 or windows[i] != windows[i - 1]
        if first_of_window and recovered[i]:
            return float(windows[i] * RECOVERY_WINDOW_S)
    return None


def recovery(
    requests: Sequence[RequestRecord], fault_removed_s: float | None, bound_s: float | None
) -> Verdict:
    if fault_removed_s is None:
        return Verdict("recovery", True, {"recovery_s": 0.0, "bound_s": bound_s})
    seconds = recovery_time_s(requests, fault_removed_s)
    passed = seconds is not None and (bound_s is None or seconds <= bound_s)
    return Verdict("recovery", passed, {"recovery_s": seconds, "bound_s": bound_s})


def recovered_writes(writes: Sequence[WriteRecord], stored: Sequence[StoredPost]) -> Verdict:
    """Indeterminate writes that did land: reported, never a failure."""
    titles = {post.title for post in stored}
    indeterminate = [w for w in writes if w.outcome is Outcome.INDETERMINATE]
    landed = sum(w.title in titles for w in indeterminate)
    return Verdict(
        "recovered",
        True,
        {"indeterminate": len(indeterminate), "landed": landed},
    )
