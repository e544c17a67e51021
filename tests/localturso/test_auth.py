"""Auth by opaque token or EdDSA JWT, over HTTP (401) and the WebSocket hello (hello_error)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import libsql_client
import pytest

from harness.auth import JwtAuth
from harness.processes import ProcessStartError
from harness.stack import LocalTurso, local_turso, local_turso_process

pytestmark = pytest.mark.integration

TOKEN = f"test-token-{secrets.token_hex(8)}"
JWT = JwtAuth.generate()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    """Both kinds configured: the opaque TOKEN and JWTs signed with JWT's key."""
    tmp = tmp_path_factory.mktemp("auth")
    with local_turso(":memory:", tmp / "logs", auth_token=TOKEN, jwt_auth=JWT) as server:
        yield server


def post_execute(server: LocalTurso, headers: dict[str, str]) -> httpx.Response:
    body = {"stmt": {"sql": "SELECT 1"}}
    return httpx.post(f"{server.http_url}/v1/execute", json=body, headers=headers)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Expected authorization header but none given"),
        (
            {"Authorization": f"Basic {TOKEN}"},
            "The authentication scheme in the `Authorization` HTTP header is not supported",
        ),
        ({"Authorization": "Bearer"}, "Auth string does not conform to '<scheme> <token>' form"),
        ({"Authorization": "Bearer wrong"}, "The JWT is invalid"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "The JWT is invalid"),
    ],
)
def test_http_requests_without_the_token_are_refused(
    secured: LocalTurso, headers: dict[str, str], reason: str
) -> None:
    """sqld's status, body shape and words."""
    response = post_execute(secured, headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": f"Unauthorized: `{reason}`"}


def test_every_http_path_but_health_needs_the_token(secured: LocalTurso) -> None:
    assert httpx.get(f"{secured.http_url}/health").status_code == 200
    for path in ("/v2", "/version"):
        assert httpx.get(f"{secured.http_url}{path}").status_code == 401
    response = httpx.post(f"{secured.http_url}/v3/pipeline", json={"baton": None, "requests": []})
    assert response.status_code == 401


def test_http_with_the_token_is_accepted(secured: LocalTurso) -> None:
    response = post_execute(secured, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_client_with_the_token_works(secured: LocalTurso, scheme: str) -> None:
    url = secured.http_url if scheme == "http" else secured.ws_url
    async with libsql_client.create_client(url, auth_token=TOKEN) as client:
        assert (await client.execute("SELECT 42")).rows[0][0] == 42


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_client_with_a_wrong_token_gets_libsql_error(
    secured: LocalTurso, scheme: str
) -> None:
    url = secured.http_url if scheme == "http" else secured.ws_url
    async with libsql_client.create_client(url, auth_token="nope") as client:
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.execute("SELECT 1")
    # Over HTTP the client reports sqld's 401 as a server error with the status only.
    assert caught.value.code == ("SERVER_ERROR" if scheme == "http" else "AUTH_JWT_INVALID")


async def test_ws_hello_error_then_close(secured: LocalTurso) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(secured.ws_url, protocols=["hrana3"]) as ws,
    ):
        await ws.send_json({"type": "hello", "jwt": None})
        await ws.send_json(
            {"type": "request", "request_id": 1, "request": {"type": "open_stream", "stream_id": 1}}
        )
        reply = await ws.receive_json(timeout=5)
        assert reply["type"] == "hello_error"
        assert reply["error"]["code"] == "AUTH_HEADER_NOT_FOUND"
        closing = await ws.receive(timeout=5)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


def test_token_never_reaches_the_log(secured: LocalTurso) -> None:
    post_execute(secured, {"Authorization": "Bearer wrong"})
    log_text = Path(secured.process.log_path).read_text()
    assert TOKEN not in log_text


def jwt_signed(claims: dict[str, object], auth: JwtAuth = JWT) -> str:
    """A token signed with the key behind `auth` (its private half, for expiry tests)."""
    return auth.sign(claims)


@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_a_jwt_signed_with_the_configured_key_is_accepted(
    secured: LocalTurso, scheme: str
) -> None:
    url = secured.http_url if scheme == "http" else secured.ws_url
    async with libsql_client.create_client(url, auth_token=JWT.token) as client:
        assert (await client.execute("SELECT 7")).rows[0][0] == 7


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (JwtAuth.generate().token, "The JWT is invalid"),  # signed with another key
        (jwt_signed({"a": "rw", "exp": 1}), "The JWT has expired"),  # in 1970
        (JWT.token[:-4] + "AAAA", "The JWT is invalid"),  # signature tampered with
    ],
    ids=["other-key", "expired", "tampered"],
)
@pytest.mark.parametrize("scheme", ["http", "ws"])
async def test_bad_jwts_are_refused(
    secured: LocalTurso, token: str, reason: str, scheme: str
) -> None:
    url = secured.http_url if scheme == "http" else secured.ws_url
    async with libsql_client.create_client(url, auth_token=token) as client:
        with pytest.raises(libsql_client.LibsqlError) as caught:
            await client.execute("SELECT 1")
    assert (reason if scheme == "ws" else "HTTP status 401") in str(caught.value)


def test_a_key_file_that_is_no_ed25519_key_stops_the_start_in_one_line(
    tmp_path: Path, log_dir: Path
) -> None:
    bad_key = tmp_path / "key.pem"
    bad_key.write_text("not a key")
    server = local_turso_process(
        ":memory:", log_dir, extra_args=["--auth-jwt-key-file", str(bad_key)]
    )

    with pytest.raises(ProcessStartError, match="exited during start") as caught:
        server.process.start()

    assert "Traceback" not in str(caught.value)
    assert "localturso:" in str(caught.value)
