"""The token file: read at start, re-read at most every so often, kept when unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_app.db.token import TokenFile
from tests.reference_app.fakes import FakeClock


def test_the_token_is_the_file_without_surrounding_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("  abc.def\n")

    assert TokenFile(path).read() == "abc.def"


def test_an_empty_file_is_no_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n")

    assert TokenFile(path).read() is None


def test_a_missing_file_at_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TokenFile(tmp_path / "nowhere").read()


def test_a_reread_gives_a_new_token_only_when_due_and_changed(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    clock = FakeClock()
    tokens = TokenFile(path, min_interval_s=0.5, clock=clock)
    current = tokens.read()

    path.write_text("new")
    too_soon = tokens.reread(current)
    clock.advance(0.5)
    due = tokens.reread(current)
    clock.advance(0.5)
    unchanged = tokens.reread("new")

    assert (too_soon, due, unchanged) == (None, "new", None)


def test_a_file_unreadable_for_a_moment_keeps_the_current_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    tokens = TokenFile(path, min_interval_s=0)
    path.unlink()

    assert tokens.reread("old") is None
    assert "cannot re-read the database token" in caplog.text


def test_a_file_that_is_not_utf8_for_a_moment_keeps_the_current_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    tokens = TokenFile(path, min_interval_s=0)
    path.write_bytes(b"\xff\xfe half written")

    assert tokens.reread("old") is None
    assert "cannot re-read the database token" in caplog.text
