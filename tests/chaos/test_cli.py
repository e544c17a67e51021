"""`python -m chaos` refuses bad input with one line and exit 2, before starting anything."""

from __future__ import annotations

import pytest

from chaos.__main__ import main


def test_an_unknown_scenario_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--scenarios", "outage,nope"]) == 2

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("chaos: SCENARIOS (--scenarios): unknown scenario 'nope'")


def test_database_link_faults_are_refused_for_an_external_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TURSO_DATABASE_URL", "https://example-db.turso.io")

    assert main(["--scenarios", "api_latency,outage"]) == 2

    error = capsys.readouterr().err
    assert "outage fault the app -> database link" in error
    assert "api_latency" not in error.split("pick")[0]


def test_shared_cache_scenarios_without_redis_server_are_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_SERVER", "/nonexistent/redis-server")

    assert main(["--scenarios", "baseline,redis_outage"]) == 2

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("chaos: redis_outage fault the shared cache: no redis-server")


def test_several_app_workers_without_redis_server_are_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_SERVER", "/nonexistent/redis-server")

    assert main(["--scenarios", "baseline", "--app-workers", "2"]) == 2

    assert "2 app workers need their shared cache" in capsys.readouterr().err


def test_a_local_server_only_scenario_is_refused_on_sqld(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SQLD_BIN", "/bin/true")  # never started: refused before anything runs

    assert main(["--scenarios", "write_lock,rate_limited_retry_after"]) == 2  # 2nd: local only

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("chaos: rate_limited_retry_after set the local server's own flags")


def test_ws_only_scenarios_are_skipped_over_http_saying_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRANSPORT", "http")

    assert main(["--scenarios", "ws_half_open,ws_upgrade_refused"]) == 0  # nothing left to run

    error = capsys.readouterr().err
    assert error.startswith("chaos: skipping ws_half_open, ws_upgrade_refused over http")
