"""The checker catches a broken app in a real run: lost and duplicated writes fail.

A broken build of the app (tests/chaos/broken_app.py) acknowledges writes it then deletes
or stores twice; the same stack, workload and checker as `make chaos` must flag them (Jepsen
validates its checkers against deliberately broken systems the same way).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chaos.__main__ import run_mode
from chaos.runner import ChaosConfig, ScenarioResult
from chaos.scenarios import select
from tests.chaos.broken_app import DUPLICATING_APP, LOSING_APP
from tests.chaos.test_matrix import LIGHT_LOAD, SHORT

pytestmark = [pytest.mark.integration, pytest.mark.chaos]


def run_broken(app_factory: str, tmp_path: Path) -> ScenarioResult:
    config = ChaosConfig(workload=LIGHT_LOAD, app_factory=app_factory, **SHORT)
    [result] = asyncio.run(run_mode(select("baseline"), config, tmp_path, run_id="broken"))
    print(app_factory, {v.name: v.figures for v in result.verdicts if not v.passed})
    return result


def test_an_app_that_loses_acknowledged_writes_fails_lost(tmp_path: Path) -> None:
    result = run_broken(LOSING_APP, tmp_path)

    lost = result.verdict("lost")
    assert not lost.passed
    assert lost.figures["lost"] > 0
    assert result.verdict("duplicated").passed


def test_an_app_that_stores_writes_twice_fails_duplicated(tmp_path: Path) -> None:
    result = run_broken(DUPLICATING_APP, tmp_path)

    duplicated = result.verdict("duplicated")
    assert not duplicated.passed
    assert duplicated.figures["duplicated"] > 0
    assert result.verdict("lost").passed
