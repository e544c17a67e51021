"""Scenario selection and combination."""

from __future__ import annotations

import pytest

from chaos.__main__ import stack_groups
from chaos.scenarios import SCENARIOS, select


def test_every_scenario_of_the_issue_is_listed() -> None:
    assert set(SCENARIOS) == {
        "baseline",
        "latency",
        "bandwidth",
        "slow_close",
        "blackhole",
        "reset_peer",
        "reset_peer_intermittent",
        "reset_peer_churn",
        "slicer",
        "limit_data",
        "outage",
        "flapping",
        "api_latency",
        "redis_outage",
        "redis_blackhole",
        "rate_limited",
        "rate_limited_churn",
        "rate_limited_retry_after",
        "write_lock",
        "write_lock_file",
        "kill_database",
        "pause_database",
        "kill_app",
        "token_rotation",
        "ws_reset_in_flight",
        "ws_half_open",
        "restart_database",
        "stream_expiry",
        "ws_upgrade_refused",
    }


def test_all_selects_every_scenario_in_order() -> None:
    assert [s.name for s in select("all")] == list(SCENARIOS)


def test_a_comma_list_selects_those_scenarios() -> None:
    assert [s.name for s in select("outage, latency")] == ["outage", "latency"]


def test_plus_combines_faults_and_takes_the_looser_bounds() -> None:
    (combined,) = select("api_latency+reset_peer_intermittent")

    assert combined.name == "api_latency+reset_peer_intermittent"
    assert {f.link for f in combined.faults} == {"api", "turso"}
    assert (
        combined.expect.latency_allowance_ms == SCENARIOS["api_latency"].expect.latency_allowance_ms
    )
    assert combined.expect.min_success_rate == 0.99


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown scenario 'latncy'; known: baseline"):
        select("latncy")


def test_an_empty_selection_is_refused() -> None:
    with pytest.raises(ValueError, match="no scenario"):
        select(" , ")


def test_only_baseline_injects_no_fault() -> None:
    # A server setting (a low admission limit) is a fault for the whole run, not a window.
    faultless = [s.name for s in SCENARIOS.values() if not (s.injects_faults or s.server_args)]
    assert faultless == ["baseline"]


def test_scenarios_needing_another_stack_shape_run_on_their_own_stack() -> None:
    groups = stack_groups(
        select("baseline,outage,redis_outage,write_lock_file,redis_blackhole,latency")
    )

    # One stack per shape, however the shapes alternate in the list asked for.
    assert [[s.name for s in group] for group in groups] == [
        ["baseline", "outage", "latency"],
        ["redis_outage", "redis_blackhole"],
        ["write_lock_file"],
    ]


def test_server_flag_scenarios_say_whether_they_run_on_sqld() -> None:
    on_sqld = {s.name for s in SCENARIOS.values() if s.server_args and s.runs_on_sqld}

    assert on_sqld == {"rate_limited", "rate_limited_churn"}
    assert not SCENARIOS["rate_limited_retry_after"].runs_on_sqld  # sqld sends no Retry-After
    assert not SCENARIOS["write_lock_file"].runs_on_sqld  # sqld's file is its own
    assert SCENARIOS["write_lock"].runs_on_sqld


def test_only_the_faults_of_a_websocket_are_ws_only_and_on_the_local_server() -> None:
    ws_only = {s.name for s in SCENARIOS.values() if s.ws_only}

    assert ws_only == {"ws_half_open", "ws_upgrade_refused"}
    assert not any(SCENARIOS[name].runs_on_sqld for name in ws_only)  # sqld has no such flags
    assert select("ws_half_open+outage")[0].ws_only
