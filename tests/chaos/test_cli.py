"""`python -m chaos` refuses bad input with one line and exit 2, before starting anything."""

from __future__ import annotations

import pytest

from chaos.__main__ import _without_ws_only, for_mode, main, transports_asked
from chaos.scenarios import select


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


def test_ws_only_scenarios_named_over_http_are_refused_saying_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRANSPORT", "http")

    assert main(["--scenarios", "ws_half_open,ws_upgrade_refused"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("chaos: ws_half_open, ws_upgrade_refused fault the one long-lived")
    assert "TRANSPORT=ws or both" in error


@pytest.mark.parametrize(
    ("environment", "flag", "expected"),
    [
        ("ws", None, ("ws",)),
        ("http", None, ("http",)),
        (None, None, ("ws",)),
        ("http", "ws", ("ws",)),
        ("http", "both", ("ws", "http")),
    ],
)
def test_the_transport_comes_from_the_flag_else_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: str | None, flag: str | None, expected: tuple
) -> None:
    if environment is None:
        monkeypatch.delenv("TRANSPORT", raising=False)
    else:
        monkeypatch.setenv("TRANSPORT", environment)

    settings, transports = transports_asked(flag)

    assert transports == expected
    assert settings.transport == expected[0]


def test_with_both_transports_ws_only_scenarios_run_over_ws_alone() -> None:
    chosen = select("ws_half_open,baseline")

    assert _without_ws_only(chosen, "ws") == chosen
    assert [s.name for s in _without_ws_only(chosen, "http")] == ["baseline"]


def test_the_naive_app_runs_the_faults_it_should_fail_and_the_baseline() -> None:
    everything = select("all")

    naive = for_mode(everything, "naive", explicit=False)

    assert for_mode(everything, "hardened", explicit=False) == everything
    assert [s.name for s in naive if s.expect.naive_passes] == ["baseline"]
    assert {s.name for s in everything if not s.expect.naive_passes} <= {s.name for s in naive}
    # Named ones run as asked, survivable or not.
    assert for_mode(select("latency,outage"), "naive", explicit=True) == select("latency,outage")


def test_a_bad_transport_names_transport(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--transport", "wss"])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error == (
        "chaos: TRANSPORT (--transport): invalid choice: 'wss' (choose from 'ws', 'http', 'both')\n"
    )
