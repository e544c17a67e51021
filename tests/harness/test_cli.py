"""Command lines answer a user's mistake with one line and exit 2; no traceback without
HARNESS_DEBUG=1."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from harness.cli import OneLineParser, UserError, make_names, run, with_make_names


def test_errors_name_the_make_variable_beside_the_flag() -> None:
    names = make_names("--duration", "--spawn-rate")

    message = with_make_names("argument --duration: 'soon' is no duration", names)

    assert message == "DURATION (--duration): 'soon' is no duration"
    assert with_make_names("--spawn-rate must be > 0", names).startswith(
        "SPAWN_RATE (--spawn-rate)"
    )
    assert with_make_names("--think-ms must be > 0", names) == "--think-ms must be > 0"


def test_a_bad_flag_is_one_line_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    parser = OneLineParser(prog="bench", make_variables=make_names("--users"))
    parser.add_argument("--users", type=int)

    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--users", "many"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "bench: USERS (--users): invalid int value: 'many'\n"


def _raises(error: BaseException) -> int:
    raise error


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (UserError("run `make setup`"), 2, "x: run `make setup`"),
        (ModuleNotFoundError("no", name="uvicorn"), 2, "x: no module named 'uvicorn': run"),
        (RuntimeError("boom\nlog tail"), 1, "x: RuntimeError: boom (HARNESS_DEBUG=1 shows"),
    ],
)
def test_run_turns_errors_into_one_line(
    error: BaseException, code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("x", lambda: _raises(error))

    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(line)
    assert "Traceback" not in err


class _Settings(BaseSettings):
    workers: int = 1


def test_a_bad_environment_variable_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKERS", "many")

    with pytest.raises(SystemExit) as exit_info:
        run("x", lambda: _Settings().workers)

    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("x: WORKERS='many': Input should be a valid integer")


def test_harness_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DEBUG", "1")

    with pytest.raises(UserError):
        run("x", lambda: _raises(UserError("fix it")))
