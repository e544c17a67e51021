"""Ctrl-C of `make bench` and `make locust-ui` mid-run: the load stops before the stack, so
the run records no failure the harness itself caused (a request refused by an app already
stopping), and every process is gone within STOP_BOUND_S.

Ctrl-C is SIGINT to make's whole process group, as a terminal sends it to its foreground
group, pressed twice, as an impatient user does (a second signal while Locust writes its
results must not cut them short nor stop the stack under it); the run is a real one
(stack, seeding, Locust) on the `local` profile, where a run left alone has no failures.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.hdr import AGGREGATED, endpoint_summaries
from harness.processes import free_port, http_ready
from tests.harness.test_shutdown import MakeRuns, alive, descendants, wait_for

pytestmark = pytest.mark.integration

STOP_BOUND_S = 3.0  # the promise: every process gone this soon after Ctrl-C (printed)
START_TIMEOUT_S = 120.0  # make's setup check, the stack, seeding, Locust's start
LOAD = ("PROFILE=local", "WORKLOAD=readers", "USERS=4", "SPAWN_RATE=4")
REQUESTS_BEFORE_CTRL_C = 40
SECOND_PRESS_AFTER_S = 0.2  # while Locust's master is stopping its users


@pytest.fixture
def runs(tmp_path: Path, log_dir: Path) -> Iterator[MakeRuns]:
    results = tmp_path / "results"
    results.mkdir()
    make_runs = MakeRuns(results, log_dir)
    try:
        yield make_runs
    finally:
        make_runs.kill_all()


def bench_requests(results: Path) -> int:
    """Requests so far, from the stats CSV Locust rewrites every second."""
    for path in results.glob("*/hardened/locust_stats.csv"):
        for row in csv.DictReader(path.open()):
            if row["Name"] == AGGREGATED:
                return int(row["Request Count"])
    return 0


def ui_requests(url: str) -> int:
    stats = httpx.get(f"{url}/stats/requests", timeout=5).json()["stats"]
    return sum(row["num_requests"] for row in stats if row["name"] == AGGREGATED)


def until(condition: Callable[[], bool]) -> None:
    wait_for(condition, START_TIMEOUT_S)


def start_bench(runs: MakeRuns) -> subprocess.Popen[bytes]:
    make = runs.start("bench", *LOAD, "DURATION=60s")
    until(lambda: bench_requests(runs.results_dir) > REQUESTS_BEFORE_CTRL_C)
    return make


def start_locust_ui(runs: MakeRuns) -> subprocess.Popen[bytes]:
    port = free_port()
    make = runs.start("locust-ui", *LOAD, f"WEB_PORT={port}")
    url = f"http://127.0.0.1:{port}"
    until(http_ready(f"{url}/chaos/state"))
    httpx.post(f"{url}/swarm", data={"user_count": 4, "spawn_rate": 4}, timeout=5)
    until(lambda: ui_requests(url) > REQUESTS_BEFORE_CTRL_C)
    return make


def failures(results: Path) -> list[str]:
    """Every failure the run recorded: its exact.json errors and Locust's failures CSV."""
    [exact] = results.glob("*/hardened/exact.json")
    errors = endpoint_summaries(json.loads(exact.read_text()))[AGGREGATED].errors
    [failures_csv] = results.glob("*/hardened/locust_failures.csv")
    rows = [f"{r['Name']}: {r['Error']}" for r in csv.DictReader(failures_csv.open())]
    return [f"exact.json: {errors} errors"] * bool(errors) + rows


@pytest.mark.parametrize("target", ["bench", "locust-ui"])
def test_ctrl_c_stops_the_load_before_the_stack_and_everything_within_3_s(
    target: str, runs: MakeRuns
) -> None:
    make = start_bench(runs) if target == "bench" else start_locust_ui(runs)
    started = descendants(make.pid)
    runs.seen += started

    os.killpg(make.pid, signal.SIGINT)  # what a terminal sends its foreground group
    time.sleep(SECOND_PRESS_AFTER_S)  # the user's own pause between presses, not a wait
    os.killpg(make.pid, signal.SIGINT)

    stopped_s = wait_for(lambda: not alive(started), timeout_s=30)
    print(f"{target}: Ctrl-C twice to every process gone: {stopped_s:.2f} s")  # pytest -s
    assert stopped_s <= STOP_BOUND_S, f"every process gone after {stopped_s:.2f} s"
    assert make.wait(timeout=30) != 0
    assert failures(runs.results_dir) == []
