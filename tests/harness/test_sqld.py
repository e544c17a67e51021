"""The stack's sqld target: real sqld behind the `turso` proxy, JWT auth, clean stop, kept log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.auth import JwtAuth
from harness.processes import ProcessStartError
from harness.settings import HarnessSettings
from harness.stack import Sqld, sqld, sqld_process, stack

pytestmark = pytest.mark.integration


def execute(url: str, token: str | None, sql: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}
    return httpx.post(f"{url}/v2/pipeline", json=body, headers=headers, timeout=10)


def test_sqld_checks_the_runs_jwt(sqld_bin: Path, tmp_path: Path, log_dir: Path) -> None:
    auth = JwtAuth.generate()

    with sqld(sqld_bin, tmp_path / "data", log_dir, auth=auth) as server:
        assert execute(server.http_url, auth.token, "SELECT 1").status_code == 200
        missing = execute(server.http_url, None, "SELECT 1")
        forged = execute(server.http_url, JwtAuth.generate().token, "SELECT 1")
        assert server.version().startswith("sqld ")

    assert (missing.status_code, forged.status_code) == (401, 401)
    assert "error" in missing.json()


def test_sqld_stops_on_sigterm_and_keeps_its_log(
    sqld_bin: Path, tmp_path: Path, log_dir: Path
) -> None:
    server = sqld_process(sqld_bin, tmp_path / "data", log_dir)
    server.process.start()

    exit_code = server.process.stop()

    assert exit_code == 0
    assert "shutdown gracefully" in server.process.log_path.read_text()


def test_a_path_that_is_no_sqld_is_refused_in_one_line(tmp_path: Path, log_dir: Path) -> None:
    with pytest.raises(ProcessStartError, match=r"^SQLD_BIN=.* is not an executable file$"):
        sqld_process(tmp_path / "missing-sqld", tmp_path / "data", log_dir)


def test_stack_puts_sqld_behind_the_turso_proxy(
    sqld_bin: Path, tmp_path: Path, log_dir: Path
) -> None:
    settings = HarnessSettings(sqld_bin=sqld_bin)

    with stack(log_dir, db=tmp_path / "app.db", app_env={}, settings=settings) as live:
        assert isinstance(live.turso, Sqld)
        assert live.database.server == "sqld"
        assert live.database.version.startswith("sqld 0.")
        assert live.app.env["TURSO_AUTH_TOKEN"] == live.db_auth_token
        created = httpx.post(f"{live.api_url}/posts", json={"title": "t", "content": "c"})
        assert created.status_code == 201
        with live.toxiproxy.disabled(live.proxies["turso"]):
            cut_off = httpx.get(f"{live.api_url}/posts/{created.json()['id'] + 1}", timeout=10)
        assert cut_off.status_code == 503  # the app's database link runs through toxiproxy

    assert list(log_dir.glob("sqld-*.log"))
    assert (tmp_path / "app.db.sqld").is_dir()


def test_sqld_bin_is_resolved_once_and_empty_means_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SQLD_BIN", "bin/sqld")
    assert HarnessSettings().sqld_bin == tmp_path / "bin" / "sqld"
    monkeypatch.setenv("SQLD_BIN", "")
    assert HarnessSettings().sqld_bin is None
