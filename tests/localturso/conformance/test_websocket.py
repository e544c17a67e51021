"""Hrana over WebSocket (hrana1, hrana2, hrana3), differentially: the same messages, the same
replies, the same way of closing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from harness.stack import DatabaseServer
from tests.localturso.conformance.compare import normalize
from tests.localturso.conformance.conftest import Pair

pytestmark = pytest.mark.integration

REPLY_TIMEOUT_S = 10.0


def request(request_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "request", "request_id": request_id, "request": body}


def execute(stream_id: int, sql: str, **stmt: Any) -> dict[str, Any]:
    return {"type": "execute", "stream_id": stream_id, "stmt": {"sql": sql, **stmt}}


async def exchange(
    server: DatabaseServer,
    protocol: str,
    jwt: str | None,
    messages: list[dict[str, Any]],
    *,
    pipelined: bool = True,
) -> list[Any]:
    """Hello, then `messages`; every reply in order, then how the socket ended.

    Not pipelined, each request's reply is read before the next is sent.
    """
    replies: list[Any] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.ws_url, protocols=[protocol]) as ws,
    ):
        replies.append(ws.protocol)
        await ws.send_json({"type": "hello", "jwt": jwt})
        if pipelined:
            for message in messages:
                await ws.send_json(message)
            expected = 1 + sum(1 for m in messages if m.get("type") == "request")
            while len(replies) <= expected and not _closed(replies):
                replies.append(await _next_reply(ws))
        else:
            replies.append(await _next_reply(ws))
            for message in messages:
                if _closed(replies):
                    break
                await ws.send_json(message)
                if message.get("type") == "request":
                    replies.append(await _next_reply(ws))
    # Replies to requests on different streams may come in either order: sort by request id.
    in_order = sorted(replies[1:], key=lambda r: r.get("request_id", -1) if "type" in r else 1e9)
    return [replies[0], *in_order]


async def _next_reply(ws: aiohttp.ClientWebSocketResponse) -> Any:
    reply = await ws.receive(timeout=REPLY_TIMEOUT_S)
    if reply.type != aiohttp.WSMsgType.TEXT:
        # Closed without a reply. How is not compared: the local server sends a close
        # frame (1000 or 1008 with the reason); sqld's protocol-error closes reach aiohttp
        # as an abnormal closure (1006) or a malformed frame (1002).
        return {"closed": True, "normal": ws.close_code == 1000}
    return normalize(json.loads(reply.data))


def _closed(replies: list[Any]) -> bool:
    return isinstance(replies[-1], dict) and replies[-1].get("closed") is True


def same_on_both(
    pair: Pair,
    protocol: str,
    messages: list[dict[str, Any]],
    jwt: str | None = "valid",
    *,
    pipelined: bool = True,
) -> list[Any]:
    token = pair.auth.token if jwt == "valid" else jwt

    async def both() -> tuple[list[Any], list[Any]]:
        real, local = await asyncio.gather(
            exchange(pair.sqld, protocol, token, messages, pipelined=pipelined),
            exchange(pair.local, protocol, token, messages, pipelined=pipelined),
        )
        return real, local

    real, local = asyncio.run(both())
    assert local == real
    return real


def stream_session(table: str, *, version: int) -> list[dict[str, Any]]:
    steps = [
        {
            "stmt": {
                "sql": f"INSERT INTO {table} VALUES (?)",
                "args": [{"type": "integer", "value": "2"}],
            }
        },
        {"stmt": {"sql": "SELECT * FROM nope"}},
        {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "error", "step": 1}},
    ]
    messages = [
        request(1, {"type": "open_stream", "stream_id": 1}),
        request(2, execute(1, f"CREATE TABLE {table} (a)")),
        request(3, execute(1, f"INSERT INTO {table} VALUES (1)")),
        request(4, execute(1, f"SELECT a, 'x', 1.5, x'00', NULL FROM {table}")),
        request(5, execute(1, "SELEC 1")),
        request(6, {"type": "batch", "stream_id": 1, "batch": {"steps": steps}}),
        request(7, execute(1, "INSERT OR IGNORE INTO " + table + " (rowid, a) VALUES (1, 0)")),
    ]
    if version >= 2:
        messages += [
            request(8, {"type": "sequence", "stream_id": 1, "sql": "SELECT 1; SELECT 2"}),
            request(9, {"type": "describe", "stream_id": 1, "sql": f"SELECT a FROM {table}"}),
            request(10, {"type": "store_sql", "sql_id": 5, "sql": "SELECT 5"}),
            request(11, {"type": "execute", "stream_id": 1, "stmt": {"sql_id": 5}}),
            request(12, {"type": "close_sql", "sql_id": 5}),
        ]
    if version >= 3:
        messages += [
            request(13, {"type": "get_autocommit", "stream_id": 1}),
            request(
                14,
                {
                    "type": "open_cursor",
                    "stream_id": 1,
                    "cursor_id": 1,
                    "batch": {"steps": [{"stmt": {"sql": f"SELECT a FROM {table}"}}]},
                },
            ),
            request(15, {"type": "fetch_cursor", "cursor_id": 1, "max_count": 2}),
            request(16, {"type": "fetch_cursor", "cursor_id": 1, "max_count": 10}),
            request(17, {"type": "close_cursor", "cursor_id": 1}),
        ]
    messages.append(request(99, {"type": "close_stream", "stream_id": 1}))
    return messages


@pytest.mark.parametrize(("protocol", "version"), [("hrana1", 1), ("hrana2", 2), ("hrana3", 3)])
def test_a_stream_session(pair: Pair, table: str, protocol: str, version: int) -> None:
    same_on_both(pair, protocol, stream_session(f"{table}_{protocol}", version=version))


@pytest.mark.parametrize("jwt", [None, "garbage"], ids=["missing", "garbage"])
def test_hello_errors(pair: Pair, jwt: str | None) -> None:
    same_on_both(pair, "hrana3", [], jwt=jwt)


def test_expired_jwt_in_hello(pair: Pair) -> None:
    same_on_both(pair, "hrana3", [], jwt=pair.auth.sign({"exp": 1}))


@pytest.mark.parametrize(
    "messages",
    [
        [request(1, execute(7, "SELECT 1"))],  # no such stream
        [request(1, {"type": "nope"})],
        [{"type": "nope"}],
        [request(1, {"type": "get_autocommit", "stream_id": 1})],  # hrana2 lacks it
        [
            request(1, {"type": "open_stream", "stream_id": 1}),
            request(2, {"type": "open_stream", "stream_id": 1}),
        ],
    ],
    ids=["unknown stream", "unknown request", "unknown message", "too new", "stream twice"],
)
def test_protocol_errors(pair: Pair, messages: list[dict[str, Any]]) -> None:
    # One at a time: sqld may close on a protocol error before it has sent the replies to
    # the requests ahead of it (seen under a busy loop), so pipelined the outcome is a race.
    same_on_both(pair, "hrana2", messages, pipelined=False)
