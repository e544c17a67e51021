"""Every `make` target that starts the stack stops all of it on a signal, and leaves no orphan.

Each test runs the real target, waits until its stack (and Locust) is up by looking at
the process tree, signals it, and checks that every process it started is gone within
STOP_BOUND_S and that make exits non-zero.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from harness.processes import free_port
from harness.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

STOP_BOUND_S = 3.0  # the promise: every process gone this soon after the signal
START_TIMEOUT_S = 120.0


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def command_lines(processes: list[psutil.Process]) -> str:
    lines = []
    for process in processes:
        try:
            lines.append(" ".join(process.cmdline()))
        except psutil.Error:
            continue
    return "\n".join(lines)


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    living = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                living.append(process)
        except psutil.Error:
            continue
    return living


def wait_for(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until `condition()` held; fails past `timeout_s`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            pytest.fail(f"condition not met within {timeout_s}s")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    path = tmp_path / "results"
    path.mkdir()
    return path


class MakeRuns:
    """`make -s TARGET VARS...` runs in their own groups; whatever they started is killed at
    teardown, even if a broken build leaves orphans behind."""

    def __init__(self, results_dir: Path, log_dir: Path) -> None:
        self.results_dir = results_dir
        self.log_dir = log_dir
        self.makes: list[subprocess.Popen[bytes]] = []
        self.seen: list[psutil.Process] = []

    def start(self, target: str, *variables: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "RESULTS_DIR": str(self.results_dir)}
        with (self.log_dir / f"make-{target}.log").open("wb") as log:
            make = subprocess.Popen(
                ["make", "-s", target, *variables],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.makes.append(make)
        return make

    def running_stack(
        self, make: subprocess.Popen[bytes], needs_locust: bool
    ) -> list[psutil.Process]:
        """Wait until the target's app (and Locust) run; every process it started so far."""

        def up() -> bool:
            lines = command_lines(descendants(make.pid))
            return "uvicorn" in lines and (not needs_locust or "locust" in lines)

        wait_for(up, START_TIMEOUT_S)
        started = descendants(make.pid)
        self.seen += started
        return started

    def kill_all(self) -> None:
        for make in self.makes:
            if make.poll() is None:
                self.seen += [psutil.Process(make.pid), *descendants(make.pid)]
        for process in alive(self.seen):
            with contextlib.suppress(psutil.Error):
                process.kill()
        for make in self.makes:
            make.wait()


@pytest.fixture
def runs(results_dir: Path, log_dir: Path) -> Iterator[MakeRuns]:
    make_runs = MakeRuns(results_dir, log_dir)
    try:
        yield make_runs
    finally:
        make_runs.kill_all()


TARGETS = {
    "chaos": ("SCENARIOS=baseline", "MODE=hardened"),
    "bench": ("DURATION=60s", "WORKERS=2"),
    "gate": (),
    "locust-ui": (),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_sigterm_to_make_stops_everything_fast_and_exits_non_zero(
    target: str, runs: MakeRuns
) -> None:
    variables = TARGETS[target] + ((f"WEB_PORT={free_port()}",) if target == "locust-ui" else ())
    make = runs.start(target, *variables)
    started = runs.running_stack(make, needs_locust=target != "chaos")

    make.send_signal(signal.SIGTERM)

    stopped_s = wait_for(lambda: not alive(started), timeout_s=30)
    assert stopped_s <= STOP_BOUND_S
    assert make.wait(timeout=30) != 0


def test_ctrl_c_stops_everything_and_writes_what_finished(
    runs: MakeRuns, results_dir: Path
) -> None:
    make = runs.start("chaos", "SCENARIOS=baseline", "MODE=hardened")
    started = runs.running_stack(make, needs_locust=False)

    os.killpg(make.pid, signal.SIGINT)  # what a terminal sends the foreground group

    assert wait_for(lambda: not alive(started), timeout_s=30) <= STOP_BOUND_S
    assert make.wait(timeout=30) != 0
    [summary] = results_dir.glob("chaos/*/summary.json")
    assert '"interrupted": true' in summary.read_text()


def test_kill_9_of_the_program_leaves_no_orphan(
    runs: MakeRuns,
) -> None:
    make = runs.start("bench", "DURATION=60s", "WORKERS=2")  # Locust with worker processes
    started = runs.running_stack(make, needs_locust=True)
    [program] = psutil.Process(make.pid).children()

    program.kill()

    assert wait_for(lambda: not alive(started), timeout_s=30) <= STOP_BOUND_S


def test_kill_9_of_make_leaves_no_orphan(
    runs: MakeRuns,
) -> None:
    make = runs.start("locust-ui", f"WEB_PORT={free_port()}")
    started = runs.running_stack(make, needs_locust=True)

    make.kill()

    assert wait_for(lambda: not alive(started), timeout_s=30) <= STOP_BOUND_S
