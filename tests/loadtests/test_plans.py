"""Each load shape's plan: users over time from --users, --spawn-rate and --run-time."""

from __future__ import annotations

import math

import pytest

from loadtests.plans import Load, constant, ramp, soak, spike, step

LOAD = Load(users=20, spawn_rate=5.0, run_time_s=100.0)


@pytest.mark.parametrize("plan", [constant, ramp, step, spike, soak])
def test_every_plan_stops_at_the_run_time(plan: object) -> None:
    assert plan(99.9, LOAD) is not None  # type: ignore[operator]
    assert plan(100.0, LOAD) is None  # type: ignore[operator]


def test_constant_holds_all_users() -> None:
    assert constant(0.0, LOAD) == (20, 5.0)


def test_ramp_grows_linearly_from_one_user() -> None:
    assert ramp(0.0, LOAD) == (1, 5.0)
    assert ramp(50.0, LOAD) == (10, 5.0)
    assert ramp(99.0, LOAD) == (20, 5.0)


def test_step_climbs_in_four_quarters() -> None:
    assert [step(t, LOAD)[0] for t in (0, 25, 50, 75)] == [5, 10, 15, 20]  # type: ignore[index]


def test_spike_is_all_users_only_in_the_middle_fifth() -> None:
    assert spike(39.0, LOAD) == (5, 5.0)
    assert spike(40.0, LOAD) == (20, 20.0)
    assert spike(60.0, LOAD) == (5, 5.0)


def test_soak_ramps_then_holds() -> None:
    assert soak(15.0, LOAD) == (10, 5.0)
    assert soak(90.0, LOAD) == (20, 5.0)


def test_no_run_time_means_until_stopped() -> None:
    assert constant(1e9, Load(3, 1.0, math.inf)) == (3, 1.0)
