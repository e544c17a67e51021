"""Malformed input gets a clear Hrana error (or WebSocket close code), never a crash or hang."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from harness.stack import LocalTurso, local_turso

pytestmark = pytest.mark.integration

BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTurso]:
    """A server with a small body limit and room for one request at a time."""
    tmp = tmp_path_factory.mktemp("strict")
    args = ["--max-body-bytes", str(BODY_LIMIT), "--max-concurrent-requests", "1"]
    args += ["--retry-after-s", "2"]
    with local_turso(tmp / "db.sqlite", tmp / "logs", extra_args=args) as server:
        yield server


def assert_healthy(server: LocalTurso) -> None:
    assert httpx.get(f"{server.http_url}/health").status_code == 200
    assert server.process.running


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/v1/execute", b"{not json", "Cannot deserialize client message from JSON"),
        ("/v1/execute", b"[]", "Cannot deserialize client message from JSON"),
        ("/v1/execute", b'{"stmt": {"sql": 5}}', "Cannot deserialize client message from JSON"),
        (
            "/v1/execute",
            b'{"stmt": {"sql": "SELECT ?", "args": [{"type": "integer", "value": "x"}]}}',
            "Cannot deserialize client message from JSON",
        ),
        (
            "/v1/execute",
            b'{"stmt": {"sql": "SELECT ?", "args": [{"type": "blob", "base64": "@@"}]}}',
            "Cannot deserialize client message from JSON",
        ),
        (
            "/v1/execute",
            b'{"stmt": {"sql": "SELECT ?", "args": [{"type": "date"}]}}',
            "Value type not recognized",
        ),
        ("/v1/execute", b'{"stmt": {"sql_id": 1}}', "only supported in protocol version"),
        (
            "/v1/batch",
            b'{"batch": {"steps": [{"stmt": {"sql": "SELECT 1"}, '
            b'"condition": {"type": "ok", "step": 0}}]}}',
            "step",
        ),
        (
            "/v3/pipeline",
            b'{"baton": null, "requests": [{"type": "launch"}]}',
            "unknown variant `launch`",
        ),
        (
            "/v3/pipeline",
            b'{"baton": 7, "requests": []}',
            "Cannot deserialize client message from JSON",
        ),
        ("/v3/pipeline", b'{"baton": null}', "Cannot deserialize client message from JSON"),
        (
            "/v2/pipeline",
            b'{"baton": null, "requests": [{"type": "execute", "stmt": {}}]}',
            "Either `sql` or `sql_id` are required",
        ),
    ],
)
def test_malformed_http_bodies_get_400(
    server: LocalTurso, path: str, body: bytes, words: str
) -> None:
    """As sqld: 400 with the message as plain text."""
    response = httpx.post(f"{server.http_url}{path}", content=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert words in response.text
    assert "Traceback" not in response.text
    assert_healthy(server)


def test_v1_statement_errors_use_sqld_statuses(server: LocalTurso) -> None:
    def status(sql: str, **extra: Any) -> int:
        stmt = {"sql": sql, **extra}
        return httpx.post(f"{server.http_url}/v1/execute", json={"stmt": stmt}).status_code

    assert status("SELEC 1") == 400
    assert status("SELECT * FROM nowhere") == 500
    both = {"args": [{"type": "null"}], "named_args": [{"name": "a", "value": {"type": "null"}}]}
    assert status("SELECT ?", **both) == 501


def test_oversized_body_gets_413(strict: LocalTurso) -> None:
    big = {"stmt": {"sql": "SELECT ?", "args": [{"type": "text", "value": "x" * BODY_LIMIT}]}}
    response = httpx.post(f"{strict.http_url}/v1/execute", json=big)
    assert response.status_code == 413
    assert response.json() == {
        "error": f"Request body is larger than the limit of {BODY_LIMIT} bytes"
    }
    assert_healthy(strict)


async def test_overload_gets_429(strict: LocalTurso) -> None:
    # A request whose body is still arriving holds the only slot for as long as we like, so
    # the test needs no slow query and no race: quick requests are refused until it ends.
    body = json.dumps({"stmt": {"sql": "SELECT 1"}}).encode()
    reader, writer = await asyncio.open_connection(strict.host, strict.port)
    head = f"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body[:5])
    await writer.drain()
    try:
        async with httpx.AsyncClient(base_url=strict.http_url, timeout=30) as client:
            refused = await first_refusal(client)
        writer.write(body[5:])
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()

    assert refused.json() == {"error": "Too many concurrent requests"}
    assert refused.headers["retry-after"] == "2"
    assert status_line.startswith(b"HTTP/1.1 200")
    assert_healthy(strict)


async def first_refusal(client: httpx.AsyncClient, attempts: int = 3000) -> httpx.Response:
    """Quick requests until one is refused (the held request has been admitted by then)."""
    for _ in range(attempts):
        response = await client.post("/v1/execute", json={"stmt": {"sql": "SELECT 1"}})
        if response.status_code == 429:
            return response
    pytest.fail(f"none of {attempts} requests was refused while the slot was held")


async def ws_exchange(
    server: LocalTurso, messages: list[Any], protocol: str = "hrana3"
) -> tuple[list[Any], int | None]:
    """Send messages, collect replies until the server closes; returns (replies, close code)."""
    replies = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url, protocols=[protocol]) as ws,
    ):
        for message in messages:
            if isinstance(message, bytes):
                await ws.send_bytes(message)
            elif isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_json(message)
        while True:
            reply = await ws.receive(timeout=5)
            if reply.type != aiohttp.WSMsgType.TEXT:
                return replies, ws.close_code
            replies.append(reply.json())


HELLO = {"type": "hello", "jwt": None}


@pytest.mark.parametrize(
    ("messages", "close_code"),
    [
        (["{oops"], 1007),
        ([b"\x00\x01"], 1003),
        (
            [
                {
                    "type": "request",
                    "request_id": 1,
                    "request": {"type": "open_stream", "stream_id": 1},
                }
            ],
            1008,
        ),
        ([HELLO, {"type": "shout"}], 1008),
        ([HELLO, {"type": "request", "request_id": 1, "request": {"type": "dance"}}], 1008),
        (
            [
                HELLO,
                {
                    "type": "request",
                    "request_id": 1,
                    "request": {"type": "execute", "stream_id": 9, "stmt": {"sql": "SELECT 1"}},
                },
            ],
            1008,
        ),
    ],
)
async def test_ws_protocol_violations_close_with_a_code(
    server: LocalTurso, messages: list[Any], close_code: int
) -> None:
    _, code = await ws_exchange(server, messages)
    assert code == close_code
    assert_healthy(server)


async def test_ws_statement_errors_are_responses(server: LocalTurso) -> None:
    open_stream = {"type": "open_stream", "stream_id": 1}
    bad = {"type": "execute", "stream_id": 1, "stmt": {"sql": "SELEC 1"}}
    good = {"type": "execute", "stream_id": 1, "stmt": {"sql": "SELECT 1"}}
    close = {"type": "close_stream", "stream_id": 1}
    messages = [HELLO] + [
        {"type": "request", "request_id": i, "request": r}
        for i, r in enumerate([open_stream, bad, good, close])
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url, protocols=["hrana2"]) as ws,
    ):
        assert ws.protocol == "hrana2"
        for message in messages:
            await ws.send_json(message)
        replies = [await ws.receive_json(timeout=5) for _ in range(5)]
    assert replies[0] == {"type": "hello_ok"}
    assert [r["request_id"] for r in replies[1:]] == [0, 1, 2, 3]
    assert replies[2]["type"] == "response_error"
    assert replies[2]["error"]["code"] == "SQL_PARSE_ERROR"
    assert replies[3]["response"]["result"]["rows"] == [[{"type": "integer", "value": "1"}]]


async def test_ws_hrana1_refuses_hrana2_requests(server: LocalTurso) -> None:
    store = {
        "type": "request",
        "request_id": 1,
        "request": {"type": "store_sql", "sql_id": 1, "sql": "SELECT 1"},
    }
    replies, code = await ws_exchange(server, [HELLO, store], protocol="hrana1")
    assert replies == [{"type": "hello_ok"}]
    assert code == 1008
