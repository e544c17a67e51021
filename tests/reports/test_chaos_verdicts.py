"""The chaos run at a glance: short rows, a closing line per mode, words for the terms."""

from __future__ import annotations

from typing import Any

from reports.chaos_verdicts import closing_lines, compact_table, data_cell, judged, key_figures


def scenario(
    name: str, mode: str, expected: str = "pass", retries: float = 0, **invariants: dict[str, Any]
) -> dict[str, Any]:
    base: dict[str, dict[str, Any]] = {
        "lost": {"passed": True, "lost": 0, "acked": 500},
        "duplicated": {"passed": True, "duplicated": 0},
        "lost_update": {"passed": True, "lost": 0, "refused_applied": 0, "acked": 20},
        "latency": {"passed": True, "during_p99_ms": 9.0, "during_bound_ms": 1100.0},
        "errors": {"passed": True, "status_500_or_other": 0, "status_503": 0, "unanswered": 0},
        "availability": {"passed": True, "during_success_rate": 1.0, "during_minimum": None},
        "recovery": {"passed": True, "recovery_s": 0.1, "bound_s": 2.0},
        "recovered": {"passed": True, "indeterminate": 0, "landed": 0},
    }
    for key, figures in invariants.items():
        base[key] = {**base[key], **figures}
    passed = all(v["passed"] for v in base.values())
    return {
        "scenario": name,
        "mode": mode,
        "passed": passed,
        "expected": expected,
        "retries": retries,
        "invariants": base,
    }


OUTAGE_HARDENED = scenario(
    "outage",
    "hardened",
    retries=0,
    errors={"status_503": 889},
    availability={"during_success_rate": 0.7463},
    recovered={"indeterminate": 237, "landed": 1},
)
OUTAGE_NAIVE = scenario(
    "outage", "naive", "fail", errors={"passed": False, "status_500_or_other": 781}
)
LIMIT_NAIVE = scenario(
    "limit_data",
    "naive",
    "fail",
    duplicated={"passed": False, "duplicated": 160},
    errors={"passed": False, "status_500_or_other": 48},
)
LATENCY_NAIVE = scenario("latency", "naive", "pass")


def test_a_passing_scenario_shows_what_it_absorbed_and_marks_unjudged_figures() -> None:
    assert key_figures(OUTAGE_HARDENED) == ("889x503; success 74.6% not judged")


def test_a_failing_scenario_shows_its_failures_with_data_loss_in_its_own_column() -> None:
    assert key_figures(LIMIT_NAIVE) == "48x500"  # the data column has the duplicates
    assert data_cell(LIMIT_NAIVE) == "160 stored twice"
    assert data_cell(OUTAGE_HARDENED) == "none lost"


def test_a_failed_token_rotation_says_which_failures_were_not_the_refusal() -> None:
    rotation = scenario("token_rotation", "hardened")
    rotation["invariants"]["token_rotation"] = {
        "passed": False,
        "other_failures": 215,
        "other_codes": "500",
        "readiness_status": 503,
    }

    assert key_figures(rotation) == "215 failures not the refusal (500)"


def test_lost_updates_are_data_loss_too() -> None:
    kill = scenario("kill_app", "naive", "fail", lost_update={"passed": False, "lost": 2})
    refused = scenario("outage", "hardened", lost_update={"passed": False, "refused_applied": 1})

    assert data_cell(kill) == "2 updates lost"
    assert data_cell(refused) == "1 refused updates applied"
    assert key_figures(kill) == ""  # nothing else failed: the data column says it all


def test_latency_and_availability_failures_name_the_phase_and_the_bound() -> None:
    slow = scenario(
        "blackhole",
        "naive",
        latency={"passed": False, "during_p99_ms": 3027.0, "failing": "during"},
        availability={
            "passed": False,
            "during_success_rate": 0.922,
            "during_minimum": 0.99,
            "failing": "during",
        },
    )

    assert key_figures(slow) == (
        "p99 during fault 3027 ms > 1100; success 92.2% during fault < 99%"
    )


def test_rows_are_short_and_say_whether_naive_failed_as_expected() -> None:
    table = compact_table([OUTAGE_HARDENED, OUTAGE_NAIVE, LATENCY_NAIVE, LIMIT_NAIVE])
    lines = table.splitlines()

    assert lines[0].split() == ["scenario", "mode", "verdict", "data", "recovery", "key", "figures"]
    assert "FAIL (expected)" in lines[3]
    assert "pass (expected)" in lines[4]
    assert max(len(line) for line in lines) <= 120


def test_closing_lines_per_mode() -> None:
    scenarios = [OUTAGE_HARDENED, OUTAGE_NAIVE, LIMIT_NAIVE, LATENCY_NAIVE]

    assert closing_lines(scenarios) == ["hardened: 1/1 pass", "naive: 2/3 fail — expected"]


def test_closing_lines_per_transport_and_mode_in_the_order_they_ran() -> None:
    over = [
        {**OUTAGE_HARDENED, "transport": "ws"},
        {**OUTAGE_NAIVE, "transport": "ws"},
        {**OUTAGE_HARDENED, "transport": "http"},
        {**OUTAGE_NAIVE, "transport": "http"},
        {**LATENCY_NAIVE, "transport": "http"},
    ]

    assert closing_lines(over) == [
        "hardened over ws: 1/1 pass",
        "naive over ws: 1/1 fail — expected",
        "hardened over http: 1/1 pass",
        "naive over http: 1/2 fail — expected",
    ]
    assert "hardened over http" in compact_table(over)


def test_a_result_not_as_expected_is_named() -> None:
    surprising = scenario("latency", "naive", "pass", errors={"passed": False})
    failing = scenario("outage", "hardened", recovery={"passed": False, "recovery_s": None})

    assert closing_lines([failing, surprising]) == [
        "hardened: 1/1 FAIL — the hardened app must pass every scenario",
        "naive: 1/1 fail — not as expected: latency",
    ]
    assert "never recovered" in key_figures(failing)


def test_bounds_that_do_not_apply_are_not_judged() -> None:
    assert not judged("availability", {"during_minimum": None, "before_minimum": None})
    assert judged("availability", {"during_minimum": 0.99})
    assert not judged("availability", {"minimum": None})  # the older checker's shape
    assert not judged("recovery", {"recovery_s": 0.1, "bound_s": None})
    assert not judged("recovered", {"indeterminate": 3})


def test_no_fault_has_no_recovery_and_error_figures_stay_short() -> None:
    quiet = {**scenario("baseline", "hardened"), "fault_window_s": None}
    noisy = scenario(
        "outage",
        "naive",
        "fail",
        errors={"passed": False, "status_500_or_other": 182, "unanswered": 49, "not_json": 182},
    )

    assert compact_table([quiet]).splitlines()[2].split()[5] == "—"  # after "none lost"
    assert key_figures(noisy) == "182x500, 49 unanswered"


def test_a_passing_scenario_leads_with_the_retries_that_absorbed_the_fault() -> None:
    churn = scenario("reset_peer_churn", "hardened", retries=151)

    assert key_figures(churn) == "151 retries"
