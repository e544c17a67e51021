"""An external database is asked for `SELECT 1` first; each way it can be wrong is one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import UserError
from harness.database import check_database, hrana_http_url
from harness.processes import free_port
from harness.stack import LocalTurso, local_turso

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
