"""On CI a missing redis-server fails the tests that need it instead of skipping them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.scenarios import SCENARIOS
from harness.settings import HarnessSettings
from tests.chaos.test_matrix import every_scenario, required_redis


def test_a_missing_redis_server_fails_on_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        required_redis(tmp_path / "redis-server", HarnessSettings(ci=True))


def test_a_missing_redis_server_skips_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="no redis-server"):
        required_redis(tmp_path / "redis-server", HarnessSettings(ci=False))


def test_a_present_redis_server_is_used(tmp_path: Path) -> None:
    binary = tmp_path / "redis-server"
    binary.touch()

    assert required_redis(binary, HarnessSettings(ci=True)) == binary


def test_the_matrix_runs_every_scenario_and_only_the_redis_ones_need_redis() -> None:
    with_redis = every_scenario(faulting_the_shared_cache=True).split(",")
    without = every_scenario(faulting_the_shared_cache=False).split(",")

    assert sorted(with_redis + without) == sorted(SCENARIOS)
    assert sorted(with_redis) == ["redis_blackhole", "redis_outage"]
