"""`make locust-ui` refuses a bad WEB_PORT or load number in one line, exit 2, before it
starts any stack (Locust would otherwise fail to bind its web UI after the stack is up)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from harness.cli import UserError
from harness.processes import free_port
from harness.settings import PROJECT_ROOT
from stackbench.ui import check_web_port_still_free, parse_args


def make_locust_ui(variable: str, results: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "locust-ui", variable],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "RESULTS_DIR": str(results)},
        timeout=120,
        check=False,
    )


def refused_in_one_line(done: subprocess.CompletedProcess[str], line: str) -> bool:
    # make adds its own line ("make: *** ... Error 2") after ours.
    return (
        done.returncode == 2
        and line in done.stderr.splitlines()
        and "Traceback" not in (done.stderr + done.stdout)
    )


def test_a_web_port_out_of_range_names_web_port(tmp_path: Path) -> None:
    done = make_locust_ui("WEB_PORT=99999", tmp_path / "results")

    line = "locust-ui: WEB_PORT (--web-port): '99999' is not a port (1-65535)"
    assert refused_in_one_line(done, line), done.stderr
    assert "http://" not in done.stdout  # no URL printed for a UI that never comes up
    assert not (tmp_path / "results").exists()  # no stack started


def test_a_busy_web_port_names_web_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = make_locust_ui(f"WEB_PORT={port}", tmp_path / "results")

    line = (
        f"locust-ui: WEB_PORT (--web-port): cannot listen on 127.0.0.1:{port}"
        " (Address already in use)"
    )
    assert refused_in_one_line(done, line), done.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--web-port", "0"],
        ["--web-port", "65536"],
        ["--spawn-rate", "0"],
        ["--spawn-rate", "-1"],
        ["--users", "0"],
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)

    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_web_port_taken_while_the_stack_started_is_one_line_naming_web_port() -> None:
    port = free_port()
    check_web_port_still_free(port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(UserError, match=rf"WEB_PORT \(--web-port\): cannot listen on .*{port}"):
            check_web_port_still_free(port)
