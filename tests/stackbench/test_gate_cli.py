"""The gate's command line: bad input is one line and exit 2; a stored baseline recorded
under other conditions is refused (exit 3) before any stack starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT
from stackbench.gate import EXIT_ERROR, EXIT_NOT_COMPARABLE, conditions, trial_seconds


def gate(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stackbench.gate", *argv],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--trials", "3"],
        ["--trials", "x"],
        ["--inject-p95", "-1"],
        ["--trial-s", "0"],
        ["--stages", "speed"],
        ["--stages", ","],
        ["--base", "file", "--stages", "resilience"],
    ],
)
def test_bad_flags_are_one_line_and_exit_2(argv: list[str]) -> None:
    result = gate(*argv)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout")
def test_an_unknown_base_commit_is_one_line_and_exit_2() -> None:
    result = gate("--base", "no-such-commit-anywhere")

    assert result.returncode == EXIT_ERROR
    assert result.stderr.startswith("gate: git rev-parse")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_baseline_from_another_machine_is_not_judged(tmp_path: Path) -> None:
    here = conditions()
    stored = {**here, "cpu_count": here["cpu_count"] + 62, "trials": []}
    stored.pop("load_per_cpu")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(stored))

    result = gate("--base", "file", "--baseline", str(baseline), "--out", str(tmp_path))

    assert result.returncode == EXIT_NOT_COMPARABLE
    assert "NOT COMPARABLE" in result.stdout
    assert f"cpu_count: baseline {here['cpu_count'] + 62}, now {here['cpu_count']}" in result.stdout
    assert "machine load: not recorded" in result.stdout
    assert "gate: trial" not in result.stdout  # refused before any stack or trial


def test_the_injected_regression_needs_the_ab_mode(tmp_path: Path) -> None:
    result = gate("--base", "file", "--inject-p95", "0.2", "--out", str(tmp_path))

    assert result.returncode == EXIT_ERROR


@pytest.mark.parametrize(
    ("warmup_rps", "expected_s"),
    [(400.0, 6), (100.0, 9), (20.0, 15), (0.0, 6)],
)
def test_a_slow_machine_gets_longer_trials_within_the_cap(
    warmup_rps: float, expected_s: int
) -> None:
    # Each side gets half the rate in a paired trial and needs 300 x 1.5 requests.
    assert trial_seconds(6, warmup_rps) == expected_s
