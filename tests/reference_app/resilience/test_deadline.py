"""Deadlines on a fake clock, and the context variable that carries them."""

from __future__ import annotations

import math

from reference_app.resilience.deadline import Deadline, current_deadline, deadline_scope, latest
from tests.reference_app.fakes import FakeClock


def test_remaining_counts_down_and_stops_at_zero() -> None:
    clock = FakeClock()
    deadline = Deadline.after(1.0, clock)

    clock.advance(0.25)
    assert deadline.remaining() == 0.75
    clock.advance(5)
    assert deadline.remaining() == 0.0


def test_budget_is_the_smaller_of_the_timeout_and_the_time_left() -> None:
    clock = FakeClock()
    deadline = Deadline.after(1.0, clock)

    assert deadline.budget(0.5) == 0.5
    assert deadline.budget(2.0) == 1.0
    assert deadline.budget(None) == 1.0
    assert Deadline.never().budget(0.5) == 0.5
    assert Deadline.never().budget(None) is None


def test_the_scope_sets_and_restores_the_current_deadline() -> None:
    deadline = Deadline.after(1.0, FakeClock())
    assert math.isinf(current_deadline().expires_at)

    with deadline_scope(deadline):
        assert current_deadline() is deadline

    assert math.isinf(current_deadline().expires_at)


def test_latest_picks_the_deadline_that_ends_last() -> None:
    clock = FakeClock()
    short, long = Deadline.after(1.0, clock), Deadline.after(3.0, clock)

    assert latest([short, long]) is long
