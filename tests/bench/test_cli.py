"""Bad command-line input: one line on stderr and exit status 2."""

from __future__ import annotations

import pytest

from bench.__main__ import duration_s, parse_args


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
