"""Pure verdicts on a scenario's history against the data actually stored.

A write acknowledged but missing, or stored twice, fails whatever the logs say;
each invariant is a small function so it can be proven on hand-made histories.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from chaos.history import Outcome, PostStep, RequestRecord, Step, StoredPost, WriteRecord

FAILURE_STATUSES = frozenset({503, 504})
RECOVERY_SUCCESS_RATE = 0.99
RECOVERY_STEP_S = 0.1
RECOVERY_SPAN_S = 1.0


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


def _p99_ms(requests: Sequence[RequestRecord]) -> float | None:
    if not requests:
        return None
    return round(float(np.percentile([r.latency_ms for r in requests], 99)), 1)


def latency_bound(
    requests: Sequence[RequestRecord],
    bound_ms: float,
    fault_window_s: tuple[float, float] | None = None,
) -> Verdict:
    """p99 stays within the bound over the whole run and over the fault window alone.

    A closed-loop client stuck on one hung request sends nothing else, so a
    stall barely moves the whole run's p99; the requests started during the
    fault are judged on their own so it cannot hide there.
    """
    during = (
        [r for r in requests if fault_window_s[0] <= r.started_s < fault_window_s[1]]
        if fault_window_s
        else []
    )
    p99_all, p99_fault = _p99_ms(requests), _p99_ms(during)
    passed = all(p is None or p <= bound_ms for p in (p99_all, p99_fault))
    max_ms = round(max(r.latency_ms for r in requests), 1) if requests else None
    figures = {"p99_ms": p99_all, "fault_p99_ms": p99_fault, "max_ms": max_ms}
    return Verdict("latency", passed, {**figures, "bound_ms": round(bound_ms, 1)})


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
    """Seconds from fault removal until success stays >= 99% in every later window.

    Windows span RECOVERY_SPAN_S and start every RECOVERY_STEP_S; recovery is the
    first step from which every window succeeds at the threshold. A bounded span
    keeps a long healthy tail from diluting early failures; a span of many
    requests keeps one stray failure from resetting the clock. None: never.
    """
    after = [r for r in requests if r.started_s >= fault_removed_s]
    if not after:
        return None
    started = np.array([r.started_s - fault_removed_s for r in after])
    succeeded = np.array([r.succeeded for r in after], dtype=bool)
    # Only whole windows are judged: a window cut short by the end of the run
    # holds too few requests for one failure to say anything.
    steps = max(1, int(np.floor((started.max() - RECOVERY_SPAN_S) / RECOVERY_STEP_S)) + 1)
    healthy = np.ones(steps, dtype=bool)
    for step in range(steps):
        begin = step * RECOVERY_STEP_S
        in_window = (started >= begin) & (started < begin + RECOVERY_SPAN_S)
        if in_window.any():
            healthy[step] = succeeded[in_window].mean() >= RECOVERY_SUCCESS_RATE
    if not healthy[-1]:
        return None
    unhealthy = np.flatnonzero(~healthy)
    first_healthy_for_good = int(unhealthy[-1]) + 1 if unhealthy.size else 0
    return round(first_healthy_for_good * RECOVERY_STEP_S, 3)


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


@dataclass
class _PostState:
    """What one client knows about its post after its acknowledged writes."""

    floor: int | None = None  # the newest version acknowledged
    deleted: bool = False  # a delete was acknowledged
    maybe_deleted: bool = False  # a delete got no clear answer


def _staleness(read: PostStep, state: _PostState) -> str | None:
    """Why this read broke read-your-writes, or None if it did not."""
    if read.status == 404:
        return "missing" if state.floor is not None and not state.maybe_deleted else None
    if state.deleted:
        return "deleted"
    if state.floor is not None and (read.version is None or read.version < state.floor):
        return "old_version"
    return None


def _apply_write(write: PostStep, state: _PostState) -> None:
    # A 404 to a delete says the post is gone: a retried delete whose first try landed.
    if write.acked or (write.step is Step.DELETE and write.status == 404):
        if write.step is Step.DELETE:
            state.deleted = state.maybe_deleted = True
        else:
            state.floor = write.version
    elif write.indeterminate and write.step is Step.DELETE:
        state.maybe_deleted = True


def read_your_writes(steps: Sequence[PostStep]) -> Verdict:
    """After a 2xx create or update a client reads that version or a newer one; after a
    2xx delete it reads 404. Each client works on its own posts one step at a time, so a
    read follows every write the same client had acknowledged before sending it.
    Reads that failed (5xx, no answer) say nothing and are not counted.
    """
    stale: Counter[str] = Counter()
    checked = 0
    example: str | None = None
    states: dict[str, _PostState] = {}
    for step in sorted(steps, key=lambda s: s.started_s):
        state = states.setdefault(step.post, _PostState())
        if step.step is not Step.READ:
            _apply_write(step, state)
            continue
        if step.status not in (200, 404):
            continue
        checked += 1
        if (why := _staleness(step, state)) is not None:
            stale[why] += 1
            example = example or f"{step.post} at {step.started_s:.3f}s: {why}"
    return Verdict(
        "consistency",
        not stale,
        {
            "reads_checked": checked,
            "stale_reads": sum(stale.values()),
            "old_version": stale["old_version"],
            "deleted": stale["deleted"],
            "missing": stale["missing"],
            "example": example,
        },
    )
