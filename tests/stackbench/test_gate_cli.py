"""The gate's command line: bad input is one line and exit 2; a stored baseline recorded
under other conditions is refused (exit 3) before any stack starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT
from loadtests.route_blocks import GAP_S, ROUTES, RouteBlocks
from stackbench.gate import (
    EXIT_ERROR,
    EXIT_NOT_COMPARABLE,
    MAX_CYCLES,
    MAX_TRIAL_S,
    STAGES,
    TARGET_REQUESTS,
    block_lengths,
    conditions,
)


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
        ["--cycles", "0"],
        ["--cycles", "13"],
        ["--stages", "speed"],
        ["--stages", ","],
        ["--base", "file", "--stages", "resilience"],
    ],
)
def test_bad_flags_are_one_line_and_exit_2(argv: list[str]) -> None:
    result = gate(*argv)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def make(target: str, *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", target, *variables],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("target", "variables", "line"),
    [
        ("gate", ("TRIALS=0",), "gate: TRIALS (--trials): '0' is not a positive integer"),
        ("gate", ("TRIALS=3",), "gate: TRIALS (--trials): 3: at least 6 trials per side"),
        (
            "gate",
            ("CYCLES=99",),
            f"gate: CYCLES (--cycles): 99: at most {MAX_CYCLES} rounds per trial",
        ),
        (
            "gate",
            ("STAGES=speed",),
            f"gate: STAGES (--stages): 'speed': give some of {','.join(STAGES)}",
        ),
        (
            "gate",
            ("BASE=file", "STAGES=resilience"),
            "gate: STAGES (--stages): resilience alone needs a baseline commit in BASE (--base)",
        ),
        ("baseline", ("TRIALS=0",), "gate: TRIALS (--trials): '0' is not a positive integer"),
        (
            "bench-quality",
            ("RUNS=0",),
            "bench-quality: RUNS (--runs): '0' is not a positive integer",
        ),
        (
            "bench-quality",
            ("TRIALS=3",),
            "bench-quality: TRIALS (--trials): 3: at least 6 trials per side",
        ),
    ],
)
def test_make_names_the_variable_the_user_typed(
    target: str, variables: tuple[str, ...], line: str
) -> None:
    result = make(target, *variables)

    assert result.returncode == EXIT_ERROR
    # make's own line ("make: *** ... Error 2") follows ours.
    assert line in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout")
def test_an_unknown_base_commit_names_base_in_one_line() -> None:
    result = make("gate", "BASE=nonexistent-rev")

    assert result.returncode == EXIT_ERROR
    line = "gate: BASE (--base): 'nonexistent-rev' is not a commit of this repository"
    assert line in result.stderr.splitlines()
    assert len(result.stderr.strip().splitlines()) == 2  # ours and make's "Error 2"


def test_a_baseline_from_another_machine_is_not_judged(tmp_path: Path) -> None:
    here = conditions()
    stored = {**here, "cpu_count": here["cpu_count"] + 62, "trials": []}
    stored["load"] = {"workload": "ycsb-e"}  # the old gate's workload
    stored.pop("load_per_cpu")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(stored))

    result = gate("--base", "file", "--baseline", str(baseline), "--out", str(tmp_path))

    assert result.returncode == EXIT_NOT_COMPARABLE
    assert "NOT COMPARABLE" in result.stdout
    assert f"cpu_count: baseline {here['cpu_count'] + 62}, now {here['cpu_count']}" in result.stdout
    assert "machine load: not recorded" in result.stdout
    assert "workload: baseline ycsb-e, now gate" in result.stdout
    assert "gate: trial" not in result.stdout  # refused before any stack or trial


@pytest.mark.parametrize("text", ["{not json", "[]", '"s"', '{"load": null}'])
def test_an_unreadable_baseline_is_one_line_and_exit_2(tmp_path: Path, text: str) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(text)

    result = gate("--base", "file", "--baseline", str(baseline), "--out", str(tmp_path))

    assert result.returncode == EXIT_ERROR
    assert result.stderr.startswith("gate: ")
    assert str(baseline) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_slow_routes_get_longer_blocks_so_every_route_is_judged() -> None:
    # Warm-up: one second per route; the comments page got a quarter of the others' count.
    warmup = {route: {"requests": 400} for route in ROUTES}
    warmup["GET /posts?include=comments"] = {"requests": 100}

    lengths = dict(zip(ROUTES, block_lengths([warmup, warmup], cycles=2), strict=True))

    slow = lengths["GET /posts?include=comments"] - GAP_S
    fast = lengths["POST /posts"] - GAP_S
    assert slow == pytest.approx(4 * fast, abs=0.005)
    # The (paired) warm-up's pace per side, over two rounds: TARGET_REQUESTS.
    per_side = 100 / (1.0 - GAP_S) * slow * 2
    assert per_side == pytest.approx(TARGET_REQUESTS, rel=0.01)


def test_a_very_slow_machine_gets_trials_no_longer_than_the_cap() -> None:
    warmup = {route: {"requests": 5} for route in ROUTES}

    lengths = block_lengths([warmup], cycles=2)

    assert RouteBlocks(0.0, lengths, 2).duration_s <= MAX_TRIAL_S + 0.01
