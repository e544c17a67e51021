"""A short version of the chaos matrix against the real stack and toxiproxy-server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chaos.__main__ import run_mode
from chaos.runner import AppMode, ChaosConfig, ScenarioResult
from chaos.scenarios import select
from chaos.workload import WorkloadConfig

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

# The test suite must pass with a CPU hog on every core, where the app's event loop answers
# its deadline late; a stall of the naive app (2-3 s) still exceeds deadline + 50%.
SHORT = {"warmup_s": 0.5, "fault_s": 1.5, "observe_s": 2.0, "latency_slack": 1.5}
LIGHT_LOAD = WorkloadConfig(writers=3, readers=2, batch_writers=1, batch_size=10)


def run(mode: AppMode, spec: str, tmp_path: Path) -> list[ScenarioResult]:
    config = ChaosConfig(mode=mode, workload=LIGHT_LOAD, **SHORT)
    return asyncio.run(run_mode(select(spec), config, tmp_path, run_id="test"))


def failures(results: list[ScenarioResult]) -> dict[str, dict[str, object]]:
    """Each failing scenario's failed invariants with their figures, for the assertion message."""
    return {
        r.scenario: {v.name: v.figures for v in r.verdicts if not v.passed}
        for r in results
        if not r.passed
    }


def test_hardened_app_keeps_every_invariant_in_every_scenario(tmp_path: Path) -> None:
    results = run("hardened", "all", tmp_path)

    assert failures(results) == {}
    assert all(r.verdict("lost").figures["acked"] for r in results)


def test_naive_app_breaks_invariants_the_guide_pattern_cannot_keep(tmp_path: Path) -> None:
    spec = "outage,blackhole,reset_peer,limit_data,kill_database,pause_database"
    results = {r.scenario: r for r in run("naive", spec, tmp_path)}

    assert not results["outage"].verdict("errors").passed
    assert not results["blackhole"].verdict("latency").passed
    assert not results["reset_peer"].verdict("errors").passed
    # Responses cut after the write landed; the client's retry stores it again.
    assert not results["limit_data"].verdict("duplicated").passed
    # Process faults: a killed database is a 500; a stalled one, with no deadline, a stall.
    assert not results["kill_database"].verdict("errors").passed
    assert not results["pause_database"].verdict("latency").passed
    assert all(r.verdict("lost").passed for r in results.values())
