"""The stack's parts: several app workers stopped as one group, redis-server, and the app
reaching the database over the transport TRANSPORT names."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from harness.auth import JwtAuth
from harness.processes import ManagedProcess, running
from harness.settings import HarnessSettings, settings_for
from harness.stack import (
    LocalTurso,
    TlsFiles,
    app_process,
    local_turso,
    redis_server,
    stack,
    write_token,
)

pytestmark = pytest.mark.integration

REQUESTS = 40


def group_members(pgid: int) -> list[int]:
    """Live processes (not zombies) whose process group is `pgid`, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may hold spaces.
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def group_gone(pgid: int, timeout_s: float = 10.0) -> bool:
    """True once no live process is left in the group (SIGKILL lands asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def started_app(log_dir: Path, tmp_path: Path, workers: int) -> ManagedProcess:
    env = {"TURSO_DATABASE_URL": f"file:{tmp_path / 'app.db'}"}
    app = app_process(log_dir, env=env, workers=workers)
    app.process.start()
    assert httpx.get(f"{app.url}/healthz").status_code == 200
    return app.process


def test_two_workers_run_in_one_group_and_stop_together(log_dir: Path, tmp_path: Path) -> None:
    process = started_app(log_dir, tmp_path, workers=2)
    assert process.pid is not None
    try:
        # The master and its two workers (plus multiprocessing's helper, if any).
        assert len(group_members(process.pid)) >= 3
    finally:
        process.stop()

    assert group_gone(process.pid)


def test_metrics_of_every_worker_are_summed(log_dir: Path, tmp_path: Path) -> None:
    env = {"TURSO_DATABASE_URL": f"file:{tmp_path / 'app.db'}"}
    app = app_process(log_dir, env=env, workers=2)
    with running(app.process):
        for _ in range(REQUESTS):  # each on a new connection, so both workers take some
            assert httpx.get(f"{app.url}/healthz").status_code == 200
        metrics = httpx.get(f"{app.url}/metrics").text

    counted = sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "app_http_request_duration_seconds_count"
        and sample.labels.get("route") == "/healthz"
    )
    # Readiness probes also asked /healthz; a single worker's count would be about half.
    assert counted >= REQUESTS


def test_a_killed_master_takes_its_workers_with_it(log_dir: Path, tmp_path: Path) -> None:
    process = started_app(log_dir, tmp_path, workers=2)
    assert process.pid is not None
    try:
        process.kill()

        assert group_gone(process.pid)
    finally:
        process.stop()


def test_redis_server_answers_and_is_stopped(log_dir: Path) -> None:
    binary = HarnessSettings().redis_server
    if not binary.exists():
        pytest.skip(f"no redis-server at {binary}: `make setup` as root installs it")
    with redis_server(binary, log_dir) as server:
        with redis.Redis(server.host, server.port) as client:
            assert client.ping()
        pid = server.process.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _select_one(server: LocalTurso, token: str) -> int:
    body = {"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}]}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{server.http_url}/v2/pipeline", json=body, headers=headers).status_code


@pytest.mark.integration
def test_a_rotated_key_refuses_the_old_token_once_the_server_restarts(tmp_path: Path) -> None:
    with local_turso(tmp_path / "keys.db", tmp_path, jwt_auth=JwtAuth.generate()) as server:
        old_token = server.auth_token
        assert old_token is not None
        new_token = server.rotate_key()
        server.process.stop()
        server.process.start()

        assert (_select_one(server, old_token), _select_one(server, new_token)) == (401, 200)


def test_a_token_file_is_replaced_whole(tmp_path: Path) -> None:
    path = write_token(tmp_path / "secrets" / "token", "first")
    write_token(path, "second")

    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["token"]
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("transport", "tls", "scheme"),
    [("ws", False, "ws"), ("http", False, "http"), ("ws", True, "wss"), ("http", True, "https")],
)
def test_the_app_reaches_the_database_over_the_transport_named(
    transport: str, tls: bool, scheme: str, tmp_path: Path, log_dir: Path
) -> None:
    settings = settings_for(transport)
    files = TlsFiles.from_settings(settings) if tls else None

    with stack(log_dir, db=tmp_path / "app.db", app_env={}, settings=settings, tls=files) as live:
        assert live.app.env["TURSO_DATABASE_URL"].startswith(f"{scheme}://127.0.0.1:")
        assert live.database.transport == transport
        assert f"over {transport} (" in live.database.describe()
        assert live.database.as_dict()["transport"] == transport
        created = httpx.post(f"{live.api_url}/posts", json={"title": "t", "content": "c"})
        assert created.status_code == 201
        # Through the proxy: cut it and the app's own connection (a socket, for ws) fails.
        with live.toxiproxy.disabled(live.proxies["turso"]):
            cut_off = httpx.get(f"{live.api_url}/posts/{created.json()['id'] + 1}", timeout=10)
        assert cut_off.status_code == 503


def test_a_commands_transport_flag_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRANSPORT", "http")
    assert settings_for(None).transport == "http"
    assert settings_for("ws").transport == "ws"
    monkeypatch.setenv("TRANSPORT", "carrier-pigeon")  # not even read when the flag is given
    assert settings_for("http").transport == "http"
    monkeypatch.delenv("TRANSPORT")
    assert settings_for(None).transport == "ws"  # what a libsql:// URL opens
