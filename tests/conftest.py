"""Fixtures shared by every test: a clean environment, a log directory per test, and sqld."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.settings import PROJECT_ROOT, HarnessSettings

# Settings the app, the local server and the harness read from the environment.
OWN_SETTINGS_PREFIXES = (
    "APP_",
    "TURSO_",
    "LOCALTURSO_",
    "TOXIPROXY_",
    "SQLD_",
    "REDIS_",
    "PROMETHEUS_MULTIPROC_DIR",
    "TRANSPORT",  # the harness's: a test that needs one transport names it
)
# Read before the environment is cleaned: only tests that ask for sqld get it; every other
# stack a test starts runs the local server.
SQLD_BIN = HarnessSettings().sqld_bin
# Where our CI has the real server (`.ci/run` exports it as SQLD_BIN).
CI_SQLD = PROJECT_ROOT.parent / "shared" / "bin" / "sqld"


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


@pytest.fixture(scope="session")
def sqld_bin() -> Path:
    """The sqld binary from SQLD_BIN; skips (with the reason in `-ra`) when there is none.

    On CI, where ../shared/bin/sqld exists, a missing or broken SQLD_BIN fails instead, so
    the sqld tests can never be skipped there by accident.
    """
    expected_on_ci = os.environ.get("CI") == "true" and CI_SQLD.exists()
    if SQLD_BIN is None:
        problem = "SQLD_BIN is not set (path to a sqld binary, e.g. ../shared/bin/sqld)"
    elif not (SQLD_BIN.is_file() and os.access(SQLD_BIN, os.X_OK)):
        problem = f"SQLD_BIN={SQLD_BIN} is not an executable file"
    else:
        return SQLD_BIN
    if expected_on_ci:
        pytest.fail(f"{CI_SQLD} exists on CI but cannot be used: {problem}")
    pytest.skip(f"no real sqld: {problem}")
