"""Pure verdicts on a scenario's history against the data actually stored.

A write acknowledged but missing, or stored twice, fails whatever the logs say;
each invariant is a small function so it can be proven on hand-made histories.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from chaos.history import (
    Outcome,
    PostStep,
    RequestRecord,
    Step,
    StoredPost,
    UpdateRecord,
    WriteRecord,
    edit_token,
)

FAILURE_STATUSES = frozenset({503, 504})
RECOVERY_SUCCESS_RATE = 0.99
RECOVERY_STEP_S = 0.1
RECOVERY_SPAN_S = 1.0
RECOVERY_STRAY_MIN_REQUESTS = 10

Phase = Literal["before", "during", "after"]
PHASES: tuple[Phase, ...] = ("before", "during", "after")


@dataclass(frozen=True)
class PhaseBounds:
    """One bound per phase of a scenario (None: that phase is not judged)."""

    before: float | None = None
    during: float | None = None
    after: float | None = None

    def of(self, phase: Phase) -> float | None:
        value: float | None = getattr(self, phase)
        return value


@dataclass(frozen=True)
class Verdict:
    """One invariant's result: whether it held and the figures behind it."""

    name: str
    passed: bool
    figures: dict[str, float | int | str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lost_writes(
    writes: Sequence[WriteRecord],
    stored: Sequence[StoredPost],
    *,
    updated: Collection[str] = frozenset(),
    deleted: Collection[str] = frozenset(),
) -> Verdict:
    """Every acknowledged create is stored under its acknowledged id, with its content.

    By id only: an acknowledgement without an id, or a row under another id, is a loss;
    a copy stored elsewhere is no excuse (and the duplicated invariant counts it). A post
    its workload later deleted (or tried to) is exempt; one it updated (titles in `updated`)
    must still be there with its title, its content being the updates' to judge.
    """
    by_id = {post.id: post for post in stored}
    acked = [w for w in writes if w.outcome is Outcome.ACKED and w.title not in deleted]
    lost = [w.key for w in acked if not _stored_as_acknowledged(w, by_id, updated)]
    return Verdict(
        "lost",
        not lost,
        {"lost": len(lost), "acked": len(acked), "example": lost[0] if lost else None},
    )


def _stored_as_acknowledged(
    write: WriteRecord, by_id: dict[int, StoredPost], updated: Collection[str]
) -> bool:
    post = by_id.get(write.post_id) if write.post_id is not None else None
    if post is None or post.title != write.title:
        return False
    return write.title in updated or post.content == write.content


def rejected_writes(writes: Sequence[WriteRecord], stored: Sequence[StoredPost]) -> Verdict:
    """A write answered 4xx must not be stored (titles are unique per write)."""
    titles = {post.title for post in stored}
    rejected = [w for w in writes if w.outcome is Outcome.FAILED]
    stored_anyway = [w.key for w in rejected if w.title in titles]
    return Verdict(
        "rejected",
        not stored_anyway,
        {
            "rejected": len(rejected),
            "stored_anyway": len(stored_anyway),
            "example": stored_anyway[0] if stored_anyway else None,
        },
    )


def duplicated_writes(writes: Sequence[WriteRecord], stored: Sequence[StoredPost]) -> Verdict:
    """No create of this run (one title per idempotency key) is stored more than once.

    An acknowledged create may be stored only under the id it was acknowledged with: a row
    with its title under another id is a second copy, even once its client has deleted the
    acknowledged one. Any other create may be stored at most once.
    """
    ids_by_title: dict[str, list[int]] = defaultdict(list)
    for post in stored:
        ids_by_title[post.title].append(post.id)
    acked_id = {w.title: w.post_id for w in writes if w.outcome is Outcome.ACKED}
    extra: dict[str, int] = {}
    for title in {write.title for write in writes}:
        ids = ids_by_title.get(title, [])
        allowed = 1 if title not in acked_id else int(acked_id[title] in ids)
        if len(ids) > allowed:
            extra[title] = len(ids) - allowed
    duplicated = sorted(extra)
    return Verdict(
        "duplicated",
        not duplicated,
        {
            "duplicated": len(duplicated),
            "extra_rows": sum(extra.values()),
            "example": duplicated[0] if duplicated else None,
        },
    )


def lost_updates(updates: Sequence[UpdateRecord], stored: Sequence[StoredPost]) -> Verdict:
    """No acknowledged update of a shared post was overwritten by one not based on it.

    Each update's content names itself and the content it was based on, so the stored
    content leads back, update by update, to the create: that chain is the order in which
    updates were applied, each on top of the one it had read. An acknowledged update off
    the chain was overwritten by an update that never saw it: a lost update. An update
    refused (412, never maybe applied) found on the chain was applied after all.
    """
    contents = {post.title: post.content for post in stored}
    by_post: dict[str, list[UpdateRecord]] = defaultdict(list)
    for update in updates:
        by_post[update.post].append(update)
    lost: list[str] = []
    refused_applied: list[str] = []
    for post, its_updates in by_post.items():
        chain = _applied_chain(contents.get(post), its_updates)
        lost += [
            u.token for u in its_updates if u.outcome is Outcome.ACKED and u.token not in chain
        ]
        refused_applied += [
            u.token for u in its_updates if u.outcome is Outcome.FAILED and u.token in chain
        ]
    acked = sum(u.outcome is Outcome.ACKED for u in updates)
    return Verdict(
        "lost_update",
        not (lost or refused_applied),
        {
            "posts": len(by_post),
            "acked": acked,
            "lost": len(lost),
            "refused_applied": len(refused_applied),
            "example": (lost or refused_applied or [None])[0],
        },
    )


def _applied_chain(content: str | None, updates: Sequence[UpdateRecord]) -> set[str]:
    """The tokens from the stored content back through each update's base (none: no row)."""
    based_on = {update.token: update.based_on for update in updates}
    chain: set[str] = set()
    token = edit_token(content) if content is not None else None
    while token is not None and token not in chain:
        chain.add(token)
        token = based_on.get(token)
    return chain


def by_phase(
    requests: Sequence[RequestRecord], fault_window_s: tuple[float, float] | None
) -> dict[Phase, list[RequestRecord]]:
    """Requests by phase: before (done before the fault began), during (in flight at some
    moment of it), after (started once it was removed). No fault: all are before."""
    phases: dict[Phase, list[RequestRecord]] = {phase: [] for phase in PHASES}
    for r in requests:
        if fault_window_s is None or r.finished_s <= fault_window_s[0]:
            phases["before"].append(r)
        elif r.started_s < fault_window_s[1]:
            phases["during"].append(r)
        else:
            phases["after"].append(r)
    return phases


def _p99_ms(requests: Sequence[RequestRecord]) -> float | None:
    if not requests:
        return None
    return round(float(np.percentile([r.latency_ms for r in requests], 99)), 1)


def latency_bound(
    requests: Sequence[RequestRecord],
    bounds_ms: PhaseBounds,
    fault_window_s: tuple[float, float] | None = None,
) -> Verdict:
    """p99 of the requests started in each phase stays within that phase's bound.

    A closed-loop client stuck on one hung request sends nothing else, so a stall
    barely moves a whole run's p99; judging each phase on its own keeps it visible.
    """
    phases = by_phase(requests, fault_window_s)
    p99 = {phase: _p99_ms(phases[phase]) for phase in PHASES}
    failing = [phase for phase in PHASES if _above(p99[phase], bounds_ms.of(phase))]
    max_ms = round(max(r.latency_ms for r in requests), 1) if requests else None
    figures: dict[str, float | int | str | None] = {
        f"{phase}_p99_ms": p99[phase] for phase in PHASES
    }
    figures |= {f"{phase}_bound_ms": _rounded(bounds_ms.of(phase)) for phase in PHASES}
    figures["max_ms"] = max_ms
    figures["failing"] = ",".join(failing) or None
    return Verdict("latency", not failing, figures)


def _above(value: float | None, bound: float | None) -> bool:
    return value is not None and bound is not None and value > bound


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


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


def token_rotation(
    requests: Sequence[RequestRecord],
    rejecting_from_s: float | None,
    readiness_status: int | None,
    codes: Sequence[str],
    *,
    rotating_from_s: float | None,
) -> Verdict:
    """From the server's return with a new key on, every failure is a 503 with one of `codes`
    (the token refused, or the breaker that opened on it), some show the refusal itself
    (so the rotation really happened), and readiness said 503 before the new token came.

    A refusal counts from the moment the server was stopped (`rotating_from_s`): requests
    that waited out the restart meet the new key as soon as the server listens, before the
    harness has seen it answer, and the breaker they open may answer every later request.
    """
    after = [
        r for r in requests if rejecting_from_s is not None and r.started_s >= rejecting_from_s
    ]
    failures = [r for r in after if not r.succeeded]
    other = [r for r in failures if r.status != 503 or (codes and r.error_code not in codes)]
    since_rotation = [
        r
        for r in requests
        if rotating_from_s is not None and r.finished_s >= rotating_from_s and not r.succeeded
    ]
    refused = (
        sum(r.error_code == codes[0] for r in since_rotation) if codes else len(since_rotation)
    )
    passed = rejecting_from_s is not None and refused > 0 and not other and readiness_status == 503
    return Verdict(
        "token_rotation",
        passed,
        {
            "failures": len(failures),
            "refused": refused,
            "other_failures": len(other),
            "other_codes": ", ".join(sorted({str(r.error_code or r.status) for r in other})),
            "readiness_status": readiness_status,
        },
    )


def success_rate(requests: Sequence[RequestRecord]) -> float:
    if not requests:
        return 1.0
    return sum(r.succeeded for r in requests) / len(requests)


def availability(
    requests: Sequence[RequestRecord],
    minimums: PhaseBounds,
    fault_window_s: tuple[float, float] | None = None,
) -> Verdict:
    """Success rate per phase at or above that phase's minimum (None: not judged).

    Per phase, so a long healthy warm-up and observation cannot dilute a bad fault window.
    """
    phases = by_phase(requests, fault_window_s)
    rates = {phase: success_rate(phases[phase]) if phases[phase] else None for phase in PHASES}
    failing = [phase for phase in PHASES if _below(rates[phase], minimums.of(phase))]
    figures: dict[str, float | int | str | None] = {
        f"{phase}_success_rate": _rounded(rates[phase]) for phase in PHASES
    }
    figures |= {f"{phase}_minimum": minimums.of(phase) for phase in PHASES}
    figures["success_rate"] = _rounded(success_rate(requests))
    figures["failing"] = ",".join(failing) or None
    return Verdict("availability", not failing, figures)


def _below(value: float | None, minimum: float | None) -> bool:
    return value is not None and minimum is not None and value < minimum


def recovery_time_s(
    requests: Sequence[RequestRecord], fault_removed_s: float, bound_ms: float
) -> float | None:
    """Seconds from fault removal until requests started since then stay good. None: never.

    Only requests started after the removal count; good means a 2xx within `bound_ms`.
    Windows of start times span RECOVERY_SPAN_S and begin every RECOVERY_STEP_S; one in
    which no request started at all is unhealthy (the clients are stalled), so a freeze
    after the removal cannot read as instant recovery. Recovery is the later of the first
    good request's start and the first step from which every window has >= 99% good
    requests. A bounded span keeps a long healthy tail from diluting early failures; a
    span of many requests keeps one stray failure from resetting the clock.
    """
    after = [r for r in requests if r.started_s >= fault_removed_s]
    good = np.array([r.succeeded and r.latency_ms <= bound_ms for r in after], dtype=bool)
    if not good.any():
        return None
    started = np.array([r.started_s - fault_removed_s for r in after])
    # Only whole windows are judged: a window cut short by the end of the run
    # holds too few requests for one failure to say anything.
    steps = max(1, int(np.floor((started.max() - RECOVERY_SPAN_S) / RECOVERY_STEP_S)) + 1)
    healthy = np.zeros(steps, dtype=bool)
    for step in range(steps):
        begin = step * RECOVERY_STEP_S
        in_window = (started >= begin) & (started < begin + RECOVERY_SPAN_S)
        healthy[step] = _healthy_window(good[in_window])
    if not healthy[-1]:
        return None
    unhealthy = np.flatnonzero(~healthy)
    healthy_from_s = (int(unhealthy[-1]) + 1) * RECOVERY_STEP_S if unhealthy.size else 0.0
    first_good_s = min(
        r.started_s - fault_removed_s for r, ok in zip(after, good, strict=True) if ok
    )
    return round(max(healthy_from_s, first_good_s), 3)


def _healthy_window(good: np.ndarray) -> bool:
    """At least RECOVERY_SUCCESS_RATE good; or one stray bad request among enough good ones
    (on a loaded machine a window may hold too few requests for 99% to allow even one)."""
    if good.size == 0:
        return False  # nobody could even send
    bad = int(good.size - good.sum())
    stray = bad == 1 and good.size >= RECOVERY_STRAY_MIN_REQUESTS
    return stray or bool(good.mean() >= RECOVERY_SUCCESS_RATE)


def observation_needed_s(recovery_bound_s: float | None) -> float:
    """How long after the removal requests must keep starting for a recovery as late as the
    bound to be seen: a whole window begun at the bound, and a step to spare. Shorter, a
    recovery within the bound would read as none, since only whole windows are judged."""
    if recovery_bound_s is None:
        return 0.0
    return recovery_bound_s + RECOVERY_SPAN_S + RECOVERY_STEP_S


def recovery(
    requests: Sequence[RequestRecord],
    fault_removed_s: float | None,
    bound_s: float | None,
    latency_bound_ms: float,
) -> Verdict:
    if fault_removed_s is None:
        return Verdict("recovery", True, {"recovery_s": 0.0, "bound_s": bound_s})
    seconds = recovery_time_s(requests, fault_removed_s, latency_bound_ms)
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
