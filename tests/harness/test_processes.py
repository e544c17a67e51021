"""Child processes are waited for by asking them and are always stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.processes import ManagedProcess, ProcessStartError, free_port, http_ready, running

pytestmark = pytest.mark.integration


def http_server(port: int, log_dir: Path) -> ManagedProcess:
    return ManagedProcess(
        name="http.server",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready=http_ready(f"http://127.0.0.1:{port}/"),
        log_path=log_dir / "http.log",
        cwd=log_dir,
    )


def test_running_starts_when_ready_and_stops_on_exit(log_dir: Path) -> None:
    process = http_server(free_port(), log_dir)

    with running(process):
        assert process.running

    assert not process.running


def test_process_is_stopped_when_the_body_raises(log_dir: Path) -> None:
    process = http_server(free_port(), log_dir)

    with pytest.raises(RuntimeError, match="boom"), running(process):
        raise RuntimeError("boom")

    assert not process.running


def test_a_process_that_exits_during_start_reports_its_log(log_dir: Path) -> None:
    process = ManagedProcess(
        name="crasher",
        argv=[sys.executable, "-c", "import sys; print('bad flag'); sys.exit(3)"],
        ready=lambda: False,
        log_path=log_dir / "crasher.log",
    )

    with pytest.raises(ProcessStartError, match="bad flag"):
        process.start()


def test_a_process_never_ready_is_stopped_after_the_timeout(log_dir: Path) -> None:
    process = ManagedProcess(
        name="sleeper",
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
        ready=lambda: False,
        log_path=log_dir / "sleeper.log",
    )

    with pytest.raises(ProcessStartError, match="not ready"):
        process.start(timeout_s=0.3)

    assert not process.running
