"""`make locust-ui 2>&1 | tee log`, then Ctrl-C in a real terminal (a pty): everything stops
quickly and the report line still reaches the terminal; a UI run that never started a
test writes no report.

Ctrl-C is the byte 0x03 typed into the pty, so the kernel sends SIGINT to the whole
foreground process group (bash, make, our Python, tee), exactly as a keyboard does.
"""

from __future__ import annotations

import contextlib
import os
import pty
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from harness.processes import free_port, http_ready
from harness.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 120.0  # make's setup check, the stack, seeding, Locust's start
STOP_BOUND_S = 3.0  # the goal; the figure is printed (pytest -s)
STOP_ALLOWANCE_S = 6.0  # what the test demands on a shared, busy machine
CTRL_C = b"\x03"


class Terminal:
    """A pty running one shell command; everything it prints is collected."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader with the pty as its terminal
            os.chdir(PROJECT_ROOT)
            os.execvpe("bash", ["bash", "-c", command], {**os.environ, **env})
        self.output = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError):  # EIO once every process has closed the pty
            while chunk := os.read(self.fd, 4096):
                self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def wait_for(self, ready: callable, what: str) -> None:  # type: ignore[valid-type]
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            assert time.monotonic() < deadline, f"no {what}; terminal:\n{self.text}"
            assert self.alive(), f"exited before {what}; terminal:\n{self.text}"
            time.sleep(0.1)

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def processes(self) -> list[psutil.Process]:
        shell = psutil.Process(self.pid)
        return [shell, *shell.children(recursive=True)]

    def close(self) -> None:
        for process in self.processes() if psutil.pid_exists(self.pid) else []:
            with contextlib.suppress(psutil.Error):
                process.kill()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._reader.join(timeout=5)
        os.close(self.fd)


@pytest.fixture
def locust_ui(tmp_path: Path) -> Iterator[tuple[Terminal, str, Path]]:
    port, results = free_port(), tmp_path / "results"
    command = (
        f"make --no-print-directory locust-ui WEB_PORT={port} PROFILE=local USERS=4"
        f" SPAWN_RATE=4 WORKLOAD=readers 2>&1 | tee {tmp_path / 'log'}"
    )
    terminal = Terminal(command, {"RESULTS_DIR": str(results)})
    try:
        url = f"http://127.0.0.1:{port}"
        terminal.wait_for(http_ready(f"{url}/chaos/state"), "Locust web UI")
        yield terminal, url, results
    finally:
        terminal.close()


def requests_so_far(url: str) -> int:
    stats = httpx.get(f"{url}/stats/requests").json()["stats"]
    return sum(row["num_requests"] for row in stats if row["name"] == "Aggregated")


def ctrl_c(terminal: Terminal) -> float:
    """Type Ctrl-C; seconds until every process of the command (and the stack) is gone."""
    processes = terminal.processes()
    started = time.monotonic()
    os.write(terminal.fd, CTRL_C)
    _, alive = psutil.wait_procs(processes, timeout=30)
    elapsed = time.monotonic() - started
    assert not alive, f"still running after Ctrl-C: {[p.pid for p in alive]}"
    return elapsed


def test_ctrl_c_through_a_pipe_stops_all_and_prints_the_report_line(
    locust_ui: tuple[Terminal, str, Path],
) -> None:
    terminal, url, results = locust_ui
    httpx.post(f"{url}/swarm", data={"user_count": 4, "spawn_rate": 4})
    terminal.wait_for(lambda: requests_so_far(url) > 20, "requests")

    elapsed = ctrl_c(terminal)

    print(f"Ctrl-C to every process gone: {elapsed:.2f} s (goal {STOP_BOUND_S} s)")
    assert elapsed <= STOP_ALLOWANCE_S
    terminal._reader.join(timeout=5)
    assert "locust-ui: report " in terminal.text
    assert "press enter" not in terminal.text
    (report,) = results.glob("*/report.html")
    assert report.parent.name in (results / "index.html").read_text()


def test_a_ui_run_without_a_test_writes_no_report(locust_ui: tuple[Terminal, str, Path]) -> None:
    terminal, _, results = locust_ui

    ctrl_c(terminal)

    terminal._reader.join(timeout=5)
    assert "no test was started, so no report was written" in terminal.text
    assert not list(results.glob("*/report.html"))
    assert not (results / "index.html").exists()
