"""The gate's resilience stage: both live stacks take the same seeded fault schedule on their
database link at the same moments, each under the same bounded chaos workload (chaos/); the
chaos checker judges what each side answered and stored, and the candidate fails where it is
worse than the baseline, or wherever it breaks a guarantee the baseline's state cannot excuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.stats import fisher_exact, wilcoxon

from chaos import checker
from chaos.faults import injected
from chaos.history import RequestRecord, Step, StoredPost
from chaos.runner import LATENCY_SLACK, stored_posts
from chaos.scenarios.base import Fault, Outage, Scenario
from chaos.workload import History, Workload, WorkloadConfig
from harness.network import DB_LINK
from harness.stack import Stack
from harness.toxiproxy import Toxic
from stackbench.gate_stats import ALPHA, Status

SCHEDULE_SEED = 20
ROUNDS = 2
WARMUP_S = 1.0  # calm load first, so each side has connections and a cache to lose
# Recovery is judged on whole 1 s windows of requests (chaos.checker.recovery_time_s): this
# much calm after the last fault sees a recovery as late as 2 s.
OBSERVE_S = checker.observation_needed_s(2.0)
# Fewer clients than `make chaos`: two sides share the load generator's process and 2 cores.
WORKLOAD = WorkloadConfig(
    writers=4,
    readers=3,
    batch_writers=1,
    read_your_writes=1,
    shared_posts=0,
    think_time_s=0.01,
)
# The promise judged: the reference app's default request deadline, fixed here, never read
# from the code under test (a candidate that raised its own would move the bar with it).
DEADLINE_S = 2.0
# An answer this much past the app's request deadline is one the deadline did not bound:
# scheduling on a loaded 2-core machine delays a 504 by tens of ms, never by half a second.
LATE_MARGIN_S = 0.5
LATE_AFTER_S = DEADLINE_S + LATE_MARGIN_S
# The candidate's error or late-answer rate must rise by this much (and significantly) to
# fail: under faults both sides fail some requests, and ~1 pp moves with the fault's timing.
MIN_RATE_RISE = 0.01
# The breaker's cool-down (1 s) decides when a side tries the database again: recovering one
# cool-down later than the baseline is the timing of a probe, more is a slower way back.
RECOVERY_MARGIN_S = 1.0
CALM_S = 1.0  # the breaker's cool-down: it is closed again when the next fault begins
CHURN_S = 3.0  # ~15 failed requests per round without retries, on a loaded 2-core machine
# Both sides' failures are counted in bins of this many seconds and compared bin by bin: a
# fault makes failures come in bursts (a breaker open fails every request for its 1 s
# cool-down), so requests are not independent, while bins of the same moment on both sides
# are a pair. Half a second: a breaker open one cool-down longer on one side, once, is two
# bins (one-sided Wilcoxon p ~0.08, not a failure); retries missing under the 3 s churn,
# twice, are a dozen.
BIN_S = 0.5
ENDPOINT = "resilience"  # the verdict table's first column for every row of this stage


@dataclass(frozen=True)
class Phase:
    """One step of the schedule: these faults on the database link for `duration_s`."""

    name: str
    duration_s: float
    faults: tuple[Fault, ...] = ()
    # A fault a resilient app answers through (or none): its failures are judged in err%.
    answerable: bool = False

    def scenario(self) -> Scenario:
        return Scenario(self.name, self.name, faults=self.faults)


def fault_schedule(seed: int = SCHEDULE_SEED) -> tuple[Phase, ...]:
    """The stage's faults, one after another, drawn from `seed` (so both sides, and every
    run with that seed, get the same).

    - Answers later than the app's 500 ms attempt timeout: writes commit but their answers
      come too late, so the app and its clients retry them, and only idempotency keys keep
      the retries from storing a second row (a dozen extra rows per round without them).
    - Answers later than the request deadline, for longer than the deadline and its margin:
      only the app's timeouts answer in time, a request nothing times out is late.
    - A calm second: the breaker, open by then, closes again before the next fault (not
      yet answerable: the backlog of the late answers and the breaker's probe).
    - Churn: connections cut after a few KB and one new connection in five reset, as in
      `make chaos`'s reset_peer_churn. Faults that a retry on a new connection gets past:
      without retries each one is a failed request. (A reset of every connection at once
      opens the breaker instead, with or without retries, so it tells nothing about them.)
    - The link down: every side fails; how soon it answers again after is its recovery.
    """
    rng = random.Random(seed)
    late_ms = rng.randint(700, 900)
    late = Toxic("latency", "downstream", {"latency": late_ms}, name="gate_late")
    slow_ms = rng.randint(2700, 3000)
    slow = Toxic("latency", "downstream", {"latency": slow_ms}, name="gate_slow")
    churn_kb = rng.choice((6, 7, 8))
    cut = Toxic("limit_data", "downstream", {"bytes": churn_kb * 1024}, name="gate_cut")
    reset = Toxic("reset_peer", "upstream", {"timeout": 0}, toxicity=0.2, name="gate_reset")
    outage_s = round(rng.uniform(1.0, 1.5), 2)
    down = Fault(DB_LINK, outages=(Outage(0, outage_s),))
    return (
        Phase(f"answers {late_ms} ms late", round(rng.uniform(1.5, 2.0), 2), (_on_db(late),)),
        Phase(f"answers {slow_ms} ms late", round(rng.uniform(3.0, 3.5), 2), (_on_db(slow),)),
        Phase("calm", CALM_S),
        Phase(
            f"churn: cut every {churn_kb} KB, 20% reset",
            CHURN_S,
            (_on_db(cut, reset),),
            answerable=True,
        ),
        Phase(f"link down {outage_s:g} s", outage_s, (down,)),
    )


def _on_db(*toxics: Toxic) -> Fault:
    return Fault(DB_LINK, toxics=toxics)


@dataclass(frozen=True)
class SideRound:
    """What one side's workload saw in one round, and what its database kept."""

    requests: int
    failed: int
    failed_by_kind: dict[str, int]
    late: int
    status_500: int
    lost: int
    duplicated: int
    acked_writes: int
    recovery_s: float | None  # None: not recovered by the end of the observation
    # Requests and failures by start time, in bins of BIN_S from the round's start.
    requests_per_bin: list[int] = field(default_factory=list)
    failed_per_bin: list[int] = field(default_factory=list)
    # When each phase began, and last when the faults were removed (from the round's start).
    phases_started_s: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class RoundClock:
    """Where the round's start lies on one side's workload clock, and when each phase began
    (seconds from the round's start, the same for both sides)."""

    start_s: float
    phases_started_s: list[float]


def side_figures(
    history: History, stored: Sequence[Any], fault_removed_s: float, clock: RoundClock
) -> SideRound:
    """The chaos checker's verdicts on one side's history, as the stage's figures."""
    writes = history.writes
    updated, deleted = history.titles_sent(Step.UPDATE), history.titles_sent(Step.DELETE)
    lost = checker.lost_writes(writes, stored, updated=updated, deleted=deleted)
    duplicated = checker.duplicated_writes(writes, stored)
    shapes = checker.error_shapes(history.requests, unanswered_allowed=True)
    failed = [r for r in history.requests if not r.succeeded]
    by_kind: dict[str, int] = {}
    for request in failed:
        by_kind[request.kind] = by_kind.get(request.kind, 0) + 1
    bound_ms = DEADLINE_S * 1000 * LATENCY_SLACK
    requests_per_bin = _per_bin(history.requests, clock.start_s)
    return SideRound(
        requests=len(history.requests),
        failed=len(failed),
        failed_by_kind=by_kind,
        late=sum(_late(r) for r in history.requests),
        status_500=int(shapes.figures["status_500_or_other"] or 0),
        lost=int(lost.figures["lost"] or 0),
        duplicated=int(duplicated.figures["duplicated"] or 0),
        acked_writes=int(lost.figures["acked"] or 0),
        recovery_s=checker.recovery_time_s(history.requests, fault_removed_s, bound_ms),
        requests_per_bin=requests_per_bin,
        failed_per_bin=_per_bin(failed, clock.start_s, len(requests_per_bin)),
        phases_started_s=clock.phases_started_s,
    )


def _per_bin(requests: Sequence[RequestRecord], start_s: float, bins: int = 0) -> list[int]:
    """How many of `requests` started in each BIN_S from `start_s` (at least `bins` bins)."""
    started = [int(max(0.0, r.started_s - start_s) // BIN_S) for r in requests]
    return [int(n) for n in np.bincount(started, minlength=bins)]


def _late(request: RequestRecord) -> bool:
    """Answered (or given up on by the client) later than the deadline allows."""
    return request.latency_ms > LATE_AFTER_S * 1000


async def _one_round(
    stacks: Mapping[str, Stack], schedule: Sequence[Phase], tag: str, candidate_first: bool
) -> dict[str, SideRound]:
    """Both sides' workloads started together; each phase's faults put on both database
    links at once and taken off at once; then the calm observation, and the check.

    Faults go on one side a few ms before the other and come off in the reverse order, so
    the side faulted first is faulted longest: `candidate_first` alternates it per round."""
    workloads = {side: Workload(s.api_url, f"{tag}-{side}", WORKLOAD) for side, s in stacks.items()}
    # One moment on every side's clock: the workloads were created a few ms apart.
    round_start_s = {side: w.now_s() for side, w in workloads.items()}
    started = time.monotonic()
    loads = {side: asyncio.create_task(w.run(math.inf)) for side, w in workloads.items()}
    phases_started_s: list[float] = []
    try:
        await asyncio.sleep(WARMUP_S)
        for phase in schedule:
            phases_started_s.append(round(time.monotonic() - started, 3))
            async with contextlib.AsyncExitStack() as faults:
                order = list(stacks.values())
                for live in reversed(order) if candidate_first else order:
                    scenario = phase.scenario()
                    await faults.enter_async_context(
                        injected(live.toxiproxy, live.proxies, scenario)
                    )
                await asyncio.sleep(phase.duration_s)
        removed_s = {side: w.now_s() for side, w in workloads.items()}
        phases_started_s.append(round(time.monotonic() - started, 3))  # all faults removed
        for side, workload in workloads.items():
            workload.stop_at(removed_s[side] + OBSERVE_S)
        histories = dict(zip(loads, await asyncio.gather(*loads.values()), strict=True))
    finally:
        for load in loads.values():
            load.cancel()
    return {
        side: side_figures(
            histories[side],
            await _stored(live, f"{tag}-{side}"),
            removed_s[side],
            RoundClock(round_start_s[side], phases_started_s),
        )
        for side, live in stacks.items()
    }


async def _stored(live: Stack, tag: str) -> list[StoredPost]:
    """This round's rows on one side. The local server's SQLite file is read directly: its
    certificate is self-signed, and the database client's TLS trust was fixed at import."""
    if live.turso is None or live.turso.kind != "localturso":
        return await stored_posts(live, tag)
    return await asyncio.to_thread(_stored_in_file, live.turso.db, tag)


def _stored_in_file(path: str, tag: str) -> list[StoredPost]:
    prefix = f"{tag}-"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT id, title, content FROM posts WHERE substr(title, 1, ?) = ?",
            (len(prefix), prefix),
        ).fetchall()
    return [StoredPost(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def run_rounds(
    stacks: Mapping[str, Stack], run_id: str, rounds: int = ROUNDS, seed: int = SCHEDULE_SEED
) -> dict[str, list[SideRound]]:
    """`rounds` rounds of the schedule on both stacks at once; each side's figures per round.

    Two rounds: one round's error count and recovery time hang on where in a retry's backoff
    each fault begins, and a second round at the same cost halves that luck."""
    schedule = fault_schedule(seed)
    by_side: dict[str, list[SideRound]] = {side: [] for side in stacks}
    for n in range(1, rounds + 1):
        tag = f"gate-{run_id}-r{n}"
        figures = asyncio.run(_one_round(stacks, schedule, tag, candidate_first=n % 2 == 0))
        for side, side_round in figures.items():
            by_side[side].append(side_round)
    return by_side


@dataclass(frozen=True)
class ResilienceRow:
    """One figure of the stage, baseline against candidate, with its rule's verdict."""

    metric: str
    baseline: float
    candidate: float
    p_value: float
    status: Status
    rule: str
    endpoint: str = ENDPOINT
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fails(self) -> bool:
        return self.status.fails


def _never(metric: str, base: int, cand: int, rule: str) -> ResilienceRow:
    """A guarantee: any occurrence in the candidate fails, whatever the baseline did."""
    status = Status.REGRESSED if cand else Status.OK
    return ResilienceRow(metric, base, cand, math.nan, status, rule)


def more_late_p_value(base_n: int, base_total: int, cand_n: int, cand_total: int) -> float:
    """One-sided Fisher exact test (scipy's: exact at these small counts) that the candidate
    answered a larger share late; NaN without requests on a side."""
    if base_total == 0 or cand_total == 0:
        return math.nan
    table = [[cand_n, cand_total - cand_n], [base_n, base_total - base_n]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def _late_row(base: tuple[int, int], cand: tuple[int, int]) -> ResilienceRow:
    """Answers past the deadline and its margin: the deadline is a promise, so any rise
    that is significant (one-sided Fisher exact, p < ALPHA) fails, however small."""
    (base_n, base_total), (cand_n, cand_total) = base, cand
    p = more_late_p_value(base_n, base_total, cand_n, cand_total)
    if math.isnan(p):
        return ResilienceRow("late%", math.nan, math.nan, p, Status.NO_DATA, "no requests")
    status = Status.REGRESSED if p < ALPHA and cand_n > base_n else Status.OK
    rule = f"p < {ALPHA}"
    return ResilienceRow("late%", base_n / base_total, cand_n / cand_total, p, status, rule)


def answerable_windows(
    phases_started_s: Sequence[float], schedule: Sequence[Phase]
) -> list[tuple[float, float]]:
    """The spans of a round (from its start) in which a resilient app keeps answering: the
    calm load before the first fault and every answerable phase. Elsewhere every app fails
    (an open breaker answers at once, however many requests come), so the count of failures
    there measures the clients' pace and the breaker's timing, not the app; what matters
    there is judged by the other rows."""
    windows = [(0.0, phases_started_s[0])] if phases_started_s else []
    for n, phase in enumerate(schedule):
        if phase.answerable and n + 1 < len(phases_started_s):
            windows.append((phases_started_s[n], phases_started_s[n + 1]))
    return windows


def _in_windows(n: int, windows: Sequence[tuple[float, float]]) -> bool:
    begin, end = n * BIN_S, (n + 1) * BIN_S
    return any(start <= begin and end <= stop for start, stop in windows)


def paired_bins(
    base: Sequence[SideRound], cand: Sequence[SideRound], schedule: Sequence[Phase]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each side's failures and requests in each bin wholly inside an answerable window,
    over every round, where both sides started requests (a bin where one side sent nothing
    says nothing of its failures)."""
    figures: list[tuple[int, int, int, int]] = []
    for a, b in zip(base, cand, strict=True):
        windows = answerable_windows(a.phases_started_s, schedule)
        for n in range(min(len(a.requests_per_bin), len(b.requests_per_bin))):
            if a.requests_per_bin[n] and b.requests_per_bin[n] and _in_windows(n, windows):
                figures.append(
                    (
                        a.failed_per_bin[n],
                        a.requests_per_bin[n],
                        b.failed_per_bin[n],
                        b.requests_per_bin[n],
                    )
                )
    columns = np.array(figures, dtype=float).reshape(-1, 4).T
    return columns[0], columns[1], columns[2], columns[3]


def more_failures_p_value(
    base_failed: np.ndarray,
    base_requests: np.ndarray,
    cand_failed: np.ndarray,
    cand_requests: np.ndarray,
) -> float:
    """One-sided Wilcoxon signed-rank test (scipy) on the paired bins' failed shares: how
    likely failures this much more often in the candidate's bins are by chance."""
    differences = cand_failed / cand_requests - base_failed / base_requests
    if not differences.size:
        return math.nan
    if not np.any(differences):
        return 1.0
    return float(wilcoxon(differences, alternative="greater").pvalue)


def _rise(base: Sequence[SideRound], cand: Sequence[SideRound], schedule: Sequence[Phase]) -> float:
    """How much higher the candidate's failed share is in these rounds' answerable bins."""
    base_failed, base_requests, cand_failed, cand_requests = paired_bins(base, cand, schedule)
    if not base_requests.sum() or not cand_requests.sum():
        return math.nan
    return float(cand_failed.sum() / cand_requests.sum() - base_failed.sum() / base_requests.sum())


def _errors_row(
    base: Sequence[SideRound], cand: Sequence[SideRound], schedule: Sequence[Phase]
) -> ResilienceRow:
    """Failed / all requests while the link was answerable: fails when the candidate's bins
    fail significantly more often (p < ALPHA) and its rate there is MIN_RATE_RISE higher in
    every round. A breaker that opens under the churn fails everything for a second or more,
    on either side, now and then (seen on the baseline in 2 of 5 unchanged runs): one round's
    luck, where a missing retry costs the candidate in every round."""
    base_failed, base_requests, cand_failed, cand_requests = paired_bins(base, cand, schedule)
    p = more_failures_p_value(base_failed, base_requests, cand_failed, cand_requests)
    if math.isnan(p):
        return ResilienceRow("err%", math.nan, math.nan, p, Status.NO_DATA, "no paired bins")
    base_rate = base_failed.sum() / base_requests.sum()
    cand_rate = cand_failed.sum() / cand_requests.sum()
    every_round = all(
        _rise([a], [b], schedule) >= MIN_RATE_RISE for a, b in zip(base, cand, strict=True)
    )
    regressed = p < ALPHA and every_round
    rule = f"p < {ALPHA}, +{100 * MIN_RATE_RISE:g} pp each round"
    status = Status.REGRESSED if regressed else Status.OK
    return ResilienceRow("err%", float(base_rate), float(cand_rate), p, status, rule)


def _worst_recovery(rounds: Sequence[SideRound]) -> float:
    """The slowest recovery over the rounds; never recovering counts as infinitely slow."""
    return max(math.inf if r.recovery_s is None else r.recovery_s for r in rounds)


def _recovery_row(base: Sequence[SideRound], cand: Sequence[SideRound]) -> ResilienceRow:
    base_s, cand_s = _worst_recovery(base), _worst_recovery(cand)
    regressed = cand_s > base_s + RECOVERY_MARGIN_S or (
        math.isinf(cand_s) and not math.isinf(base_s)
    )
    status = Status.REGRESSED if regressed else Status.OK
    rule = f"worst round > A's + {RECOVERY_MARGIN_S:g} s"
    return ResilienceRow("recovery s", base_s, cand_s, math.nan, status, rule)


def _totals(rounds: Sequence[SideRound], name: str) -> int:
    return sum(int(getattr(r, name)) for r in rounds)


def compare_sides(
    base: Sequence[SideRound], cand: Sequence[SideRound], schedule: Sequence[Phase]
) -> list[ResilienceRow]:
    """The stage's verdict rows, pooled over the rounds of `schedule`."""
    if not base or not cand:
        return [ResilienceRow("rounds", math.nan, math.nan, math.nan, Status.NO_DATA, "none ran")]
    base_requests, cand_requests = _totals(base, "requests"), _totals(cand, "requests")
    return [
        _never("lost writes", _totals(base, "lost"), _totals(cand, "lost"), "any fails"),
        _never("dup writes", _totals(base, "duplicated"), _totals(cand, "duplicated"), "any fails"),
        _never("500s", _totals(base, "status_500"), _totals(cand, "status_500"), "any fails"),
        _errors_row(base, cand, schedule),
        _late_row((_totals(base, "late"), base_requests), (_totals(cand, "late"), cand_requests)),
        _recovery_row(base, cand),
    ]


def _cell(row: ResilienceRow, value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if row.metric.endswith("%"):
        return f"{100 * value:.2f}"
    if math.isinf(value):
        return "never"
    return f"{value:.2f}" if row.metric == "recovery s" else f"{value:.0f}"


def format_rows(rows: Sequence[ResilienceRow], rounds: int, seed: int) -> str:
    """The rows under the verdict table's columns, and the rules that decided them."""
    header = (
        f"{'endpoint':<10}  {'metric':<11}  {'A base':>8}  {'B cand':>8}  {'rule':<24}"
        f"  {'p':>6}  verdict"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        p = "" if math.isnan(row.p_value) else f"{row.p_value:6.3f}"
        lines.append(
            f"{row.endpoint:<10}  {row.metric:<11}  {_cell(row, row.baseline):>8}"
            f"  {_cell(row, row.candidate):>8}  {row.rule:<24}  {p:>6}  {row.status}"
        )
    lines += [
        f"resilience: {rounds} rounds of the schedule seeded {seed} on both database links at"
        " once, under the chaos workload (counts and rates pooled over rounds);",
        "lost / dup writes: acknowledged creates missing / any create stored twice (chaos"
        " checker); 500s: 5xx answers other than 503/504;",
        "err%: failed / all requests while the link was calm or answerable (churn);",
        f"  p: one-sided Wilcoxon signed-rank over {BIN_S:g} s bins of both sides' failed shares,"
        " paired in time;",
        f"late%: answered after the {DEADLINE_S:g} s deadline + {LATE_MARGIN_S:g} s (or never);"
        " p: one-sided Fisher exact;",
        "recovery s: from the last fault's removal until requests are good again, worst round"
        " (chaos checker).",
    ]
    return "\n".join(lines)


def as_record(
    rows: Sequence[ResilienceRow], by_side: Mapping[str, Sequence[SideRound]], seed: int
) -> dict[str, Any]:
    """The stage's part of gate.json: the schedule, the figures per side and round, the rows."""
    return {
        "seed": seed,
        "schedule": [
            {"phase": phase.name, "duration_s": phase.duration_s, "answerable": phase.answerable}
            for phase in fault_schedule(seed)
        ],
        "rounds": {side: [asdict(r) for r in rounds] for side, rounds in by_side.items()},
        "rows": [{**asdict(row), "status": str(row.status)} for row in rows],
        "passed": not any(row.fails for row in rows),
    }
