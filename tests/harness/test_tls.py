"""The local Turso server speaks TLS with the certificate `make setup` generates."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.settings import HarnessSettings
from harness.stack import TlsFiles, local_turso

pytestmark = pytest.mark.integration


def test_https_with_the_project_certificate(tmp_path: Path, log_dir: Path) -> None:
    tls = TlsFiles.from_settings(HarnessSettings())

    with local_turso(tmp_path / "db.sqlite", log_dir, tls=tls) as server:
        assert server.http_url.startswith("https://127.0.0.1:")
        response = httpx.get(f"{server.http_url}/health", verify=tls.client_context())
        assert response.is_success
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.http_url}/health")  # untrusted without the certificate
