"""Headless Debian Chromium (installed by `make setup`) for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from harness.settings import HarnessSettings

CHROMIUM = Path("/usr/bin/chromium")
# A clean, quiet browser: no sandbox (root in CI), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def required_browser(path: Path, settings: HarnessSettings) -> Path:
    """`path` if it exists; else skip, except on CI (CI=true), where the test must run."""
    if path.exists():
        return path
    reason = f"{path} is missing: `make setup` installs it as root"
    if settings.ci:
        pytest.fail(f"CI=true, and the browser test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    return required_browser(CHROMIUM, HarnessSettings())


@pytest.fixture
def browser(chromium: Path, tmp_path: Path) -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh profile (Playwright adds --headless itself)."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
