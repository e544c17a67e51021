"""An external database is asked for `SELECT 1` first; each way it can be wrong is one line."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.cli import UserError
from harness.database import check_database, hrana_http_url, hrana_ws_url
from harness.processes import free_port
from harness.settings import HarnessSettings
from harness.stack import LocalTurso, TlsFiles, local_turso

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    tmp = tmp_path_factory.mktemp("database-check")
    with local_turso(tmp / "db.sqlite", tmp / "logs", auth_token=TOKEN) as running:
        yield running


@pytest.mark.parametrize(
    ("url", "http"),
    [
        ("libsql://db-org.turso.io", "https://db-org.turso.io"),
        ("wss://db.example:443/", "https://db.example:443"),
        ("ws://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_every_url_form_maps_to_its_http_endpoint(url: str, http: str) -> None:
    assert hrana_http_url(url) == http


@pytest.mark.parametrize(
    ("url", "ws"),
    [
        ("libsql://db-org.turso.io", "wss://db-org.turso.io"),
        ("wss://db.example:443/", "wss://db.example:443"),
        ("ws://127.0.0.1:8080", "ws://127.0.0.1:8080"),
        ("https://db.example", None),
        ("http://127.0.0.1:8080", None),
    ],
)
def test_libsql_wss_and_ws_urls_are_checked_over_the_websocket(url: str, ws: str | None) -> None:
    assert hrana_ws_url(url) == ws


@pytest.mark.parametrize("url", ["file:local.db", "127.0.0.1:8080", "ftp://h"])
def test_a_url_that_is_no_database_url_says_which_forms_are(url: str) -> None:
    with pytest.raises(UserError, match=r"is not a database URL; use libsql://HOST"):
        hrana_http_url(url)


@pytest.mark.integration
def test_a_reachable_database_with_its_token_passes(server: LocalTurso) -> None:
    check_database(server.http_url, TOKEN)


@pytest.mark.integration
def test_a_wrong_token_says_to_set_turso_auth_token(server: LocalTurso) -> None:
    with pytest.raises(UserError, match=r"refused the credentials \(HTTP 401\); set TURSO_AUTH"):
        check_database(server.http_url, "wrong")


def test_an_unreachable_database_says_to_check_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(UserError, match=r"cannot reach TURSO_DATABASE_URL=.*; check TURSO_DATA"):
        check_database(url, None)


@pytest.mark.integration
def test_a_reachable_database_passes_over_the_websocket(server: LocalTurso) -> None:
    check_database(server.ws_url, TOKEN)


@pytest.mark.integration
def test_a_wrong_token_over_the_websocket_is_the_hello_error(server: LocalTurso) -> None:
    with pytest.raises(UserError, match=r"refused the credentials \(hello_error: .*set TURSO_AUTH"):
        check_database(server.ws_url, "wrong")


def test_an_unreachable_websocket_says_to_check_the_url() -> None:
    url = f"ws://127.0.0.1:{free_port()}"

    with pytest.raises(UserError, match=r"cannot reach TURSO_DATABASE_URL=ws://.*; check"):
        check_database(url, None)


class _HttpOnlyHrana(BaseHTTPRequestHandler):
    """Answers Hrana over HTTP but refuses every WebSocket upgrade, as an overloaded server."""

    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"baton": null, "results": []}')

    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def http_only() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HttpOnlyHrana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_upgrade_fails_a_ws_url_even_where_http_answers(http_only: str) -> None:
    check_database(f"http://{http_only}", None)  # what the app would never use for ws://
    with pytest.raises(UserError, match=r"refused the WebSocket upgrade \(HTTP 503\)"):
        check_database(f"ws://{http_only}", None)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    tmp = tmp_path_factory.mktemp("database-check-tls")
    tls = TlsFiles.from_settings(HarnessSettings())
    with local_turso(tmp / "db.sqlite", tmp / "logs", auth_token=TOKEN, tls=tls) as running:
        yield running


@pytest.mark.integration
def test_a_libsql_url_to_the_local_tls_server_passes_with_ssl_cert_file(
    tls_server: LocalTurso, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_server.tls is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.tls.cert))
    check_database(f"libsql://{tls_server.host}:{tls_server.port}", TOKEN)


@pytest.mark.integration
def test_an_untrusted_certificate_names_ssl_cert_file(
    tls_server: LocalTurso, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(UserError, match=r"TLS certificate is not trusted .*set SSL_CERT_FILE"):
        check_database(f"libsql://{tls_server.host}:{tls_server.port}", TOKEN)
