"""How a scenario's expectations become per-phase bounds for the checker."""

from __future__ import annotations

import pytest

from chaos.checker import observation_needed_s
from chaos.history import RequestRecord
from chaos.runner import ChaosConfig, observation_s, verdicts
from chaos.scenarios import SCENARIOS
from chaos.workload import History


def history_with_503s(share: float, count: int = 200) -> History:
    """No fault window: every request falls in the "before" phase."""
    failing = int(count * share)
    history = History()
    history.requests = [
        RequestRecord("read", i * 0.01, i * 0.01 + 0.005, 503 if i < failing else 200, True, True)
        for i in range(count)
    ]
    return history


def availability(scenario_name: str, history: History) -> bool:
    results = verdicts(SCENARIOS[scenario_name], ChaosConfig(), history, [], None)
    return next(v for v in results if v.name == "availability").passed


@pytest.mark.parametrize("name", ["rate_limited_churn", "rate_limited_retry_after"])
def test_a_server_flag_scenario_is_not_held_to_a_healthy_warm_up(name: str) -> None:
    # The server's flags hold from the start: answered 503s before the window are the fault.
    assert availability(name, history_with_503s(0.05))


def test_a_server_flag_scenario_is_held_to_its_own_bound_from_the_start() -> None:
    # rate_limited leaves room for one call at a time, enough for the load: 99% must succeed.
    assert not availability("rate_limited", history_with_503s(0.05))
    assert availability("rate_limited", history_with_503s(0.005))


def test_a_window_scenario_still_needs_a_healthy_warm_up() -> None:
    assert not availability("outage", history_with_503s(0.05))


def test_a_short_observation_is_lengthened_to_judge_recovery_within_its_bound() -> None:
    outage = SCENARIOS["outage"]
    needed = observation_needed_s(outage.expect.recovery_bound_s)

    assert observation_s(outage, ChaosConfig(observe_s=2.0)) == needed
    assert observation_s(outage, ChaosConfig(observe_s=needed + 5)) == needed + 5
