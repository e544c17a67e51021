"""Fixtures shared by every test: a clean environment, and a log directory per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Settings the app, the local server and the harness read from the environment.
OWN_SETTINGS_PREFIXES = ("APP_", "TURSO_", "LOCALTURSO_", "TOXIPROXY_")


@pytest.fixture(scope="session", autouse=True)
def _clean_environment() -> Iterator[None]:
    """Nothing from the developer's shell (a real TURSO_DATABASE_URL, say) reaches a test.

    Session-scoped so that module and session fixtures, and the servers they
    start as child processes, see the clean environment too.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(OWN_SETTINGS_PREFIXES):
                patch.delenv(name)
        yield


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where servers started by a test write their logs (shown when they fail to start)."""
    path = tmp_path / "logs"
    path.mkdir()
    return path
