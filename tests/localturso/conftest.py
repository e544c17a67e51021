"""Fixtures for localturso tests: one server per module, a fresh table name per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from harness.stack import LocalTurso, local_turso

# Streams outlive any pause between a test's requests, even on a machine with a CPU hog on
# every core (0.5 s did not); the expiry test uses its own server with a short expiry.
STREAM_EXPIRY_S = "30"
SHORT_STREAM_EXPIRY_S = "0.5"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    tmp = tmp_path_factory.mktemp("localturso")
    args = ["--stream-expiry-s", STREAM_EXPIRY_S]
    with local_turso(tmp / "db.sqlite", tmp / "logs", extra_args=args) as running_server:
        yield running_server


@pytest.fixture(scope="module")
def expiring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    """Idle streams expire after SHORT_STREAM_EXPIRY_S, so expiry tests finish quickly."""
    tmp = tmp_path_factory.mktemp("localturso-expiring")
    args = ["--stream-expiry-s", SHORT_STREAM_EXPIRY_S]
    with local_turso(tmp / "db.sqlite", tmp / "logs", extra_args=args) as running_server:
        yield running_server


@pytest.fixture
def table() -> str:
    """A table name no other test uses, so tests can share one server's database."""
    return f"t_{uuid.uuid4().hex[:12]}"
