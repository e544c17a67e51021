"""The settings object: environment names, the guide's alias, defaults, validation."""

from __future__ import annotations

import importlib.util

import pytest
from pydantic import ValidationError

from reference_app.settings import DEFAULT_EMBEDDED_DB_PATH, AppMode, Settings


def test_with_no_environment_the_app_is_hardened_on_an_embedded_file() -> None:
    settings = Settings()

    assert settings.mode is AppMode.HARDENED
    assert settings.effective_database_url == f"file:{DEFAULT_EMBEDDED_DB_PATH}"
    assert settings.retry_enabled
    assert settings.batch_enabled


@pytest.mark.parametrize("name", ["TURSO_DATABASE_URL", "TURSO_CONNECTION_URL"])
def test_the_database_url_comes_from_either_name(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "libsql://db.example.turso.io")
    monkeypatch.setenv("TURSO_AUTH_TOKEN", "secret")

    settings = Settings()

    assert settings.effective_database_url == "libsql://db.example.turso.io"
    assert settings.auth_token == "secret"


def test_app_variables_configure_mode_and_features(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_MODE", "naive")
    monkeypatch.setenv("APP_REQUEST_DEADLINE_MS", "750")
    monkeypatch.setenv("APP_BATCH_ENABLED", "false")

    settings = Settings()

    assert settings.naive
    assert settings.request_deadline_ms == 750
    assert not settings.batch_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("APP_MODE", "turbo"),
        ("APP_REQUEST_DEADLINE_MS", "0"),
        # Longer, an update's retry could outlive the record that it was applied.
        ("APP_REQUEST_DEADLINE_MS", "300001"),
        ("APP_BATCH_MAX_SIZE", "501"),
        ("APP_RETRY_BASE_DELAY_MS", "5000"),
    ],
)
def test_invalid_values_fail_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=f"(?i){name.removeprefix('APP_')}"):
        Settings()


def test_the_served_app_has_no_switch_that_breaks_it() -> None:
    # The checker's tests serve a broken app of their own (tests/chaos/broken_app.py).
    assert [name for name in Settings.model_fields if name.startswith("test_only")] == []
    assert importlib.util.find_spec("reference_app.service.broken") is None
