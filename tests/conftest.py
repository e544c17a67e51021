"""Fixtures shared by every test: a log directory per test for the servers it starts."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where servers started by a test write their logs (shown when they fail to start)."""
    path = tmp_path / "logs"
    path.mkdir()
    return path
