"""The resilience stage's rules on hand-made figures: each row fails on the candidate's
broken figures, never for the baseline's, and the schedule is the same for a seed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chaos.history import RequestRecord
from chaos.workload import History
from stackbench.gate_resilience import (
    BIN_S,
    DEADLINE_S,
    LATE_AFTER_S,
    Phase,
    RoundClock,
    SideRound,
    answerable_windows,
    compare_sides,
    fault_schedule,
    format_rows,
    paired_bins,
    side_figures,
)
from stackbench.gate_stats import Status

BINS = 20  # 10 s of a round
# Hand-made rounds: one answerable phase over the whole round; the real schedule's
# phases are tested on their own below.
WHOLE_ROUND = (Phase("answerable", BINS * BIN_S, answerable=True),)


def calm_round(
    failed_bins: tuple[int, ...] = (), recovery_s: float | None = 0.1, burst: range = range(0)
) -> SideRound:
    """20 requests per bin; in `failed_bins`, 10 of them failed, in the `burst`, all 20."""
    failed_per_bin = [10 if n in failed_bins else 0 for n in range(BINS)]
    for n in burst:
        failed_per_bin[n] = 20
    return SideRound(
        requests=20 * BINS,
        failed=sum(failed_per_bin),
        failed_by_kind={},
        late=0,
        status_500=0,
        lost=0,
        duplicated=0,
        acked_writes=100,
        recovery_s=recovery_s,
        requests_per_bin=[20] * BINS,
        failed_per_bin=failed_per_bin,
        phases_started_s=[0.0, BINS * BIN_S],
    )


FAULTS = (2, 3, 10, 11)  # bins where both sides fail alike


def statuses(base: list[SideRound], cand: list[SideRound]) -> dict[str, Status]:
    return {row.metric: row.status for row in compare_sides(base, cand, WHOLE_ROUND)}


def test_identical_sides_pass_every_row() -> None:
    sides = [calm_round(FAULTS), calm_round(FAULTS)]

    assert set(statuses(sides, sides).values()) == {Status.OK}


@pytest.mark.parametrize(
    ("figure", "metric"),
    [("lost", "lost writes"), ("duplicated", "dup writes"), ("status_500", "500s")],
)
def test_one_broken_guarantee_fails_its_row_only_for_the_candidate(
    figure: str, metric: str
) -> None:
    good = [calm_round(FAULTS)] * 2
    broken = [replace(calm_round(FAULTS), **{figure: 1}), calm_round(FAULTS)]

    assert statuses(good, broken)[metric] is Status.REGRESSED
    assert statuses(broken, good)[metric] is Status.OK  # the baseline's own faults never fail it


def test_failures_in_more_bins_than_the_baseline_fail_the_error_row() -> None:
    base = [calm_round(FAULTS)] * 2
    churned = tuple(range(4, 10))  # the candidate also fails where a retry would have saved it
    cand = [calm_round(FAULTS + churned)] * 2

    assert statuses(base, cand)["err%"] is Status.REGRESSED
    assert statuses(cand, base)["err%"] is Status.OK


def test_failing_more_in_one_round_only_does_not_fail_the_error_row() -> None:
    """A breaker that opened through the whole churn on one side, once: the failures are
    many and significant pooled, but a missing retry would show in every round."""
    base = [calm_round(FAULTS)] * 2
    cand = [calm_round(FAULTS, burst=range(4, 10)), calm_round(FAULTS)]

    assert statuses(base, cand)["err%"] is Status.OK


def test_a_single_burst_of_failures_does_not_fail_the_error_row() -> None:
    """A breaker open a second longer on one side, once: one burst, not a worse candidate
    (pooled over requests, its 40 failures would look significant)."""
    base = [calm_round(FAULTS)] * 2
    cand = [calm_round(FAULTS, burst=range(6, 8)), calm_round(FAULTS)]

    assert statuses(base, cand)["err%"] is Status.OK


def test_late_answers_fail_when_significantly_more_than_the_baseline() -> None:
    base = [calm_round(FAULTS)] * 2
    hung = [replace(calm_round(FAULTS), late=12)] * 2
    one = [replace(calm_round(FAULTS), late=1), calm_round(FAULTS)]

    assert statuses(base, hung)["late%"] is Status.REGRESSED
    assert statuses(hung, base)["late%"] is Status.OK
    assert statuses(base, one)["late%"] is Status.OK  # one late answer is no evidence


def test_a_recovery_slower_by_more_than_the_margin_fails() -> None:
    base = [calm_round(FAULTS, recovery_s=0.2)] * 2
    slower = [calm_round(FAULTS, recovery_s=0.2), calm_round(FAULTS, recovery_s=1.5)]
    never = [calm_round(FAULTS, recovery_s=None), calm_round(FAULTS)]

    assert statuses(base, slower)["recovery s"] is Status.REGRESSED
    assert statuses(base, never)["recovery s"] is Status.REGRESSED
    assert statuses(never, base)["recovery s"] is Status.OK
    assert statuses(never, never)["recovery s"] is Status.OK


def test_no_rounds_is_no_data_and_fails() -> None:
    [row] = compare_sides([], [], WHOLE_ROUND)

    assert row.fails


def test_bins_where_one_side_sent_nothing_are_left_out() -> None:
    base = calm_round(FAULTS)
    stalled = replace(base, requests_per_bin=[0] * BINS, failed_per_bin=[0] * BINS)

    base_failed, *_ = paired_bins([base], [stalled], WHOLE_ROUND)

    assert base_failed.size == 0


def test_only_bins_of_the_calm_start_and_answerable_phases_are_compared() -> None:
    schedule = (
        Phase("down", 1.0),
        Phase("churn", 1.0, answerable=True),
        Phase("down", 1.0),
    )
    started = [1.0, 2.0, 3.0, 4.0]  # and all removed at 4 s

    assert answerable_windows(started, schedule) == [(0.0, 1.0), (2.0, 3.0)]
    base = replace(calm_round(), phases_started_s=started)
    cand = replace(base, failed_per_bin=[20] * BINS)  # fails everything, everywhere

    base_failed, base_requests, cand_failed, _ = paired_bins([base], [cand], schedule)

    assert base_requests.size == 4  # 0-0.5, 0.5-1, 2-2.5 and 2.5-3 s
    assert cand_failed.sum() == 80
    assert base_failed.sum() == 0


def test_the_schedule_is_the_same_for_a_seed_and_differs_between_seeds() -> None:
    assert fault_schedule(7) == fault_schedule(7)
    assert fault_schedule(7) != fault_schedule(8)
    assert all(phase.duration_s > 0 for phase in fault_schedule(7))
    assert any(phase.answerable for phase in fault_schedule(7))


def test_side_figures_counts_late_and_failed_requests_per_bin() -> None:
    late_s = LATE_AFTER_S + 0.1
    history = History(
        requests=[
            RequestRecord("read", 1.0, 1.1, 200),
            RequestRecord("write", 1.0, 1.0 + late_s, 503),
            RequestRecord("write", 1.0 + BIN_S, 1.1 + BIN_S, None),
            RequestRecord("read", 2.0, 2.1, 500),
        ]
    )

    figures = side_figures(history, [], fault_removed_s=1.5, clock=RoundClock(1.0, []))

    assert (figures.requests, figures.failed, figures.late, figures.status_500) == (4, 3, 1, 1)
    assert figures.failed_by_kind == {"write": 2, "read": 1}
    assert figures.requests_per_bin[:2] == [2, 1]
    assert figures.failed_per_bin[:2] == [1, 1]


def test_the_table_names_every_row_and_its_rule() -> None:
    sides = [calm_round(FAULTS)] * 2
    table = format_rows(compare_sides(sides, sides, WHOLE_ROUND), rounds=2, seed=20)

    for metric in ("lost writes", "dup writes", "500s", "err%", "late%", "recovery s"):
        assert f"resilience  {metric}" in table


def test_the_deadline_judged_is_fixed_not_read_from_the_candidate() -> None:
    # The gate process runs the candidate's code: a deadline read from reference_app would
    # let a candidate that raised its own deadline move the bar with it.
    import inspect

    import stackbench.gate_resilience as stage
    from reference_app.settings import DEFAULT_REQUEST_DEADLINE_MS

    assert DEFAULT_REQUEST_DEADLINE_MS == 1000 * DEADLINE_S  # the documented default
    assert "reference_app" not in inspect.getsource(stage)
