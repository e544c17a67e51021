"""On CI a missing browser fails the run instead of skipping the browser test silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.settings import HarnessSettings
from tests.browser.conftest import required_browser


def test_a_missing_browser_fails_on_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        required_browser(tmp_path / "chromium", HarnessSettings(ci=True))


def test_a_missing_browser_skips_elsewhere(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="missing"):
        required_browser(tmp_path / "chromium", HarnessSettings(ci=False))


def test_a_present_browser_is_used(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.touch()

    assert required_browser(browser, HarnessSettings(ci=True)) == browser


def test_ci_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")

    assert HarnessSettings().ci is True
