"""The A/B gate end to end: two real stacks (baseline worktree and working tree), real Locust.

An unchanged tree passes; a candidate whose responses are delayed by 20% of the p95 (a
latency toxic on the candidate's `api` link only) fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout: the A/B gate needs git"
    ),
]

TRIALS, TRIAL_S = "8", "6"  # as `make gate`: shorter trials miss 300 requests under load


def gate(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "stackbench.gate", "--base", "HEAD", "--trials", TRIALS]
    argv += ["--trial-s", TRIAL_S, "--out", str(out), "--stages", "latency", *extra]
    return subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=290)


def line(stdout: str, endpoint: str, metric: str) -> str:
    return next(
        row for row in stdout.splitlines() if row.startswith(endpoint) and f" {metric} " in row
    )


def test_an_unchanged_tree_passes(tmp_path: Path) -> None:
    result = gate(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("gate: trial ") == int(TRIALS)  # one progress line per trial
    assert "gate: PASS" in result.stdout
    assert "ok" in line(result.stdout, "Aggregated", "p95 ok")
    record = json.loads((tmp_path / "gate.json").read_text())
    assert record["transport"] == record["database"]["transport"] == "ws"
    assert "gate: both apps reach their database over ws" in result.stdout


def test_an_injected_twenty_percent_p95_regression_fails(tmp_path: Path) -> None:
    result = gate(tmp_path, "--inject-p95", "0.2")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "injecting" in result.stdout
    # A constant delay of 20% of p95 moves p50 by more than 20%: either shows it.
    aggregated = [line(result.stdout, "Aggregated", m) for m in ("p50 ok", "p95 ok")]
    assert any("REGRESSED" in row for row in aggregated), aggregated
    assert "gate: FAIL" in result.stdout
