"""The commands FastAPI users type serve the app: uvicorn on `main:app` and `fastapi run`; a
database whose certificate the app does not trust stops it with one line naming SSL_CERT_FILE."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.processes import ManagedProcess, free_port, http_ready, running
from harness.settings import PROJECT_ROOT, HarnessSettings
from harness.stack import TlsFiles, local_turso

LOOPBACK = "127.0.0.1"
# A bad setting: building the app from the environment must fail on it.
BAD_ENV = {"APP_MODE": "bogus"}


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_factory_reads_no_environment() -> None:
    factory = python("from reference_app.main import create_app", BAD_ENV)
    module_app = python("from reference_app.main import app", BAD_ENV)

    assert factory.returncode == 0, factory.stderr
    assert module_app.returncode != 0
    assert "ValidationError" in module_app.stderr


def test_app_is_built_once_and_listed_for_discovery() -> None:
    result = python(
        "import reference_app.main as m; assert 'app' in dir(m); assert m.app is m.app",
        {},
    )
    assert result.returncode == 0, result.stderr


COMMANDS = {
    "uvicorn main:app": ["-m", "uvicorn", "reference_app.main:app"],
    "fastapi run": ["-m", "fastapi", "run", "reference_app/main.py"],
}


@pytest.mark.integration
@pytest.mark.parametrize("command", COMMANDS)
def test_command_serves_the_app(command: str, tmp_path: Path, log_dir: Path) -> None:
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    db = tmp_path / "app.db"
    process = ManagedProcess(
        name=command,
        argv=[sys.executable, *COMMANDS[command], "--host", LOOPBACK, "--port", str(port)],
        ready=http_ready(f"{url}/healthz"),
        log_path=log_dir / "app.log",
        env={"APP_EMBEDDED_DB_PATH": str(db)},
        cwd=PROJECT_ROOT,
    )
    with running(process):
        created = httpx.post(f"{url}/posts", json={"title": "t", "content": "c"}, timeout=10)
        ready = httpx.get(f"{url}/readyz", timeout=10)

    assert created.status_code == 201, created.text
    assert ready.json() == {"status": "ready"}
    assert db.exists()  # the app read its settings from the environment it was given


@pytest.mark.integration
@pytest.mark.parametrize(("scheme", "mode"), [("libsql", "hardened"), ("https", "naive")])
def test_an_untrusted_certificate_stops_the_app_with_one_line(
    scheme: str, mode: str, tmp_path: Path, log_dir: Path
) -> None:
    tls = TlsFiles.from_settings(HarnessSettings())
    with local_turso(tmp_path / "db.sqlite", log_dir, tls=tls) as server:
        url = f"{scheme}://{server.host}:{server.port}"
        argv = [sys.executable, "-m", "uvicorn", "reference_app.main:app"]
        started = subprocess.run(
            [*argv, "--host", LOOPBACK, "--port", str(free_port())],
            cwd=PROJECT_ROOT,
            # SSL_CERT_FILE unset, as for a user who starts the app by hand.
            env={"PATH": "/usr/bin:/bin", "APP_MODE": mode, "TURSO_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert started.returncode != 0
    assert "Traceback" not in started.stderr
    errors = [line for line in started.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        f"ERROR:    cannot reach the database at {url}: its TLS certificate is not trusted"
        " (self-signed certificate); set SSL_CERT_FILE to the server's certificate, a PEM file"
        " (for the local server, .certs/localturso.pem from `make setup`)",
        "ERROR:    Application startup failed. Exiting.",
    ]
