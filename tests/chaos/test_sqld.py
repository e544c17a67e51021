"""Faults on the database link reach the real sqld too: it sits behind the same proxy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chaos.__main__ import run_mode
from chaos.runner import ChaosConfig
from chaos.scenarios import select
from chaos.workload import WorkloadConfig
from harness.stack import DatabaseInfo

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

SHORT = {"warmup_s": 0.5, "fault_s": 1.5, "observe_s": 2.0}
LIGHT_LOAD = WorkloadConfig(writers=3, readers=2, batch_writers=1, batch_size=10)


def test_hardened_app_on_sqld_keeps_every_invariant_under_database_faults(
    sqld_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLD_BIN", str(sqld_bin))
    config = ChaosConfig(mode="hardened", workload=LIGHT_LOAD, **SHORT)
    databases: list[DatabaseInfo] = []

    results = asyncio.run(
        run_mode(select("outage,reset_peer,latency"), config, tmp_path, "test", databases)
    )

    assert [d.server for d in databases] == ["sqld"]
    failed = {r.scenario: [v.name for v in r.verdicts if not v.passed] for r in results}
    assert failed == {"outage": [], "reset_peer": [], "latency": []}
    outage = next(r for r in results if r.scenario == "outage")
    assert outage.verdict("errors").figures["status_503"] > 0  # the fault did reach sqld's link


def test_a_token_rotation_on_sqld_is_refusals_then_a_recovery_by_itself(
    sqld_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLD_BIN", str(sqld_bin))
    config = ChaosConfig(mode="hardened", workload=LIGHT_LOAD, **SHORT)

    [result] = asyncio.run(run_mode(select("token_rotation"), config, tmp_path, "test"))

    assert {v.name: v.figures for v in result.verdicts if not v.passed} == {}
    assert result.verdict("token_rotation").figures["refused"] > 0
    assert result.verdict("errors").figures["status_500_or_other"] == 0
