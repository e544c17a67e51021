"""Bad command-line input: one line on stderr and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.processes import free_port
from harness.settings import PROJECT_ROOT
from stackbench.__main__ import duration_s, parse_args


@pytest.mark.parametrize(
    "argv",
    [
        ["--users", "0"],
        ["--profile", "moon"],
        ["--workload", "nope"],
        ["--duration", "soon"],
        ["--compare", "hardened"],
        ["--workers", "-1"],
        ["--commented-posts", "5000"],
        ["--spawn-rate", "0"],
        ["--spawn-rate", "-2"],
        ["--spawn-rate", "nan"],
        ["--arrival-rate", "0"],
        ["--think-ms", "-1"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)

    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize(("text", "seconds"), [("30", 30), ("30s", 30), ("2m", 120), ("1h", 3600)])
def test_durations(text: str, seconds: int) -> None:
    assert duration_s(text) == seconds


def test_defaults_match_the_makefile() -> None:
    args = parse_args([])

    assert (args.workload, args.profile, args.mode, args.compare) == (
        "mixed",
        "edge",
        "hardened",
        "",
    )


def _command(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_an_unreachable_database_is_one_line_before_any_load(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    done = _command(
        [sys.executable, "-m", "stackbench", "--duration", "5s", "--out", str(tmp_path / "run")],
        TURSO_DATABASE_URL=url,
    )

    assert done.returncode == 2
    assert done.stderr.startswith(f"bench: cannot reach TURSO_DATABASE_URL={url} (")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()  # nothing started, nothing written


def test_make_names_the_variable_the_user_typed() -> None:
    done = _command(["make", "--no-print-directory", "-s", "bench", "DURATION=soon"])

    assert done.returncode == 2
    # make's own lines may come before (a setup step) and after (its exit status).
    line = "bench: DURATION (--duration): duration 'soon': use e.g. 30s, 2m, 1h"
    assert line in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("target", "prog"),
    [("bench", "bench"), ("gate", "gate"), ("locust-ui", "locust-ui"), ("chaos", "chaos")],
)
def test_every_stack_command_takes_transport_from_make(target: str, prog: str) -> None:
    done = _command(["make", "--no-print-directory", "-s", target, "TRANSPORT=wss"])

    assert done.returncode == 2
    choices = "'ws', 'http', 'both'" if target == "chaos" else "'ws', 'http'"
    line = f"{prog}: TRANSPORT (--transport): invalid choice: 'wss' (choose from {choices})"
    assert line in done.stderr.splitlines()
    assert "Traceback" not in done.stderr


def test_a_zero_spawn_rate_is_one_line_before_any_stack(tmp_path: Path) -> None:
    results = tmp_path / "results"

    done = _command(
        ["make", "--no-print-directory", "-s", "bench", "SPAWN_RATE=0"], RESULTS_DIR=str(results)
    )

    assert done.returncode == 2
    line = "bench: SPAWN_RATE (--spawn-rate): '0' is not a positive number"
    assert line in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert not results.exists()  # no stack started, no run directory
