"""`python -m localturso` answers a mistake with one line on stderr and exit status 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT
from localturso.__main__ import build_parser, parse_args
from localturso.settings import Settings


def localturso(
    *args: str, python: tuple[str, ...] = (sys.executable,)
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*python, "-m", "localturso", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--port", "99999"), "--port / LOCALTURSO_PORT 99999: Input should be less than or equal"),
        (("--port", "abc"), "--port: invalid int value: 'abc'"),
        (("--tls-cert", "x.pem"), "give both --tls-cert and --tls-key, or neither"),
        (("--frobnicate",), "unrecognized arguments: --frobnicate"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    done = localturso(*args)

    assert done.returncode == 2
    assert done.stderr == f"localturso: {says}" + done.stderr.split(says, 1)[1]
    assert done.stderr.count("\n") == 1


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = localturso("--port", str(port))

    assert done.returncode == 2
    assert done.stderr == (
        f"localturso: cannot listen on 127.0.0.1:{port} (Address already in use);"
        " pick another --port\n"
    )


def test_a_python_without_the_packages_says_run_make_setup() -> None:
    # -S: no site-packages, as with a system Python that never had `make setup`.
    done = localturso("--port", "0", python=(sys.executable, "-S"))

    assert done.returncode == 2
    assert done.stderr.startswith("localturso: no module named ")
    assert "run `make setup`, then use .venv/bin/python -m localturso" in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("db", "reason"),
    [("missing/x.db", "no such directory: {tmp}/missing"), (".", "it is a directory")],
)
def test_a_database_that_cannot_be_opened_is_one_line_with_its_path(
    tmp_path: Path, db: str, reason: str
) -> None:
    path = tmp_path / db

    done = localturso("--port", "0", "--db", str(path))

    assert done.returncode == 2
    assert done.stderr == f"localturso: cannot open --db {path} ({reason.format(tmp=tmp_path)})\n"


def test_every_setting_is_a_flag_too() -> None:
    flags = build_parser()._option_string_actions
    missing = [name for name in Settings.model_fields if f"--{name.replace('_', '-')}" not in flags]
    assert missing == []


def test_the_last_settings_to_get_flags_reach_the_settings() -> None:
    args = ["--expired-stream-retention-s", "1.5", "--max-ws-pending-requests", "4"]
    settings = Settings(**parse_args([*args, "--shutdown-timeout-s", "3"]))
    assert (settings.expired_stream_retention_s, settings.max_ws_pending_requests) == (1.5, 4)
    assert settings.shutdown_timeout_s == 3
