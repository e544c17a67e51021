"""`python -m stackbench.coordinated_omission` for real: Locust users, a real app, a real stall.

A latency toxic holds every response on the load -> app link for STALL_S. The closed model
waits it out once per user (a handful of slow samples, hidden below p99); the open model
keeps its schedule and times requests from when they were due, so its p99 shows the stall.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

STALL_S = 1.5


def test_open_model_p99_shows_a_stall_the_closed_model_hides(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    argv = [sys.executable, "-m", "stackbench.coordinated_omission", "--run-s", "8"]
    argv += ["--stall-at-s", "2.5", "--stall-s", str(STALL_S), "--users", "5"]
    argv += ["--think-ms", "20", "--json", str(figures), "--out", str(tmp_path / "out")]

    result = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240)

    assert result.returncode == 0, result.stdout + result.stderr
    p99 = json.loads(figures.read_text())["p99_ms"]
    stall_ms = STALL_S * 1000
    assert p99["open"] >= 0.5 * stall_ms, p99  # the backlog behind the stall counts
    assert p99["closed"] < 0.25 * stall_ms, p99  # five slow samples among thousands
    assert "open-model   p99" in result.stdout


def test_bad_input_is_one_line() -> None:
    argv = [sys.executable, "-m", "stackbench.coordinated_omission", "--run-s", "4"]
    argv += ["--stall-at-s", "3", "--stall-s", "2"]

    result = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
